"""Suggested page texts as commits on `refs/suggestions/<id>`, beside `main`, never on it.

A suggestion's commit has the revision it was made on as its only parent and
the suggester as author, so `git fetch origin 'refs/suggestions/*:...'` shows
it to git users as a branch one commit ahead of that revision. These refs are
written here only; the pre-receive hook refuses pushes to them.
"""

from __future__ import annotations

import contextlib

import pygit2

from storage.repository import Person, Repository

PREFIX = "refs/suggestions/"


def suggestion_ref(number: int) -> str:
    """The ref that holds suggestion `number`."""
    return f"{PREFIX}{number:d}"


def write_suggestion(repo: Repository, number: int, base: str, path: str, data: bytes,
                     author: Person, message: str) -> str | None:
    """Commit `data` as `path` on `base` and point the suggestion's ref at it (replacing
    an earlier one); None, writing nothing, when that would change nothing."""
    commit = repo.write_commit(base, {path: data}, author, message)
    if commit is not None:
        repo.git.references.create(suggestion_ref(number), commit, force=True)
    return commit


def suggestion_commit(repo: Repository, number: int) -> str | None:
    """The commit suggestion `number` points to, or None when its ref is gone."""
    try:
        return str(repo.git.references[suggestion_ref(number)].target)
    except (KeyError, pygit2.InvalidSpecError):
        return None


def delete_suggestion(repo: Repository, number: int) -> None:
    """Remove suggestion `number`'s ref (its commit goes with the next `git gc`)."""
    with contextlib.suppress(KeyError):
        repo.git.references.delete(suggestion_ref(number))
