"""Folding live edits into per-author commits: replay gives the live text, each commit
holds its own author's edits, outside changes are not committed again.

Each author types from an alphabet of their own, so a commit's added characters tell
whose edits it holds.
"""

from __future__ import annotations

import difflib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wiki.live.folding import Folded, Step, fold

BASE_ALPHABET = "Dit is de basis: één, ç, 🇳🇱\n"
ALPHABETS = {1: "abcdë", 2: "fghi👍🏽", 3: "jklmï", 4: "nopq中", 5: "rstué", 9: "VWXYZ"}
OUTSIDER = 9  # the author of outside changes (already in git)


@dataclass
class Char:
    text: str
    pending: bool       # typed live, not in git yet
    alive: bool = True
    gone_in_git: bool = False


class Room:
    """A model of a live room: every character ever typed, in order, live or deleted.

    Git's head is the base plus the outside changes, without the live ones.
    """

    def __init__(self, base: str) -> None:
        self.base = base
        self.chars = [Char(c, pending=False) for c in base]
        self.steps: list[Step] = []
        self.deleted: dict[int, Counter[str]] = {}

    def live(self) -> str:
        return "".join(c.text for c in self.chars if c.alive)

    def head(self) -> str:
        return "".join(c.text for c in self.chars if not c.pending and not c.gone_in_git)

    def edit(self, author: int, start: int, end: int, insert: str, in_git: bool = False) -> None:
        alive = [i for i, c in enumerate(self.chars) if c.alive]
        for i in alive[start:end]:
            self.chars[i].alive = False
            self.chars[i].gone_in_git = in_git
            self.deleted.setdefault(author, Counter())[self.chars[i].text] += 1
        at = alive[start - 1] + 1 if start else 0
        self.chars[at:at] = [Char(c, pending=not in_git) for c in insert]
        self.steps.append(Step(author, start, end, insert, in_git))

    def type(self, author: int, at: int, text: str) -> None:
        """One keystroke per character, as a browser sends them."""
        for offset, char in enumerate(text):
            self.edit(author, at + offset, at + offset, char)


def replays(room: Room, commits: Sequence[Folded], max_commits: int = 12) -> None:
    """Replay from head ends at the live text; no commit by the outsider, none empty."""
    head, live = room.head(), room.live()
    texts = [head] + [commit.text for commit in commits]
    assert texts[-1] == live
    assert (commits == []) == (live == head)
    assert len(commits) <= max_commits
    for before, commit in zip(texts, commits, strict=False):
        assert OUTSIDER not in (commit.author, *commit.coauthors)
        assert commit.text != before


def check(room: Room, commits: Sequence[Folded], max_commits: int = 12) -> None:
    """Replays, and each commit adds only its authors' characters (each types from an
    alphabet of their own) and removes only characters they deleted."""
    replays(room, commits, max_commits)
    texts = [room.head()] + [commit.text for commit in commits]
    for before, commit in zip(texts, commits, strict=False):
        people = (commit.author, *commit.coauthors)
        typed = set("".join(ALPHABETS[p] for p in people))
        added = Counter(commit.text) - Counter(before)
        assert set(added) <= typed, f"commit by {people} adds {added}"
        removed = Counter(before) - Counter(commit.text)
        allowed = sum((room.deleted.get(p, Counter()) for p in people), Counter())
        assert not removed - allowed, f"commit by {people} removes {removed - allowed}"


def changed_lines(before: str, after: str) -> list[str]:
    return [line[2:] for line in difflib.ndiff(before.splitlines(), after.splitlines())
            if line[:2] in ("+ ", "- ")]


def test_two_people_typing_in_different_paragraphs_make_one_commit_each() -> None:
    base = "# Plan\n\nEerste alinea.\n\nTweede alinea.\n"
    room = Room(base)
    anna, bram = base.index("Eerste alinea.") + 14, base.index("Tweede alinea.") + 14
    for a, b in zip(" Anna schrijft dë", " Bram typt 👍🏽 ook", strict=False):
        room.type(1, anna, a)
        anna += 1
        bram += 1
        room.type(2, bram, b)
        bram += 1
    commits = fold(base, room.head(), room.steps)
    replays(room, commits)
    assert [c.author for c in commits] == [1, 2]
    assert changed_lines(base, commits[0].text) == [
        "Eerste alinea.", "Eerste alinea. Anna schrijft dë"]
    assert changed_lines(commits[0].text, commits[1].text) == [
        "Tweede alinea.", "Tweede alinea. Bram typt 👍🏽 ook"]


def test_people_typing_in_the_same_spot_keep_their_order() -> None:
    base = "Samen: \n"
    room = Room(base)
    room.type(1, 7, "abc")
    room.type(2, 10, "fgh")  # right after Anna's text: the same spot
    room.type(1, 13, "dd")
    commits = fold(base, room.head(), room.steps)
    check(room, commits)
    assert [c.text for c in commits] == ["Samen: abc\n", "Samen: abcfgh\n", "Samen: abcfghdd\n"]
    assert [c.author for c in commits] == [1, 2, 1]


