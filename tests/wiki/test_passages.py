"""Passage anchors: made from a selection, moved by later edits, lost when their text changes."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from tests.account_support import insert_member
from wiki.db import Database
from wiki.dbschema import comments
from wiki.errors import InvalidInput
from wiki.passages import Anchor, PassagePlaces, anchor_at, locate, occurrence_of, plain, reanchor

TEXT = ("# Hoofdstuk één\n\nDe eerste alinea gaat over het probleem.\n\n"
        "Wij stellen voor dat de café-eigenaren 👍🏽 meedoen. Dat is één idee.\n")
SENTENCE = "Wij stellen voor dat de café-eigenaren 👍🏽 meedoen."


def anchor_on(text: str, quote: str, revision: str = "a" * 40, nth: int = 0) -> Anchor:
    start = -1
    for _ in range(nth + 1):
        start = text.index(quote, start + 1)
    return anchor_at(text, revision, start, start + len(quote))


def test_positions_are_code_points_with_diacritics_and_emoji() -> None:
    start, end = locate(TEXT, SENTENCE)
    assert TEXT[start:end] == SENTENCE
    assert end - start == len(SENTENCE)  # 👍🏽 is two code points, not four UTF-16 units
    anchor = anchor_at(TEXT, "a" * 40, start, end)
    assert anchor.quote == SENTENCE and anchor.before.endswith("probleem.\n\n")


def test_a_selection_across_inline_markup_finds_its_source() -> None:
    text = "Een **vet** woord en een [link](https://example.org) hier.\n"
    start, end = locate(text, "Een vet woord en een link hier")
    assert text[start:end] == "Een **vet** woord en een [link](https://example.org) hier"
    assert plain(text[start:end]) == "Een vet woord en een link hier"


def test_the_chosen_occurrence_of_a_repeated_quote_is_anchored() -> None:
    text = "Ja. Nee. Ja. Misschien.\n"
    assert locate(text, "Ja.", 1) == (9, 12)
    assert locate(text, "Ja.", 7) == (9, 12)  # more than there are: the last one
    assert occurrence_of(text, "Ja.", 9) == 1


def test_a_selection_not_in_the_page_is_refused() -> None:
    with pytest.raises(InvalidInput):
        locate(TEXT, "iets wat er niet staat")
    with pytest.raises(InvalidInput):
        anchor_at(TEXT, "a" * 40, 5, 5)
    with pytest.raises(InvalidInput):
        anchor_at(TEXT, "a" * 40, 0, len(TEXT) + 1)


def test_an_edit_above_moves_the_anchor_along() -> None:
    anchor = anchor_on(TEXT, SENTENCE)
    new = TEXT.replace("De eerste alinea", "De allereerste, veel langere alinea")
    start, end = reanchor(anchor, TEXT, new) or (0, 0)
    assert new[start:end] == SENTENCE


def test_an_edit_elsewhere_in_the_same_paragraph_keeps_the_anchor() -> None:
    anchor = anchor_on(TEXT, SENTENCE)
    new = TEXT.replace("Dat is één idee.", "Dat is één goed idee, zeker 🎉.")
    start, end = reanchor(anchor, TEXT, new) or (0, 0)
    assert new[start:end] == SENTENCE


def test_an_edit_inside_the_quote_leaves_it_on_an_earlier_version() -> None:
    anchor = anchor_on(TEXT, SENTENCE)
    new = TEXT.replace("café-eigenaren", "cafébazen")
    assert reanchor(anchor, TEXT, new) is None
    assert reanchor(anchor, TEXT, TEXT.replace(SENTENCE + " ", "")) is None


def test_a_repeated_quote_stays_on_its_own_occurrence() -> None:
    text = "Ja.\n\nTussen.\n\nJa.\n"
    second = anchor_on(text, "Ja.", nth=1)
    new = "Nieuw begin.\n\n" + text
    assert reanchor(second, text, new) == (new.rindex("Ja."), new.rindex("Ja.") + 3)
    first = anchor_on(text, "Ja.")
    changed = text.replace("Ja.\n\nTussen.", "Nee.\n\nTussen.")
    assert reanchor(first, text, changed) is None  # not jumping to the other "Ja."


def test_a_short_quote_does_not_jump_to_another_word_in_a_rewritten_line() -> None:
    text = "Het plan is goed en de prijs is laag.\n"
    anchor = anchor_on(text, "is", nth=1)
    assert reanchor(anchor, text, "Het plan is slecht en de kosten zijn hoog.\n") is None


def test_places_are_cached_per_comment_and_blob(database: Database) -> None:
    conn = database.connect()
    insert_member(conn, "ann", id=1, email="a@x", created=0)
    conn.execute(insert(comments).values(id=7, page="P", user_id=1, body="x", created=0))
    anchor = anchor_on(TEXT, SENTENCE)
    new = "Boven.\n\n" + TEXT
    reads: list[str] = []

    def text_at(revision: str) -> str:
        reads.append(revision)
        return TEXT

    places = PassagePlaces(database)
    first = places.places(new, "b1", {7: anchor}, text_at)[7]
    again = places.places(new, "b1", {7: anchor}, text_at)[7]
    assert first == again and new[first.start or 0:first.end or 0] == SENTENCE
    assert reads == [anchor.revision]  # the second view read nothing from git
    gone = places.places(new.replace("meedoen", "helpen"), "b2", {7: anchor}, text_at)[7]
    assert gone.earlier
