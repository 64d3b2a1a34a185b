"""Which lines differ between two texts, by libgit2's diff (git's xdiff).

difflib's SequenceMatcher and ndiff go quadratic or worse on hostile input
(800 short lines took 31 s). xdiff is Myers' O(ND) algorithm with a cost cap:
past the cap it settles for a good diff instead of the minimal one, so its
time grows slightly faster than linear even on random lines. The common head
and tail are trimmed here first, and a middle longer than `limit` lines is
answered as one changed block without diffing it, which bounds the worst case.
"""

from __future__ import annotations

from collections.abc import Sequence

import pygit2

Block = tuple[int, int, int, int]
"""A run of changed lines: old start, old end, new start, new end (0-based, ends exclusive)."""

_FLAGS = pygit2.enums.DiffOption.FORCE_TEXT


def changed_blocks(old: Sequence[str], new: Sequence[str], limit: int | None = None) -> list[Block]:
    """The runs of lines that differ between `old` and `new`, in order.

    Args:
        old, new: the lines, without line ends (a line must not contain "\\n").
        limit: when the differing middle (after the common head and tail) has
            more lines than this on both sides together, it is one block.
    """
    head = _common_head(old, new)
    tail = _common_tail(old, new, head)
    old_end, new_end = len(old) - tail, len(new) - tail
    if head == old_end and head == new_end:
        return []
    if head in (old_end, new_end) or (
            limit is not None and (old_end - head) + (new_end - head) > limit):
        return [(head, old_end, head, new_end)]
    patch = pygit2.Patch.create_from(_text(old[head:old_end]), _text(new[head:new_end]),
                                     flag=_FLAGS, context_lines=0, interhunk_lines=0)
    return [_block(h.old_start, h.old_lines, h.new_start, h.new_lines, head)
            for h in patch.hunks]


def _common_head(old: Sequence[str], new: Sequence[str]) -> int:
    n = min(len(old), len(new))
    i = 0
    while i < n and old[i] == new[i]:
        i += 1
    return i


def _common_tail(old: Sequence[str], new: Sequence[str], head: int) -> int:
    n = min(len(old), len(new)) - head
    i = 0
    while i < n and old[-1 - i] == new[-1 - i]:
        i += 1
    return i


def _text(lines: Sequence[str]) -> bytes:
    # Every line ends in "\n", so git sees exactly these lines and no "no newline" marker.
    return "".join(line + "\n" for line in lines).encode("utf-8", "surrogatepass")


def _block(old_start: int, old_lines: int, new_start: int, new_lines: int, offset: int) -> Block:
    # git numbers lines from 1; an empty side's start is the line before the change.
    i = old_start if old_lines == 0 else old_start - 1
    j = new_start if new_lines == 0 else new_start - 1
    return (offset + i, offset + i + old_lines, offset + j, offset + j + new_lines)