def test_an_outside_change_in_the_middle_is_not_committed_and_loses_nothing() -> None:
    base = "Een.\n\nTwee.\n\nDrie.\n"
    room = Room(base)
    room.type(1, 4, " Anna")
    at = room.live().index("Drie.")
    room.edit(OUTSIDER, at, at + 5, "VWXYZ", in_git=True)  # a push replacing paragraph three
    room.type(2, room.live().index("Twee.") + 5, " Bram")
    room.type(1, 9, "ë")
    commits = fold(base, room.head(), room.steps)
    assert room.head() == "Een.\n\nTwee.\n\nVWXYZ\n"
    replays(room, commits)
    assert [c.author for c in commits] == [1, 2]
    assert commits[-1].text == "Een. Annaë\n\nTwee. Bram\n\nVWXYZ\n"


def test_an_outside_change_over_live_text_becomes_one_shared_commit() -> None:
    base = "Een.\n"
    room = Room(base)
    room.type(1, 4, "abc")
    room.edit(OUTSIDER, 0, 7, "WW", in_git=True)  # overlaps Anna's unsaved text
    room.type(2, 2, "fg")
    commits = fold(base, room.head(), room.steps)
    check(room, commits)
    assert commits[-1].text == room.live() == "WWfg\n"


def test_many_alternations_in_one_spot_become_few_commits_with_coauthors() -> None:
    base = "x\n"
    room = Room(base)
    for turn in range(40):
        room.type(1 + turn % 2, len(room.live()) - 1, "a" if turn % 2 == 0 else "f")
    commits = fold(base, room.head(), room.steps, max_commits=5)
    check(room, commits, max_commits=5)
    assert any(commit.coauthors for commit in commits)


def test_a_fold_that_changes_nothing_makes_no_commit() -> None:
    room = Room("tekst\n")
    room.type(1, 0, "ab")
    room.edit(2, 0, 2, "")
    assert fold(room.base, room.head(), room.steps) == []


def test_a_step_outside_the_text_is_refused() -> None:
    with pytest.raises(ValueError):
        fold("abc", "abc", [Step(1, 2, 5, "x")])


def test_five_people_typing_for_five_minutes_fold_fast() -> None:
    paragraph = "Een alinea met tekst, één zin, ç en 👍🏽. " * 30 + "\n\n"
    base = paragraph * 25  # about 30 KB
    cursors = [i * len(paragraph) + 40 for i in range(5)]
    steps, length = [], len(base)
    for key in range(10_000):  # keystrokes of five people in turn, each in their paragraph
        who = key % 5
        at = cursors[who]
        if key % 23 == 22:
            steps.append(Step(who + 1, at - 1, at, ""))
            moved = -1
        else:
            steps.append(Step(who + 1, at, at, ALPHABETS[who + 1][key % 4]))
            moved = 1
        for other in range(5):
            if cursors[other] >= at and (other == who or cursors[other] > at):
                cursors[other] += moved
        length += moved
    started = time.perf_counter()
    commits = fold(base, base, steps)
    took = time.perf_counter() - started
    assert [c.author for c in commits] == [1, 2, 3, 4, 5]
    live = base
    for step in steps:
        live = live[:step.start] + step.insert + live[step.end:]
    assert commits[-1].text == live and len(live) == length
    assert took < 3, f"fold took {took:.2f} s"  # about 0.1 s; generous for a busy CI machine


AUTHORS = st.integers(1, 5)
STEP_SEEDS = st.lists(
    st.tuples(AUTHORS, st.booleans(), st.floats(0, 1), st.integers(0, 3), st.integers(0, 3),
              st.integers(0, 9)),
    max_size=60)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=BASE_ALPHABET, max_size=30), STEP_SEEDS, st.integers(1, 12),
       st.integers(1, 5))
def test_random_interleaved_steps_fold_into_faithful_commits(
        base: str, seeds: list[tuple[int, bool, float, int, int, int]], max_commits: int,
        people: int) -> None:
    room = Room(base)
    for author, cursor_moves, where, deleting, typing, outside in seeds:
        author = 1 + (author - 1) % people
        length = len(room.live())
        at = int(where * length) if cursor_moves else min(length, int(where * 4) + length // 2)
        upto = min(length, at + deleting)
        if outside == 0:
            room.edit(OUTSIDER, at, upto, ALPHABETS[OUTSIDER][:typing], in_git=True)
        else:
            room.edit(author, at, upto, ALPHABETS[author][:typing])
    check(room, fold(base, room.head(), room.steps, max_commits), max_commits)


def test_without_live_steps_nothing_is_committed_even_when_head_moved_on() -> None:
    room = Room("Een.\n")
    room.edit(OUTSIDER, 0, 0, "VW", in_git=True)
    assert fold(room.base, "VWEen.\nXYZ\n", room.steps) == []  # git is ahead of the room
