"""The exact-total counter reads the whoosh3 codec's posting blocks directly.

These tests fail loudly when an upgrade of whoosh-reloaded changes those
internals, before totals silently go wrong. Real Whoosh index in a temp dir.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh.codec.whoosh3 import W3LeafMatcher

from wiki.pagetext import PageText
from wiki.search import SearchIndex
from wiki.search.counting import count_matches

PAGES = 400  # "klant" on 2/3 of them: a posting list of several blocks


@pytest.fixture
def index(tmp_path: Path) -> SearchIndex:
    index = SearchIndex(tmp_path / "index")
    with index.update("c1", fresh=True) as batch:
        for n in range(PAGES):
            word = "klanten" if n % 3 else "bewoners"
            batch.put(PageText(f"p{n:03d}", f"Pagina {n}", "", f"De {word} zijn tevreden.",
                               ("nl",), f"blob{n}"))
    with index.update("c2") as batch:  # a second segment, and deleted documents in the first
        for n in range(0, 30, 3):
            batch.put(PageText(f"p{n:03d}", f"Pagina {n}", "", "De klanten zijn terug.",
                               ("nl",), f"blob{n}b"))
    return index


def test_codec_matcher_has_the_block_fields_the_counter_reads(index: SearchIndex) -> None:
    with index._searcher() as searcher:
        segment_reader = searcher.reader().leaf_readers()[0][0]
        matcher = segment_reader.postings("body_nl", "klant")
        matcher = getattr(matcher, "child", matcher)  # a FilterMatcher hides deleted documents
        assert isinstance(matcher, W3LeafMatcher), type(matcher)
        for method in ("_read_ids", "_next_block", "is_active"):
            assert callable(getattr(matcher, method, None)), method
        matcher._read_ids()
        assert isinstance(matcher._i, int) and len(matcher._ids) > 1


def test_block_count_agrees_with_whooshs_own_count(index: SearchIndex) -> None:
    queries = {"klant": PAGES * 2 // 3 + 10, "bewoners": PAGES // 3 + 1 - 10}
    parser = index._parser(("nl",))
    with index._searcher() as searcher:
        for text, expected in queries.items():
            query = parser.parse(text)
            whoosh_total = len(searcher.search(query, limit=None))
            assert count_matches(searcher, query) == whoosh_total == expected, text
