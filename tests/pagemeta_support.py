"""Checks shared by the page-metadata tests: the cache's wiki-wide answers against git's."""

from __future__ import annotations

import subprocess
from pathlib import Path

from storage.history import History
from storage.repository import MAIN_REF
from wiki import revisions
from wiki.datadir import Services
from wiki.pages import PageStore


def git_log_ids(services: Services) -> list[str]:
    """`git log`'s own list of commits on main, newest first."""
    return subprocess.run(["git", "--git-dir", str(services.repo.path), "log", "--format=%H",
                           MAIN_REF], check=True, capture_output=True, text=True
                          ).stdout.split()


def assert_cache_answers_as_git(services: Services, nowhere: Path) -> None:
    """Recent changes (paged, by author) and contributors from the cache equal git's.

    The cache is read while its git path points to `nowhere` (a missing folder), so
    an answer it left to git would come back empty and differ.
    """
    meta, plain = services.pagemeta, History(services.repo.path)
    assert meta.catch_up() and meta._fresh() == services.repo.head()
    total = len(git_log_ids(services))
    pages = [(total + 5, 0), (3, 0), (4, 2), (2, total - 1), (5, total)]
    emails = sorted({e.email for e in plain.log(limit=total)}) + [
        "ANNA@EXAMPLE.ORG", "nobody@example.org"]
    plain_store = PageStore(services.repo, plain, services.pages.max_page_bytes)

    def answers(store: PageStore) -> tuple[object, ...]:
        history = store.history
        return ([e.revision for e in history.log(limit=total + 5)],
                [history.log(limit=limit, skip=skip) for limit, skip in pages],
                [history.log(limit=limit, skip=skip, author_email=email)
                 for email in emails for limit, skip in ((50, 0), (1, 1))],
                history.contributions(),
                revisions.recent_changes(store, limit=500),
                revisions.contributors(store, services.accounts))

    meta.path = nowhere
    try:
        cached = answers(services.pages)
    finally:
        meta.path = services.repo.path
    assert cached == answers(plain_store)
    assert cached[0] == git_log_ids(services)
