"""Changesets: sets of replaced spans of one text, and the exact algebra on them.

A changeset is a sorted list of edits `(start, end, text)`: replace `[start, end)`
of the text before (code points) by `text`. Edits do not overlap, so they can be
applied at once. Two operations make folding exact:

- `compose(first, second)`: one changeset doing `first` and then `second`.
- `swap(first, second)`: the same two changes in the other order (operational
  transformation of replace spans), or None when they overlap and so cannot be
  told apart. `apart=True` also refuses spans that touch: the same spot.

Only the replaced spans and their new text are kept, never a copy of the page.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

__all__ = ["Edit", "apply", "compose", "swap"]

Edit = tuple[int, int, str]


def apply(text: str, edits: Sequence[Edit]) -> str:
    """`text` with `edits` applied."""
    pieces: list[str] = []
    done = 0
    for start, end, new in edits:
        pieces += (text[done:start], new)
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def _spans(edits: Sequence[Edit]) -> Iterator[tuple[int, int, int, int, str]]:
    """Each edit as (start, end) in the text after `edits`, its old (start, end), and text."""
    shift = 0
    for start, end, new in edits:
        yield start + shift, start + shift + len(new), start, end, new
        shift += len(new) - (end - start)


def compose(first: Sequence[Edit], second: Sequence[Edit]) -> list[Edit]:
    """One changeset doing `first` and then `second` (whose edits are in the text after first).

    Edits that meet or overlap in the middle text become one edit; its new text is
    made of `second`'s texts and the parts of `first`'s texts that `second` kept.
    """
    if not first or not second:
        return list(first or second)
    if len(second) == 1:
        return _compose_one(first, *second[0])
    return _compose_all(first, second)


def _compose_all(first: Sequence[Edit], second: Sequence[Edit]) -> list[Edit]:
    """compose() the long way: a sweep through both in the middle text."""
    made = list(_spans(first))
    out: list[Edit] = []
    i = j = 0
    shift = 0  # (middle - old) offset before the next edit of `first`
    while i < len(made) or j < len(second):
        low = made[i][0] if i < len(made) else None
        if low is None or (j < len(second) and second[j][0] < low):
            low = second[j][0]
        top = low
        firsts: list[tuple[int, int, int, int, str]] = []
        seconds: list[Edit] = []
        while True:
            if i < len(made) and made[i][0] <= top:
                firsts.append(made[i])
                top = max(top, made[i][1])
                i += 1
            elif j < len(second) and second[j][0] <= top:
                seconds.append(second[j])
                top = max(top, second[j][1])
                j += 1
            else:
                break
        old_start = low - shift
        if not seconds and len(firsts) == 1:  # untouched by `second`: kept as it was
            out.append(firsts[0][2:])
            shift += firsts[0][1] - firsts[0][0] - (firsts[0][3] - firsts[0][2])
            continue
        shift += sum(len(new) - (end - start) for _, _, start, end, new in firsts)
        pieces: list[str] = []
        done = low
        for start, end, new in seconds:
            pieces += (_middle(firsts, done, start), new)
            done = end
        pieces.append(_middle(firsts, done, top))
        text = "".join(pieces)
        if top - shift > old_start or text:
            out.append((old_start, top - shift, text))
    return out


def _compose_one(first: Sequence[Edit], start: int, end: int, text: str) -> list[Edit]:
    """compose(first, [(start, end, text)]): only the edits it meets are rebuilt (a keystroke)."""
    shift = 0
    at = 0
    while at < len(first) and first[at][0] + shift + len(first[at][2]) < start:
        shift += len(first[at][2]) - (first[at][1] - first[at][0])
        at += 1
    upto, top, passed = at, end, shift
    while upto < len(first) and first[upto][0] + passed <= top:
        top = max(top, first[upto][0] + passed + len(first[upto][2]))
        passed += len(first[upto][2]) - (first[upto][1] - first[upto][0])
        upto += 1
    if upto == at:
        met = [(start - shift, end - shift, text)] if end > start or text else []
    else:
        met = _compose_all(first[at:upto], [(start - shift, end - shift, text)])
    return [*first[:at], *met, *first[upto:]]


def _middle(firsts: Sequence[tuple[int, int, int, int, str]], start: int, end: int) -> str:
    """The middle text in [start, end), which lies wholly inside texts written by `firsts`."""
    pieces = []
    for low, high, _, _, new in firsts:
        if low < end and start < high:
            pieces.append(new[max(start, low) - low:min(end, high) - low])
    return "".join(pieces)


def swap(first: Sequence[Edit], second: Sequence[Edit],
         apart: bool = False) -> tuple[list[Edit], list[Edit]] | None:
    """`(second', first')` such that doing second' then first' equals first then second.

    None when a span `second` replaces overlaps text that `first` wrote (or, with
    `apart`, merely touches it): then the order carries meaning and must stay.
    """
    made = list(_spans(first))
    new_second: list[Edit] = []
    new_first: list[Edit] = []
    i = j = 0
    moved_first = moved_second = 0  # length change of the edits of each taken so far
    while i < len(made) or j < len(second):
        take_first = j == len(second) or (
            i < len(made) and (made[i][0], made[i][1]) <= (second[j][0], second[j][1]))
        if take_first:
            low, high, start, end, new = made[i]
            other = second[j] if j < len(second) else None
        else:
            low, high, new = second[j]
            other_made = made[i] if i < len(made) else None
            other = (other_made[0], other_made[1], "") if other_made else None
        if other is not None and (other[0] <= high and low <= other[1] if apart
                                  else other[0] < high and low < other[1]):
            return None
        if take_first:
            new_first.append((start + moved_second, end + moved_second, new))
            moved_first += len(new) - (end - start)
            i += 1
        else:
            new_second.append((low - moved_first, high - moved_first, new))
            moved_second += len(new) - (high - low)
            j += 1
    return new_second, new_first
