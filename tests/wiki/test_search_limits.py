"""Whatever people type, search answers quickly, with results or a clear InvalidInput.

Real git, real Whoosh, temp dirs.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from storage.repository import Person
from wiki.config import Settings
from wiki.datadir import Services, open_data_dir
from wiki.errors import InvalidInput

ANNA = Person("Anna de Vries", "anna@example.org")
AUTHOR = Person("B. de Vries", "b@example.org")
LONG_WORD = "klant" * 60  # 300 letters
MISSPELLED = [f"kz{a}{b}q" for a in "abcdefg" for b in "hijklmn"][:50]  # 50 words, 300 letters
ODD_QUERIES = ["NOT NOT a", "NOT NOT NOT klanten", '"klanten zijn', "(klanten", "klanten)",
               "title:", "author:", "path:", "AND", "OR", "NOT", "klanten AND", "a OR OR b",
               "((( )", "klant~9", "~", "^", "*", "[a TO", "{a TO}", "klanten^x", "'"]


@pytest.fixture
def services(tmp_path: Path) -> Services:
    found = open_data_dir(Settings.load({"data_dir": str(tmp_path / "data")}))
    pick = random.Random(7)
    words = {"k" + "".join(pick.choice("aeioulnrst") for _ in range(pick.randint(3, 7)))
             for _ in range(6000)}  # thousands of short indexed words near every k-typo
    found.pages.save("klanten", "# Onze klanten\n\nDe klanten zijn tevreden.\n", None, AUTHOR)
    found.pages.save("woorden", "# Woorden\n\n" + " ".join(sorted(words)) + "\n", None, ANNA)
    found.indexer.catch_up()
    found.indexer.search("klanten")  # warm: parser and searcher built
    return found


def timed_total(services: Services, query: str) -> tuple[float, int]:
    started = time.perf_counter()
    results = services.indexer.search(query)
    return time.perf_counter() - started, results.total


@pytest.mark.parametrize("query", [f"{LONG_WORD}~", f"{LONG_WORD}~2", LONG_WORD,
                                   f"title:{LONG_WORD}", f"{LONG_WORD[:-1]}x~2"])
def test_a_300_letter_word_answers_well_under_a_second(services: Services, query: str) -> None:
    seconds, total = timed_total(services, query)
    assert seconds < 0.5 and total == 0


def test_300_letters_of_misspelled_words_answer_well_under_a_second(services: Services) -> None:
    seconds, total = timed_total(services, " ".join(MISSPELLED))
    assert seconds < 0.5 and total == 0


def test_ten_fuzzy_words_answer_well_under_a_second(services: Services) -> None:
    seconds, total = timed_total(services, " OR ".join(f"{w}~2" for w in MISSPELLED[:10]))
    assert seconds < 0.5 and total == 2  # kzanq~2 reaches klant, the others k-words


def test_more_than_ten_fuzzy_words_are_refused(services: Services) -> None:
    with pytest.raises(InvalidInput, match="at most 10 different fuzzy words"):
        services.indexer.search(" ".join(f"{w}~" for w in MISSPELLED[:11]))


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_odd_queries_answer_results_or_invalid_input(services: Services, query: str) -> None:
    try:
        results = services.indexer.search(query)
    except InvalidInput as exc:
        assert str(exc)
    else:
        assert results.total >= 0 and results.fresh


def test_not_not_says_the_search_cannot_be_read(services: Services) -> None:
    with pytest.raises(InvalidInput, match="cannot be read"):
        services.indexer.search("NOT NOT a")


def test_a_field_that_is_not_a_filter_is_refused_by_name(services: Services) -> None:
    with pytest.raises(InvalidInput, match="'text:' is not a search filter"):
        services.indexer.search("text:klanten")


def test_quoted_author_finds_their_pages(services: Services) -> None:
    results = services.indexer.search('author:"B. de Vries"')
    assert [hit.path for hit in results.hits] == ["klanten"]
    assert services.indexer.search('author:"Anna de Vries"').total == 1


def test_fuzzy_edits_are_capped_at_two(services: Services) -> None:
    assert services.indexer.search("klant~9 tevreden").total == 1  # matches as ~2 would


def test_did_you_mean_keeps_a_title_filter_and_corrects_from_titles(services: Services) -> None:
    assert services.indexer.search("title:woordne").suggestion == "title:woorden"


def test_did_you_mean_corrects_an_author_from_author_names(services: Services) -> None:
    assert services.indexer.search("author:vreis").suggestion == "author:vries"


def test_did_you_mean_leaves_path_values_alone(services: Services) -> None:
    assert services.indexer.search("path:klantne").suggestion is None
