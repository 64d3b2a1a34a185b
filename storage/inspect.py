"""Is the repository sound? Object checks for the health report, and the one `git fsck`.

The quick checks read a few objects through libgit2 and are cheap enough
for every /healthz poll; `fsck` runs `git fsck --strict` over everything
and is what `cowiki check` does. Answers are plain values: booleans and
readable problem lines.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pygit2

from storage.gitcmd import GitFailed, run_git
from storage.repository import Repository
from storage.treediff import GitHandle

FSCK_TIMEOUT = 600.0


@dataclass(frozen=True)
class HeadState:
    """The head of main (None when there is none) and why it cannot be read, if it cannot."""

    head: str | None
    problem: str | None = None


def head_state(repo: Repository) -> HeadState:
    """Read `refs/heads/main`, its commit and the commit's root tree."""
    head: str | None = None
    try:
        head = repo.head()
        if head is not None:
            len(repo.commit_info(head).tree)  # loading the root tree is the check
    except (pygit2.GitError, KeyError, ValueError, OSError) as exc:
        return HeadState(head, str(exc))
    return HeadState(head)


def is_commit(source: GitHandle, oid: str) -> bool:
    """True when `oid` names a commit this repository has."""
    try:
        return isinstance(source.git[oid], pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError):
        return False


def descends_from(source: GitHandle, commit: str, ancestor: str) -> bool:
    """True when `ancestor` is in the history of `commit` (and is not `commit` itself)."""
    try:
        return bool(source.git.descendant_of(commit, ancestor))
    except (KeyError, ValueError, pygit2.GitError):
        return False


def fsck(repo_path: str | os.PathLike[str], timeout: float = FSCK_TIMEOUT) -> list[str]:
    """Problems `git fsck --strict` reports (dangling objects are normal and ignored)."""
    try:
        done = run_git("fsck", "--strict", "--no-progress", "--no-dangling", git_dir=repo_path,
                       timeout=timeout, ok=range(256))
    except GitFailed as exc:
        return [f"git fsck could not run: {exc.stderr}"]
    lines = [line.strip() for line in (done.text + done.stderr).splitlines() if line.strip()]
    if done.returncode == 0 and not lines:
        return []
    return [f"git fsck: {line}" for line in lines] or [f"git fsck exited {done.returncode}"]
