"""The index keeps few segments, and how a search walks them does not change its answer.
Real git, real Whoosh, temp dirs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from whoosh import index as whoosh_index
from whoosh.matching import ArrayUnionMatcher

import wiki.search.index as search_index
from storage.repository import Person
from wiki.config import Settings
from wiki.datadir import Services, open_data_dir

ANNA = Person("Anna de Vries", "anna@example.org")
PAGES = [f"Notes {n}" for n in range(6)]


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return open_data_dir(Settings.load({"data_dir": str(tmp_path / "data")}))


def write(services: Services, names: list[str], text: str) -> None:
    for name in names:
        base = services.repo.head() if services.pages.find(name) else None
        services.pages.save(name, f"# {name}\n\n{text}\n", base, ANNA)


def segments(services: Services) -> list[tuple[int, int]]:
    """(documents ever held, live documents) of each segment of the current index."""
    reader = whoosh_index.open_dir(str(services.indexer.index.current_directory())).reader()
    try:
        return [(leaf.doc_count_all(), leaf.doc_count()) for leaf, _ in reader.leaf_readers()]
    finally:
        reader.close()


def test_a_segment_whose_pages_all_changed_is_dropped(services: Services) -> None:
    write(services, PAGES, "The first workshop draft.")
    services.indexer.catch_up()
    write(services, PAGES, "The second workshop draft.")
    services.indexer.catch_up()
    # Whoosh's own policy keeps the first segment, all six pages in it deleted.
    assert all(live > 0 for _, live in segments(services)), segments(services)
    assert sum(live for _, live in segments(services)) == len(services.pages.all_pages())
    assert services.indexer.search("second").total == len(PAGES)
    assert services.indexer.search("first").total == 0


def test_a_segment_of_mostly_changed_pages_is_merged(services: Services) -> None:
    write(services, PAGES, "The first workshop draft.")
    services.indexer.catch_up()
    write(services, PAGES[:4], "The second workshop draft.")
    services.indexer.catch_up()
    assert all(live * 2 >= held for held, live in segments(services)), segments(services)
    assert services.indexer.search("first").total == 2
    assert services.indexer.search("workshop").total == len(PAGES)


def test_a_search_ranks_the_same_however_its_ors_are_walked(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    # Several segments, and words that weigh differently per page and field.
    for round_, names in enumerate((PAGES[:3], PAGES[3:], PAGES[1:2], PAGES[4:5])):
        for n, name in enumerate(names):
            body = " ".join(["klant"] * (n + 1) + ["workshop"] * (round_ + 1))
            write(services, [name], f"## Klanten {n}\n\n{body} in de workshop, klanten.")
        services.indexer.catch_up()
    assert len(segments(services)) > 1

    def answers() -> list[Any]:
        return [[(hit.path, round(hit.score, 9)) for hit in services.indexer.search(q).hits]
                for q in ("klant", "workshop", "klant OR workshop", "klant AND NOT notes",
                          "title:klanten", "klnat~")]

    arrays = []
    real_init = ArrayUnionMatcher.__init__

    def counted(self: Any, *args: Any, **kwargs: Any) -> None:
        arrays.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(ArrayUnionMatcher, "__init__", counted)
    stepped = answers()
    assert not arrays  # no 2,048-slot score array per segment and OR
    monkeypatch.setattr(search_index, "stepped_unions", lambda query: query)
    assert answers() == stepped
    assert arrays  # Whoosh's own choice: the same answers, the slow way
    assert all(stepped[:3]), stepped
