"""What a search answers: plain results, and hits made from Whoosh's with their snippets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from math import ceil
from typing import Any

from whoosh.query import Query

from wiki.pagetext import LANGUAGES
from wiki.render import sanitize
from wiki.search.analysis import FIELD_BOOSTS, PHRASE_KINDS, stemmer
from wiki.search.snippets import matches, snippet


class IndexUnavailable(Exception):
    """The index is missing or unreadable; it must be rebuilt from git."""


@dataclass(frozen=True)
class SearchHit:
    """One page found by a search, with a sanitised HTML snippet."""

    path: str
    title: str
    snippet: str
    score: float
    author: str
    date: datetime | None
    email: str = ""


@dataclass(frozen=True)
class SearchResults:
    """One page of results for a query.

    `fresh` is False while the index is behind the head or being rebuilt, so
    an empty answer then does not claim that nothing matches.
    """

    query: str
    total: int
    page: int
    per_page: int
    hits: tuple[SearchHit, ...] = ()
    suggestion: str | None = None
    fresh: bool = True

    @property
    def pages(self) -> int:
        """Number of result pages."""
        return max(1, ceil(self.total / self.per_page))


def to_hit(hit: Any, wanted: dict[str, set[str]]) -> SearchHit:
    """A Whoosh hit as a SearchHit, its snippet marking the stems in `wanted`."""
    text: str = hit.get("text") or ""
    spans: list[tuple[int, int]] = []
    for lang in hit.get("languages", ()):
        if wanted.get(lang):
            spans.extend(matches(text, stemmer(lang), wanted[lang]))
    stamp = hit.get("date")
    return SearchHit(
        path=hit["path"],
        title=hit.get("title") or hit["path"],
        snippet=sanitize(snippet(text, sorted(set(spans)))),
        score=round(float(hit.score or 0.0), 4),
        author=hit.get("author") or "",
        email=hit.get("author_email") or "",
        date=datetime.fromtimestamp(stamp, UTC) if stamp else None,
    )


def matched_stems(query: Query, reader: Any) -> dict[str, set[str]]:
    """The indexed stems the query matches, per language (prefixes and fuzzy expanded)."""
    wanted: dict[str, set[str]] = {lang: set() for lang in LANGUAGES}
    # Not Query.existing_terms: it reuses its `fieldname` argument as a loop variable.
    for leaf in query.leaves():
        for field, term in leaf.expanded_terms(reader, phrases=True):
            kind, _, lang = field.rpartition("_")
            if (kind in FIELD_BOOSTS or kind in PHRASE_KINDS) and lang in wanted:
                wanted[lang].add(term.decode("utf-8") if isinstance(term, bytes) else term)
    return wanted
