"""Dutch word forms: a search for one form finds the others (lemma, then stem), and words
that only share letters stay apart. Lists: dutch_inflections.tsv, dutch_unrelated.tsv."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.repository import Person
from wiki.config import Settings
from wiki.datadir import Services, open_data_dir
from wiki.search.analysis import stemmer

HERE = Path(__file__).parent
ANNA = Person("Anna de Vries", "anna@example.org")
RECALL_TARGET = 0.95


def pairs(name: str) -> list[tuple[str, str]]:
    rows = (line.rstrip("\n").split("\t") for line in (HERE / name).read_text("utf-8")
            .splitlines() if line and not line.startswith("#"))
    return [(a, b) for a, b in rows]


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return open_data_dir(Settings.load({"data_dir": str(tmp_path / "data")}))


def test_inflection_list_is_long_enough_to_mean_something() -> None:
    assert len(pairs("dutch_inflections.tsv")) >= 200
    assert len(pairs("dutch_unrelated.tsv")) >= 30


def test_at_least_95_percent_of_dutch_word_forms_match_each_other() -> None:
    stem = stemmer("nl")
    found = pairs("dutch_inflections.tsv")
    missed = [(a, b) for a, b in found if stem(a.lower()) != stem(b.lower())]
    recall = 1 - len(missed) / len(found)
    print(f"Dutch recall: {recall:.1%} of {len(found)} pairs; missed {missed}")
    assert recall >= RECALL_TARGET, missed


def test_words_that_only_share_letters_do_not_match() -> None:
    stem = stemmer("nl")
    wrong = [(a, b) for a, b in pairs("dutch_unrelated.tsv") if stem(a) == stem(b)]
    assert wrong == []


@pytest.mark.parametrize(("text", "query"), [
    ("De coöperaties in de regio groeien.", "coöperatie"),
    ("Wij werkten samen met de gemeente.", "werken"),
    ("Vier huishoudens kregen een subsidie.", "subsidies"),
    ("De windmolens draaien en de wijk bereikt het doel.", "windmolen"),
    ("De windmolens draaien en de wijk bereikt het doel.", "bereiken"),
    ("De buurt groeit elk jaar verder uit.", "groeien"),
    ("Zij liepen langs alle klantreizen van de bewoners.", "klantreis"),
    ("Het huishouden van de familie is klein.", "huishoudens"),
])
def test_dutch_page_is_found_by_another_form_of_its_word(services: Services, text: str,
                                                         query: str) -> None:
    services.pages.save("Verslag", f"# Verslag\n\n{text} Dit is een verslag van de buurt.\n",
                        None, ANNA)
    services.indexer.catch_up()
    assert [hit.path for hit in services.indexer.search(query).hits] == ["Verslag"]


def test_unrelated_word_does_not_find_the_page(services: Services) -> None:
    services.pages.save("Bank", "# Bank\n\nDe bank staat in de tuin van het huis.\n", None, ANNA)
    services.indexer.catch_up()
    assert services.indexer.search("banket").total == 0
    assert services.indexer.search("banken").total == 1
