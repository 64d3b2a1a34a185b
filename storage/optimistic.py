"""A commit built and written outside the writer lock: only the ref swap waits for it.

A stale web save merges three texts with `git merge-file` and looks up whose
edits it merged; every save writes a blob, the trees above it and a commit.
Under the writer lock each of those milliseconds is one every other save of
the wiki would wait for. `commit_reading` reads the head, builds the change
and writes all of its objects without the lock; under the lock it only swaps
the ref when main has not moved. When it has moved, and the paths the build
read are unchanged there, the same blobs go on the new head (the trees above
them and a commit, no merge); when one of them changed, the build runs again
outside the lock on the new head.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from storage.repository import (
    Blobs,
    Changes,
    Person,
    Repository,
    folder_vanished,
    write_failures,
)

MAX_REBUILDS = 8  # builds outside the writer lock before one is made under it


class _ReadsMoved(Exception):
    """A path the build read changed on main since: build again, outside the lock."""


def commit_reading(repo: Repository, build: Callable[[str | None], Changes | None],
                   reads: Collection[str], author: Person, message: str,
                   committer: Person | None = None) -> str | None:
    """`Repository.commit`, with `build(head)` and the object writes outside the writer lock.

    `build` may read only the paths `reads` at `head`. Its blobs, trees and commit
    are written on that head before the lock is taken. Under the lock, if main is
    still there, only the ref moves; if main moved but those paths are unchanged,
    the written blobs go on the new head as they are; if one of them changed,
    `build` runs again outside the lock on the new head. After MAX_REBUILDS tries
    it runs under the lock, as `Repository.commit` does, so a busy page cannot
    starve a save. Returns the new commit, or None when there was nothing to
    change. `committer` as in `Repository.commit`.
    """
    for _attempt in range(MAX_REBUILDS):
        built_on = repo.head()
        changes = build(built_on)
        if not changes:
            return None
        blobs, written = _write(repo, built_on, changes, author, message, committer)

        def step(head: str | None, built_on: str | None = built_on, blobs: Blobs = blobs,
                 written: str | None = written) -> str | None:
            if head == built_on:
                return written
            if any(repo.blob_id(head, path) != repo.blob_id(built_on, path) for path in reads):
                raise _ReadsMoved
            return repo.write_commit(head, blobs, author, message, committer=committer)

        try:
            return repo.advance(step)
        except _ReadsMoved:
            continue
    return repo.commit(build, author, message, committer)


def _write(repo: Repository, head: str | None, changes: Changes, author: Person, message: str,
           committer: Person | None) -> tuple[Blobs, str | None]:
    """The blobs of `changes` and a commit of them on `head`, written without the lock
    (objects are immutable; only the ref needs it). A write that lost a race with
    `git gc` is made again; a failed one is RepositoryWriteFailed, as under the lock."""
    attempt = 0
    with write_failures():
        while True:
            try:
                blobs = {path: None if data is None else repo.write_blob(data)
                         for path, data in changes.items()}
                return blobs, repo.write_commit(head, blobs, author, message, committer=committer)
            except OSError as exc:
                attempt += 1
                if attempt > 3 or not folder_vanished(exc):
                    raise
