"""Positions in code points, UTF-16 units and UTF-8 bytes, and Yjs deltas read as Steps.

The pycrdt tests use a real Doc: they pin down which unit pycrdt counts in, so an
upgrade that changes it fails here instead of shifting people's text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Text, TextEvent

from wiki.live.folding import Step
from wiki.live.positions import (
    cp_to_utf8,
    cp_to_utf16,
    delta_steps,
    event_delta,
    utf8_to_cp,
    utf16_to_cp,
)

MIXED = "Één café, naïef: ça va 👍🏽 🇳🇱 中文 ok"
# Dutch diacritics, emoji with a skin tone and a flag (surrogate pairs, several code
# points per visible character) and CJK, beside plain ASCII.
ALPHABET = st.sampled_from(list("abc \nëïéçÉ中文") + ["👍", "🏽", "🇳", "🇱", "😀"])
TEXTS = st.text(alphabet=ALPHABET, max_size=40)


def replay(text: str, steps: Sequence[Step]) -> str:
    for step in steps:
        text = text[:step.start] + step.insert + text[step.end:]
    return text


def test_offsets_of_diacritics_emoji_and_cjk_in_each_unit() -> None:
    index = MIXED.index("👍🏽")
    assert cp_to_utf8(MIXED, index) == len(MIXED[:index].encode())
    assert cp_to_utf16(MIXED, index) == index + 0  # no surrogate pair before the thumb
    after_flag = MIXED.index(" 中")
    assert cp_to_utf16(MIXED, after_flag) == after_flag + 4  # 👍 🏽 🇳 🇱: one extra unit each
    assert cp_to_utf8(MIXED, 1) == 2  # É is two bytes
    assert utf8_to_cp(MIXED, cp_to_utf8(MIXED, after_flag)) == after_flag


def test_an_offset_inside_a_character_is_refused() -> None:
    with pytest.raises(ValueError, match="inside a character"):
        utf8_to_cp("ë", 1)
    with pytest.raises(ValueError, match="inside a character"):
        utf16_to_cp("👍", 1)
    with pytest.raises(ValueError):
        utf8_to_cp("abc", 4)
    with pytest.raises(ValueError):
        cp_to_utf16("abc", -1)


@given(TEXTS, st.data())
def test_conversions_round_trip(text: str, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(text)))
    assert utf8_to_cp(text, cp_to_utf8(text, index)) == index
    assert utf16_to_cp(text, cp_to_utf16(text, index)) == index
    assert cp_to_utf8(text, index) == len(text[:index].encode("utf-8"))


def test_delta_with_delete_and_insert_becomes_one_replacing_step() -> None:
    before = "naïef 👍🏽 klaar"
    delta: list[dict[str, object]] = [
        {"retain": len("naï".encode())}, {"delete": 2}, {"insert": "ève"}, {"retain": 1},
        {"delete": len("👍🏽".encode())}, {"insert": "🇳🇱"}]
    steps = delta_steps(before, delta, 7, "utf8")
    assert steps == [Step(7, 3, 5, "ève"), Step(7, 7, 9, "🇳🇱")]
    assert replay(before, steps) == "naïève 🇳🇱 klaar"


def test_delta_in_utf16_units_counts_surrogate_pairs_twice() -> None:
    before = "👍🏽 ça"
    steps = delta_steps(before, [{"retain": 5}, {"delete": 1}, {"insert": "c"}], 3, "utf16")
    assert replay(before, steps) == "👍🏽 ca"


def test_delta_past_the_text_or_inside_a_character_is_refused() -> None:
    with pytest.raises(ValueError):
        delta_steps("ë", [{"retain": 1}, {"insert": "x"}], 1, "utf8")
    with pytest.raises(ValueError):
        delta_steps("ab", [{"delete": 3}], 1, "cp")
    with pytest.raises(ValueError):
        delta_steps("ab", [{"retain": 1}], 1, "bytes")


class Observed:
    """A pycrdt Text and the Steps its events turn into, checked against its string."""

    def __init__(self, doc: Doc[Text], author: int) -> None:
        self.text = doc.get("markdown", type=Text)
        self.author = author
        self.seen = str(self.text)
        self.deltas: list[list[Mapping[str, object]]] = []
        self.text.observe(self.changed)

    def changed(self, event: TextEvent) -> None:
        delta = event_delta(event)
        self.deltas.append(delta)
        self.seen = replay(self.seen, delta_steps(self.seen, delta, self.author, "utf8"))


def test_pycrdt_counts_text_positions_in_utf8_bytes() -> None:
    doc: Doc[Text] = Doc()
    observed = Observed(doc, 1)
    observed.text += "ë👍🏽中x"
    assert len(observed.text) == len("ë👍🏽中x".encode()) == 14
    observed.text.insert(2, "|")  # byte 2 is just after ë
    assert str(observed.text) == "ë|👍🏽中x"
    assert observed.deltas[-1] == [{"retain": 2}, {"insert": "|"}]
    assert observed.text[0:2] == "ë|"  # slicing alone counts code points
    del observed.text[3:11]  # the thumb and its skin tone: 8 bytes
    assert str(observed.text) == "ë|中x"
    assert observed.seen == str(observed.text)


def test_pycrdt_remote_update_delta_reads_back_as_the_same_text() -> None:
    server: Doc[Text] = Doc()
    browser: Doc[Text] = Doc()
    observed = Observed(server, 5)
    observed.text += MIXED
    browser.apply_update(server.get_update())
    theirs = browser.get("markdown", type=Text)
    spot = cp_to_utf8(MIXED, MIXED.index("🇳🇱"))
    with browser.transaction():
        del theirs[cp_to_utf8(MIXED, 0):cp_to_utf8(MIXED, 3)]
        theirs.insert(spot - len("Één".encode()), "Nederland ")
        theirs.insert(len(theirs), " — ç'est ça 😀")
    server.apply_update(browser.get_update(server.get_state()))
    assert str(observed.text) == str(theirs)
    assert observed.seen == str(observed.text)
    assert observed.seen == " café, naïef: ça va 👍🏽 Nederland 🇳🇱 中文 ok — ç'est ça 😀"


@settings(max_examples=60, deadline=None)
@given(TEXTS, st.lists(st.tuples(st.floats(0, 1), st.integers(0, 4), TEXTS), max_size=8))
def test_random_pycrdt_edits_read_back_exactly(start: str, edits: list[tuple[float, int, str]]
                                               ) -> None:
    doc: Doc[Text] = Doc()
    observed = Observed(doc, 2)
    observed.text += start
    for where, length, insert in edits:
        now = str(observed.text)
        at = int(where * len(now))
        upto = min(len(now), at + length)
        with doc.transaction():
            del observed.text[cp_to_utf8(now, at):cp_to_utf8(now, upto)]
            observed.text.insert(cp_to_utf8(now, at), insert)
        assert observed.seen == str(observed.text) == now[:at] + insert + now[upto:]
