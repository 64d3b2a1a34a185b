"""The algebra folding rests on: composing and swapping changesets is exact."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from wiki.live.changesets import Edit, apply, compose, swap

TEXTS = st.lists(st.sampled_from(list("ab\nëç") + ["👍🏽", "中"]), max_size=12).map("".join)


@st.composite
def text_and_changes(draw: st.DrawFn, text: str) -> list[Edit]:
    """Non-overlapping sorted edits of `text` (they may touch)."""
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=6)))
    edits = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=False):
        edits.append((start, end, draw(TEXTS)))
    return edits


def one_by_one(text: str, edits: list[Edit]) -> str:
    for start, end, new in reversed(edits):
        text = text[:start] + new + text[end:]
    return text


@given(TEXTS, st.data())
def test_compose_does_both_changes(text: str, data: st.DataObject) -> None:
    first = data.draw(text_and_changes(text))
    middle = apply(text, first)
    assert middle == one_by_one(text, first)
    second = data.draw(text_and_changes(middle))
    both = compose(first, second)
    assert apply(text, both) == apply(middle, second)
    assert all(a[1] <= b[0] for a, b in zip(both, both[1:], strict=False))  # in order


@given(TEXTS, st.data(), st.booleans())
def test_swap_reaches_the_same_text_in_the_other_order(text: str, data: st.DataObject,
                                                       apart: bool) -> None:
    first = data.draw(text_and_changes(text))
    middle = apply(text, first)
    second = data.draw(text_and_changes(middle))
    swapped = swap(first, second, apart)
    if swapped is None:
        return
    second_first, first_after = swapped
    assert apply(apply(text, second_first), first_after) == apply(middle, second)
    # The moved edits put in the same texts and remove as much as before.
    assert [e[2] for e in second_first] == [e[2] for e in second]
    assert [e[1] - e[0] for e in first_after] == [e[1] - e[0] for e in first]


def test_swap_refuses_overlap_and_with_apart_also_touching() -> None:
    first = [(2, 2, "xy")]           # "ab" + "xy" + "cd"
    assert swap(first, [(3, 5, "")]) is None                # deletes part of "xy"
    assert swap(first, [(4, 4, "!")]) == ([(2, 2, "!")], [(2, 2, "xy")])  # "ab!cd", "abxy!cd"
    assert swap(first, [(4, 4, "!")], apart=True) is None   # right after "xy": same spot
    assert swap(first, [(5, 5, "!")], apart=True) == ([(3, 3, "!")], [(2, 2, "xy")])
