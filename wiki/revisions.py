"""A page's past: history following renames, diffs between revisions, blame, recent changes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from storage.history import BlameLine, Contribution, LogEntry
from storage.names import normalize_page_name, page_file, page_name_from_file
from wiki.accounts import Accounts
from wiki.errors import N_, InvalidInput, PageNotFound
from wiki.pages import PageStore
from wiki.people import Namer, display_names, git_name, renamed

KINDS = {"A": "created", "M": "edited", "D": "deleted", "R": "renamed", "C": "copied"}


@dataclass(frozen=True)
class Revision:
    """One commit in a page's history, with the page's name at that commit."""

    revision: str
    author: str
    email: str
    date: datetime
    message: str
    name: str
    kind: str
    old_name: str | None
    committer: str


@dataclass(frozen=True)
class ChangedPage:
    """A page touched by a commit in the recent-changes list."""

    name: str
    kind: str
    old_name: str | None


@dataclass(frozen=True)
class RecentChange:
    """A commit in the wiki-wide recent changes."""

    revision: str
    author: str
    email: str
    date: datetime
    message: str
    pages: tuple[ChangedPage, ...]
    files: int


def history(store: PageStore, name: str, limit: int = 100, skip: int = 0,
            names: Namer = git_name) -> list[Revision]:
    """Commits that changed page `name`, newest first, following renames; authors by `names`."""
    name = normalize_page_name(name)
    entries = store.history.log(page_file(name), limit=limit, skip=skip)
    if not entries and skip == 0:
        raise PageNotFound(N_("page “{name}”"), name=name)
    return renamed((_revision(entry, name) for entry in entries), names)


def _revision(entry: LogEntry, fallback: str) -> Revision:
    for change in entry.changes:
        page = page_name_from_file(change.path)
        if page is not None:
            old = page_name_from_file(change.old_path) if change.old_path else None
            return Revision(entry.revision, entry.author, entry.email, entry.date,
                            entry.message, page, KINDS.get(change.status, "edited"), old,
                            entry.committer)
    return Revision(entry.revision, entry.author, entry.email, entry.date, entry.message,
                    fallback, "edited", None, entry.committer)


def texts(store: PageStore, name: str, old_rev: str, new_rev: str) -> tuple[str, str]:
    """The page's text at two revisions ('' where it did not exist)."""
    name = normalize_page_name(name)
    old, new = store.repo.resolve(old_rev), store.repo.resolve(new_rev)
    return store.text_at(name, old) or "", store.text_at(name, new) or ""


def parent_of(store: PageStore, revision: str) -> str | None:
    """The first parent of a commit, if any."""
    commit = store.repo.commit_info(store.repo.resolve(revision))
    return str(commit.parent_ids[0]) if commit.parent_ids else None


def blame(store: PageStore, name: str, revision: str | None = None,
          names: Namer = git_name) -> list[BlameLine]:
    """Every line of the page with the author (by `names`) and commit that last changed it."""
    page = store.get(name, revision)
    return renamed(store.history.blame(page.revision, page_file(page.name)), names)


def recent_changes(store: PageStore, limit: int = 50, skip: int = 0,
                   author_email: str | None = None, names: Namer = git_name
                   ) -> list[RecentChange]:
    """Commits across the wiki (or by one author), newest first, with the pages each touched.

    Authors are shown by `names` (see wiki.people.display_names).
    """
    if not 1 <= limit <= 500 or skip < 0:
        raise InvalidInput(N_("limit must be 1-{most}"), most=500)
    result = []
    for entry in store.history.log(limit=limit, skip=skip, author_email=author_email):
        pages = []
        for change in entry.changes:
            page = page_name_from_file(change.path)
            if page is not None:
                old = page_name_from_file(change.old_path) if change.old_path else None
                pages.append(ChangedPage(page, KINDS.get(change.status, "edited"), old))
        result.append(RecentChange(entry.revision, names(entry.author, entry.email), entry.email,
                                   entry.date, entry.message, tuple(pages), len(entry.changes)))
    return result


def contributors(store: PageStore, accounts: Accounts | None = None) -> list[Contribution]:
    """Authors by number of commits, with the lines they added and removed.

    Commits are grouped by author email; with `accounts`, an email that belongs
    to an account is shown under the account's name, so work pushed from a
    laptop with a different git user.name counts for the same person.
    """
    names = display_names(accounts) if accounts else git_name
    return [replace(c, name=names(c.name, c.email))
            for c in store.history.contributions()
            if c.email != store.repo.committer.email or c.name != store.repo.committer.name]
