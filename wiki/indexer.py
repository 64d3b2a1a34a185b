"""Keeps the search index in step with git, in every process, without blocking saves.

The index records the commit it reflects. Whatever moved `refs/heads/main`
(a web or API save, a git push, a commit made by another program) the index
catches up by diffing that commit's tree against the head and re-indexing only
the pages that changed. A missing, unreadable or foreign index (its commit is
not in the repository) is rebuilt from git, in the background.

Exactly one process writes at a time: the writer takes an `fcntl` lock on
`DATA_DIR/index.lock` without blocking, so a busy lock just means another
worker is already catching up. Under `cowiki serve` the index process
(cowiki/indexing.py) does the catching up: `notify()` rings it
(wiki/indexwake.py). Where none listens, each process has at most one indexer
thread, woken by `notify()` after a change and by a search that finds the
index behind; it exits when idle, so short-lived apps (tests, the CLI) leave
no threads behind. Searches wait briefly for a catch-up and never for a rebuild.

Catch-ups are batched: one starts at most every BATCH_SECONDS after the index
last moved, in whichever process, so a burst of saves is indexed in one
commit, each page once, instead of one catch-up per save competing with the
saves for the worker's CPU. A save made while the index is quiet is indexed
at once, and a search that finds the index behind cuts the pause short.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path

from storage.inspect import is_commit
from storage.names import page_name_from_file
from storage.repository import Person, Repository
from storage.treediff import diff_commits, last_changes
from wiki.accounts import Accounts
from wiki.filelock import held
from wiki.indexwake import Bell
from wiki.pagetext import PageText, page_text
from wiki.people import display_names, emails_of
from wiki.render import Renderer
from wiki.search import IndexUnavailable, SearchIndex, SearchResults
from wiki.wikilang import WikiLanguage

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
IDLE_SECONDS = 5.0
BATCH_SECONDS = 0.5  # the least time between two catch-ups while saves keep coming
SEARCH_WAIT_SECONDS = 1.5
POLL_SECONDS = 0.05
RUNG_POLL_SECONDS = 0.005  # how often a search waiting for the index process looks again
PROGRESS_EVERY = 100


def _no_progress(done: int, total: int) -> None:
    """Progress callback that reports nothing."""


class Indexer:
    """The search index of one data directory and the machinery that keeps it current."""

    def __init__(self, repo: Repository, directory: Path, lock_path: Path,
                 renderer: Renderer | None = None, accounts: Accounts | None = None,
                 language: WikiLanguage | None = None, bell: Bell | None = None) -> None:
        self.repo = repo
        self.bell = bell  # the index process's, when one may run (wiki/indexwake.py)
        self.language = language  # the wiki's: pages too short to tell their own are in it
        self.accounts = accounts  # names and emails of people, for `author:` and hits
        self.index = SearchIndex(directory, partial(emails_of, accounts) if accounts else None)
        self.lock_path = lock_path
        self.renderer = renderer or Renderer()  # the app's, so pages format once for both
        self._wake = threading.Event()
        self._hurry = threading.Event()  # a search waits: no pause before the next catch-up
        self._caught_up = threading.Condition()  # told after each catch-up in this process
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- asking --------------------------------------------------------------

    def is_fresh(self) -> bool:
        """True when the index reflects the current head (two small file reads)."""
        return self.repo.head() == self.index.indexed_commit()

    def search(self, text: str, lang: str | None = None, page: int = 1,
               per_page: int = 10) -> SearchResults:
        """Search, after giving a pending catch-up a moment to finish."""
        fresh = self.wait_fresh(SEARCH_WAIT_SECONDS)
        for _attempt in range(2):
            try:
                results = self._named(self.index.search(text, lang, page, per_page))
            except IndexUnavailable:
                time.sleep(POLL_SECONDS)  # a writer may just be swapping segments
                continue
            return results if fresh else replace(results, fresh=False)
        if fresh:  # the files are damaged although the commit file looks current
            self.index.forget()
        self.notify()
        return SearchResults(query=text, total=0, page=page, per_page=per_page, fresh=False)

    def _named(self, results: SearchResults) -> SearchResults:
        """Hits with their last author as the wiki shows them (wiki.people)."""
        if self.accounts is None or not results.hits:
            return results
        names = display_names(self.accounts)
        return replace(results, hits=tuple(replace(hit, author=names(hit.author, hit.email))
                                           for hit in results.hits))

    def wait_fresh(self, timeout: float) -> bool:
        """Wake the indexer if the index is behind and wait up to `timeout` seconds.

        This process's indexer says when it caught up, so a search right after a
        save waits for the catch-up only; another process's is seen by looking
        again every POLL_SECONDS."""
        if self.is_fresh():
            return True
        rung = self.notify(hurry=True)
        poll = RUNG_POLL_SECONDS if rung else POLL_SECONDS
        deadline = time.monotonic() + timeout
        with self._caught_up:
            while not self.is_fresh():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._caught_up.wait(min(poll, left))
        return True

    # -- the background thread -------------------------------------------------

    def notify(self, hurry: bool = False) -> bool:
        """Tell the indexer that `main` may have moved; returns at once. With `hurry` a
        search waits: no batching pause. True when the index process was told, False
        when this process catches up itself."""
        if self.bell is not None and self.bell.ring(hurry):
            return True
        if hurry:
            self._hurry.set()
        self._wake_thread()
        return False

    def work_here(self) -> None:
        """Catch up in this process from now on (the index process itself)."""
        self.bell = None

    def _wake_thread(self) -> None:
        self._wake.set()
        with self._guard:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="cowiki-indexer",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                self._catch_up_until_fresh()
            except Exception:
                log.exception("search indexing failed; retrying on the next change")
            finally:
                # Names and the wiki's language came from the database: give the
                # connection back while idle (a --root may run many indexers).
                if self.accounts is not None:
                    self.accounts.db.release()
            if not self._wake.wait(IDLE_SECONDS):
                with self._guard:
                    if not self._wake.is_set():
                        self._thread = None
                        return

    def _catch_up_until_fresh(self) -> None:
        while not self.is_fresh():
            self._gather()
            if not self.catch_up(blocking=False):
                time.sleep(POLL_SECONDS * 2)  # another process is writing; it may miss our head

    def _gather(self) -> None:
        """Let more saves arrive until BATCH_SECONDS after the index last moved, unless a
        search is waiting. The index's own file says when it moved, in any process."""
        pause = BATCH_SECONDS - (time.time() - self.index.moved_at())
        if pause > 0:
            self._hurry.wait(min(pause, BATCH_SECONDS))  # a clock set back waits no longer
        self._hurry.clear()

    # -- writing ---------------------------------------------------------------

    def _writer_lock(self, blocking: bool) -> AbstractContextManager[bool]:
        return held(self.lock_path, blocking)

    def catch_up(self, blocking: bool = True, progress: Progress = _no_progress) -> bool:
        """Bring the index to the head: a tree diff, or a rebuild when it has no usable base.

        Returns False (having done nothing) when another process holds the
        writer lock and `blocking` is off.
        """
        with self._writer_lock(blocking) as locked:
            if not locked:
                return False
            head = self.repo.head()
            indexed = self.index.indexed_commit()
            if head is None or head == indexed:
                return True
            try:
                if indexed is None or not self._has_commit(indexed):
                    self._build(head, progress)
                else:
                    self._apply_diff(indexed, head, progress)
            except Exception:
                # A fresh build goes beside the current index, which stays until it is complete.
                log.exception("search index update failed; rebuilding it from git")
                self._build(head, progress)
        with self._caught_up:
            self._caught_up.notify_all()  # searches waiting in wait_fresh look again
        return True

    def rebuild(self, progress: Progress = _no_progress) -> int:
        """Rebuild the whole index from the head, waiting for the writer lock; page count."""
        with self._writer_lock(blocking=True):
            head = self.repo.head()
            return 0 if head is None else self._build(head, progress)

    def _has_commit(self, commit: str) -> bool:
        return is_commit(self.repo, commit)

    def _build(self, head: str, progress: Progress) -> int:
        entries = [(name, entry.blob) for entry in self.repo.files(head)
                   if (name := page_name_from_file(entry.path)) is not None]
        changes = last_changes(self.repo, head, {name + ".md" for name, _ in entries})
        total, fallback = len(entries), self._wiki_language()
        progress(0, total)
        with self.index.update(head, fresh=True) as batch:
            for done, (name, blob) in enumerate(entries, 1):
                batch.put(self._page(name, blob, changes, fallback))
                if done % PROGRESS_EVERY == 0 or done == total:
                    progress(done, total)
        log.info("search index rebuilt at %s with %d pages", head[:10], total)
        return total

    def _apply_diff(self, indexed: str, head: str, progress: Progress) -> None:
        removed: set[str] = set()
        changed: dict[str, str] = {}
        for change in diff_commits(self.repo, indexed, head):
            removed.add(change.path)
            if not change.deleted:
                changed[change.path] = change.blob
        pages = {path: blob for path, blob in changed.items() if page_name_from_file(path)}
        changes = last_changes(self.repo, head, set(pages), hide=indexed)
        progress(0, len(pages))
        fallback = self._wiki_language()
        with self.index.update(head) as batch:
            for path in removed - set(pages):
                if (name := page_name_from_file(path)) is not None:
                    batch.delete(name)
            for done, (path, blob) in enumerate(pages.items(), 1):
                batch.put(self._page(path[:-3], blob, changes, fallback))
                if done % PROGRESS_EVERY == 0:
                    progress(done, len(pages))
        progress(len(pages), len(pages))

    def _wiki_language(self) -> str:
        return self.language.get() if self.language is not None else "en"

    def _page(self, name: str, blob: str, changes: dict[str, tuple[Person, datetime]],
              fallback: str) -> PageText:
        text = self.repo.read_blob(blob).decode("utf-8", errors="replace")
        found = page_text(self.renderer, name, blob, text, fallback)
        change = changes.get(name + ".md")
        if change is None:
            return found
        return replace(found, author=change[0].name, email=change[0].email, date=change[1])

