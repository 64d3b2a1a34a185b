"""`git log`'s order of every commit reachable from the head, walked in process: for caches of git.

Without `--first-parent`, `git log` shows every commit reachable from the
head, pushed side branches included, in the order of one walk: it starts at
the head, and each time shows the waiting commit with the newest committer
date (on a tie the one that waited longest), then puts its parents in line
(each commit once). `walk_order` replays that walk with libgit2.

A cache keeps the order once and only walks what a new head adds. A commit is
*settled* when the walk reaches it with nothing else waiting and no root
commit shown yet: from there on the walk shows exactly what a walk started at
that commit shows, because nothing before it can be one of its ancestors. So
when a new head's walk reaches a commit the cache recorded as settled, and it
is settled in the new walk too, the cache's order from that commit on is still
git's, and only the commits shown before it need recording.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass

import pygit2

from storage.treediff import GitHandle


@dataclass(frozen=True, slots=True)  # one per commit in a first build
class Walked:
    """A commit in `git log`'s order: its parents, committer time, and whether it is settled."""

    revision: str
    parents: tuple[str, ...]
    time: int
    settled: bool


@dataclass(frozen=True)
class LogOrder:
    """The commits a walk showed, newest first, up to `resume`: a settled commit the cache
    knows, from which its recorded order goes on unchanged (None: the walk went to the end,
    `shown` is the whole order)."""

    shown: tuple[Walked, ...]
    resume: str | None


def walk_order(source: GitHandle, head: str, known: Callable[[str], Walked | None]) -> LogOrder:
    """`git log head`'s order, until a commit `known` (the cache) says is settled is reached
    settled again. Commits `known` answers for are not read from git."""
    facts: dict[str, Walked] = {}

    def fact(revision: str) -> Walked:
        if revision not in facts:
            facts[revision] = known(revision) or _read(source.git, revision)
        return facts[revision]

    queue: list[tuple[int, int, str]] = []
    queued: set[str] = set()

    def push(revision: str) -> None:
        if revision not in queued:
            queued.add(revision)
            heapq.heappush(queue, (-fact(revision).time, len(queued), revision))

    push(head)
    shown: list[Walked] = []
    root_shown = False
    while queue:
        revision = heapq.heappop(queue)[2]
        commit, settled = fact(revision), not queue and not root_shown
        if settled and commit.settled:  # only the cache's commits are settled already
            return LogOrder(tuple(shown), revision)
        shown.append(Walked(revision, commit.parents, commit.time, settled))
        root_shown = root_shown or not commit.parents
        for parent in commit.parents:
            push(parent)
    return LogOrder(tuple(shown), None)


def _read(git: pygit2.Repository, revision: str) -> Walked:
    commit = git[revision]
    if not isinstance(commit, pygit2.Commit):
        raise ValueError(f"{revision} is not a commit")
    return Walked(revision, tuple(str(p) for p in commit.parent_ids), commit.commit_time, False)
