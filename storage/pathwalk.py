"""`git log -- <path>` from a merge commit, walked in process: for caches of git.

A path that a merge changed (against its first parent) has a history that
leaves the first-parent chain: git's default history simplification follows
the one parent the merge took the path from (the first parent whose version
of the path is the merge's), or every parent when the merge made a version of
its own, and then shows the commits in committer-date order. `walk_path`
replays exactly that from the merge, commit by commit with libgit2, until the
walk comes back to a single commit of the first-parent chain: from there on
the path's history is what the cache already knows about that commit.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass

import pygit2

from storage.gitcmd import GitFailed, run_git
from storage.treediff import GitHandle, tree_entry

FILE_TYPE = 0o170000


@dataclass(frozen=True)
class ShownCommit:
    """A commit `git log --name-status -- <path>` shows, with the path's status letter.

    A merge shows no status (git lists no files for a merge); an added path
    that a rename made carries its old path, as `git diff-tree -M` names it.
    """

    revision: str
    author: str
    email: str
    time: int
    committer: str
    committer_email: str
    message: str
    status: str
    old_path: str | None = None


@dataclass(frozen=True)
class PathWalk:
    """The commits shown for `path` from a merge, newest first, and where the walk ended:
    `resume`, a first-parent-chain commit whose own history of the path follows, or None."""

    path: str
    shown: tuple[ShownCommit, ...]
    resume: str | None


def walk_path(source: GitHandle, start: str, path: str,
              on_chain: Callable[[str], bool]) -> PathWalk:
    """What `git log -- path` shows from `start` until it reaches one chain commit alone."""
    git = source.git
    # git's date-ordered list: the newest committer date first, equal dates first come.
    queue: list[tuple[int, int, str]] = []
    seen: set[str] = set()
    shown: list[ShownCommit] = []

    def push(commit: pygit2.Commit) -> None:
        if str(commit.id) not in seen:
            seen.add(str(commit.id))
            heapq.heappush(queue, (-commit.committer.time, len(seen), str(commit.id)))

    push(_commit(git, start))
    while queue:
        if len(seen) > 1 and len(queue) == 1 and on_chain(queue[0][2]):
            return PathWalk(path, tuple(shown), queue[0][2])
        commit = _commit(git, heapq.heappop(queue)[2])
        mine = tree_entry(commit.tree, path)
        parents = list(commit.parents)
        if len(parents) > 1:
            same = next((p for p in parents if tree_entry(p.tree, path) == mine), None)
            if same is not None:
                push(same)
                continue
            shown.append(_shown(commit, ""))
        elif parents:
            theirs = tree_entry(parents[0].tree, path)
            if theirs != mine:
                status = _status(theirs, mine)
                old = _renamed_from(source, str(commit.id), path) if status == "A" else None
                shown.append(_shown(commit, status, old))
        elif mine is not None:
            shown.append(_shown(commit, "A"))
        for parent in parents:
            push(parent)
    return PathWalk(path, tuple(shown), None)


def _status(old: tuple[str, int] | None, new: tuple[str, int] | None) -> str:
    if old is None:
        return "A"
    if new is None:
        return "D"
    return "M" if (old[1] ^ new[1]) & FILE_TYPE == 0 else "T"


def _shown(commit: pygit2.Commit, status: str, old_path: str | None = None) -> ShownCommit:
    author, committer = commit.author, commit.committer
    return ShownCommit(str(commit.id), author.name, author.email, author.time, committer.name,
                       committer.email, commit.message.strip(), status, old_path)


def _renamed_from(source: GitHandle, revision: str, path: str) -> str | None:
    """The path a rename in `revision` moved to `path`, as `git diff-tree -M` finds it."""
    try:
        out = run_git("-c", "core.quotePath=false", "diff-tree", "-r", "-M", "--name-status",
                      "--no-commit-id", "--root", git_dir=source.git.path,
                      revisions=[revision]).text
    except GitFailed:
        return None
    for line in out.splitlines():
        fields = line.split("\t")
        if fields[0].startswith("R") and len(fields) == 3 and fields[2] == path:
            return fields[1]
    return None


def _commit(git: pygit2.Repository, revision: str) -> pygit2.Commit:
    commit = git[revision]
    if not isinstance(commit, pygit2.Commit):
        raise ValueError(f"{revision} is not a commit")
    return commit
