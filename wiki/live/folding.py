"""Folding live edits into per-author commits.

A live room records every change to its text as a `Step` by the account that made
it. `fold` turns the steps since the last fold into commits on top of git's head:

1. Consecutive steps of one author become a run (one changeset, see changesets.py).
2. A run joins its author's latest group when it can move back past the groups in
   between: their spans are apart (not overlapping, not touching). Moving it
   transforms its offsets exactly, so each group holds one person's own edits.
   Edits in the same spot keep their order, which makes a boundary.
3. Steps already in git (a push, an API or classic save applied into the room) are
   moved to the front, where git has them, and are not committed again. When one
   cannot be moved past a live edit (they overlap), everything before it becomes
   one commit from head to that point: fewer commits, never a wrong text.
4. More groups than `max_commits`: the smallest neighbours merge into one commit
   by the person who changed most of it, the others as co-authors.

Replaying the commits from head always ends at the live text. Each group keeps only
its edits; whole texts are made once per commit at the end.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from wiki.live.changesets import Edit, apply, compose, swap

__all__ = ["Folded", "Step", "fold"]

# Bounds that keep a fold fast whatever the typing pattern: a group (and a run) holds
# at most MAX_EDITS separate spans, a run moves back past at most MAX_PASSED spans of
# other groups, and above WORKING_GROUPS times max_commits groups the smallest merge.
MAX_EDITS = 64
MAX_PASSED = 128
WORKING_GROUPS = 4


@dataclass(frozen=True)
class Step:
    """One change to the live text, in code points of the text just before it."""

    author: int            # account id the server tagged the update with
    start: int             # code-point offset in the text before this step
    end: int               # end (exclusive) of the replaced span, code points, text before
    insert: str            # the text put in its place
    in_git: bool = False   # an outside change already committed by `author` (push, API save...)


@dataclass(frozen=True)
class Folded:
    """One commit of a fold: its author, the whole page text after it, and co-authors."""

    author: int
    text: str                     # the whole page text after this commit
    coauthors: tuple[int, ...] = ()


@dataclass
class _Group:
    """Edits that become one commit: a changeset and who changed how many characters."""

    edits: list[Edit]
    chars: Counter[int] = field(default_factory=Counter)

    def credits(self, fallback: int) -> tuple[int, tuple[int, ...]]:
        """(author, co-authors): the one who changed most, then the others by size."""
        ranked = sorted(self.chars, key=lambda who: (-self.chars[who], who))
        return (ranked[0], tuple(ranked[1:])) if ranked else (fallback, ())


@dataclass
class _Front:
    """Where the commits start: git's text as the steps see it.

    Normally base plus the outside changes (moved to the front), which must equal
    head. Once an outside change could not be moved past a live edit, `text` holds
    the live text at that point and `group` the people whose edits it contains: the
    first commit then goes from head straight to `text`.
    """

    outside: list[Edit] = field(default_factory=list)
    text: str | None = None
    group: _Group = field(default_factory=lambda: _Group([]))
    outsider: int = 0


def fold(base: str, head: str, steps: Sequence[Step], max_commits: int = 12) -> list[Folded]:
    """The commits that bring git from `head` to the live text, in order.

    `base` is the page text the steps start from (git's text at the previous fold);
    `head` is git's current text (base plus the in_git steps, which are not committed
    again). The returned commits go on top of `head`, in order, and the last one's
    text equals base with every step applied (the live text). Empty when the live
    text equals head.

    Without live steps there is nothing to commit: a head that differs from the
    steps' text then holds outside changes the room has not seen yet, which no commit
    may undo.

    Raises:
        ValueError: a step lies outside the text it applies to, or max_commits < 1.
    """
    if max_commits < 1:
        raise ValueError("max_commits must be at least 1")
    if all(step.in_git for step in steps):
        return []
    front = _Front()
    groups: list[_Group] = []
    for author, outside, edits, size in _runs(base, steps):
        if outside:
            _move_to_front(base, front, groups, author, edits)
        else:
            _place(groups, author, edits, size)
            if len(groups) > WORKING_GROUPS * max_commits:
                groups = _merge_smallest(groups, max_commits)
    live = apply(base, front.outside) if front.text is None else front.text
    for group in groups:
        live = apply(live, group.edits)
    if live == head:
        return []
    if front.text is None and apply(base, front.outside) != head:
        # head is not base plus the outside steps: nothing tells how the live edits
        # sit on it, so one commit brings it to the live text.
        _absorb(front, groups, live)
        groups = []
    if front.text is not None and max_commits == 1:
        _absorb(front, groups, live)
        groups = []
    groups = _merge_smallest(groups, max_commits - (front.text is not None))
    return _commits(head, front, groups)


def _absorb(front: _Front, groups: Sequence[_Group], live: str) -> None:
    """Make the front's text the live text: one commit from head holding every group."""
    front.text = live
    for group in groups:
        front.group.chars += group.chars


def _runs(base: str, steps: Sequence[Step]) -> Iterator[tuple[int, bool, list[Edit], int]]:
    """(author, in_git, changeset, characters changed) of each run of consecutive steps."""
    length = len(base)
    run: list[Edit] = []
    size = 0
    who: tuple[int, bool] | None = None
    for step in steps:
        if not 0 <= step.start <= step.end <= length:
            raise ValueError(f"step {step.start}-{step.end} outside a text of {length}")
        if step.start == step.end and not step.insert:
            continue
        if (step.author, step.in_git) != who or len(run) >= MAX_EDITS:
            if who is not None:
                yield who[0], who[1], run, size
            who, run, size = (step.author, step.in_git), [], 0
        run = compose(run, [(step.start, step.end, step.insert)])
        size += step.end - step.start + len(step.insert)
        length += len(step.insert) - (step.end - step.start)
    if who is not None:
        yield who[0], who[1], run, size


