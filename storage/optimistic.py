"""A commit built outside the writer lock: only putting it on the head and the ref swap wait.

A stale web save merges three texts with `git merge-file` and looks up whose
edits it merged: milliseconds that, under the writer lock, every other save
of the wiki would wait for. `commit_reading` builds the change on the head it
reads first, without the lock, and under the lock only checks that what the
build read is still the same, writes the commit on the current head and
swaps the ref.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from storage.repository import Changes, Person, Repository

MAX_REBUILDS = 8  # builds outside the writer lock before one is made under it


class _ReadsMoved(Exception):
    """A path the build read changed on main since: build again, outside the lock."""


def commit_reading(repo: Repository, build: Callable[[str | None], Changes | None],
                   reads: Collection[str], author: Person, message: str,
                   committer: Person | None = None) -> str | None:
    """`Repository.commit`, with `build(head)` run outside the writer lock.

    `build` may read only the paths `reads` at `head`. Under the lock, if main
    moved meanwhile but those paths are unchanged there, the changes go on the
    new head as they are; if one of them changed, `build` runs again outside the
    lock on the new head. After MAX_REBUILDS tries it runs under the lock, as
    `Repository.commit` does, so a busy page cannot starve a save. Returns the
    new commit, or None when there was nothing to change. `committer` as in
    `Repository.commit`.
    """
    for _attempt in range(MAX_REBUILDS):
        built_on = repo.head()
        changes = build(built_on)
        if not changes:
            return None

        def step(head: str | None, built_on: str | None = built_on,
                 changes: Changes = changes) -> str | None:
            if head != built_on and any(repo.blob_id(head, path) != repo.blob_id(built_on, path)
                                        for path in reads):
                raise _ReadsMoved
            return repo.write_commit(head, changes, author, message, committer=committer)

        try:
            return repo.advance(step)
        except _ReadsMoved:
            continue
    return repo.commit(build, author, message, committer)