def _place(groups: list[_Group], author: int, edits: list[Edit], size: int) -> None:
    """Add a run to its author's latest group when it can move back there, else start one."""
    for back in range(len(groups) - 1, -1, -1):
        if author in groups[back].chars:
            break
    else:
        groups.append(_Group(edits, Counter({author: size})))
        return
    if (len(groups[back].edits) + len(edits) > MAX_EDITS
            or sum(len(group.edits) for group in groups[back + 1:]) > MAX_PASSED):
        groups.append(_Group(edits, Counter({author: size})))
        return
    moved, passed = edits, []
    for group in reversed(groups[back + 1:]):
        swapped = swap(group.edits, moved, apart=True)
        if swapped is None:
            groups.append(_Group(edits, Counter({author: size})))
            return
        moved, after = swapped
        passed.append(_Group(after, group.chars))
    groups[back].edits = compose(groups[back].edits, moved)
    groups[back].chars[author] += size
    groups[back + 1:] = reversed(passed)


def _move_to_front(base: str, front: _Front, groups: list[_Group], author: int,
                   edits: list[Edit]) -> None:
    """Move an outside change (already in git) back past the live groups, to the front.

    Where it overlaps a live group it stops, and that group and all before it join
    the front's text (the first commit).
    """
    moved, passed = edits, []
    stop = len(groups)
    while stop > 0:
        swapped = swap(groups[stop - 1].edits, moved)
        if swapped is None:
            break
        moved, after = swapped
        passed.append(_Group(after, groups[stop - 1].chars))
        stop -= 1
    if stop == 0 and front.text is None:
        front.outside = compose(front.outside, moved)
    else:
        text = apply(base, front.outside) if front.text is None else front.text
        for group in groups[:stop]:
            text = apply(text, group.edits)
            front.group.chars += group.chars
        front.text = apply(text, moved)
        front.outsider = front.outsider or author
    groups[:] = reversed(passed)


def _merge_smallest(groups: list[_Group], limit: int) -> list[_Group]:
    """At most `limit` groups, made by merging neighbours: first those by the same people,
    then those that add the fewest co-authors and changed least together."""
    if len(groups) <= limit:
        return groups
    alive: list[_Group | None] = list(groups)
    after = list(range(1, len(groups) + 1))
    before = list(range(-1, len(groups) - 1))
    versions = [0] * len(groups)
    pairs: list[tuple[int, int, int, int, int, int]] = []

    def pair(left: int, right: int) -> None:
        one, two = alive[left], alive[right]
        assert one is not None and two is not None
        people = len(one.chars.keys() ^ two.chars.keys())
        size = one.chars.total() + two.chars.total()
        heapq.heappush(pairs, (people, size, left, right, versions[left], versions[right]))

    for i in range(len(groups) - 1):
        pair(i, i + 1)
    count = len(groups)
    while count > limit:
        _, _, left, right, left_version, right_version = heapq.heappop(pairs)
        if (versions[left], versions[right]) != (left_version, right_version) \
                or alive[left] is None or alive[right] is None:
            continue
        one, two = alive[left], alive[right]
        assert one is not None and two is not None
        alive[left] = _Group(compose(one.edits, two.edits), one.chars + two.chars)
        alive[right] = None
        versions[left] += 1
        after[left] = after[right]
        if after[left] < len(alive):
            before[after[left]] = left
            pair(left, after[left])
        if before[left] >= 0:
            pair(before[left], left)
        count -= 1
    return _absorb_shared([group for group in alive if group is not None])


def _absorb_shared(groups: list[_Group]) -> list[_Group]:
    """Merge a group into a shared neighbour that already names all its people: a shared
    commit then takes the small alternating ones around it instead of leaving them apart."""
    merged: list[_Group] = []
    for group in groups:
        if merged:
            last, people = merged[-1].chars.keys(), group.chars.keys()
            if (len(last) > 1 and people <= last) or (len(people) > 1 and last <= people):
                merged[-1] = _Group(compose(merged[-1].edits, group.edits),
                                    merged[-1].chars + group.chars)
                continue
        merged.append(group)
    return merged


def _commits(head: str, front: _Front, groups: Sequence[_Group]) -> list[Folded]:
    """The commits from head: the front's text if any, then each group; none that change nothing."""
    commits: list[Folded] = []
    text = head
    if front.text is not None:
        commits.append(_folded(front.group, front.outsider, front.text))
        text = front.text
    for group in groups:
        text = apply(text, group.edits)
        commits.append(_folded(group, 0, text))
    kept: list[Folded] = []
    previous = head
    for commit in commits:
        if commit.text == previous:
            continue
        if kept and (kept[-1].author, kept[-1].coauthors) == (commit.author, commit.coauthors):
            kept[-1] = commit
        else:
            kept.append(commit)
        previous = commit.text
    return kept


def _folded(group: _Group, fallback: int, text: str) -> Folded:
    author, coauthors = group.credits(fallback)
    return Folded(author, text, coauthors)
