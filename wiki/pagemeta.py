"""Page metadata: git's answers about history, kept in SQLite so they cost the same at any size.

`PageMeta` is a `History` (storage/history.py) that answers last change,
page history (following renames), recent changes, contributors and blame
from a cache in `DATA_DIR/pagemeta.db`, and asks git whenever the cache
cannot give exactly git's answer. The cache holds what `git log
--first-parent` said about every commit (storage/pagelog.py), records the
commit it reflects, and catches up from there to the head: after every
change through the change door (wiki/wiring.py), and on any read that finds
`main` moved (a push, a commit made outside the app). It is rebuilt from git
when missing, damaged or when history was rewritten; deleting it loses
nothing. Blame of a fixed revision never changes, so each is computed once.

Paths a merge changed are answered from what `git log -- <path>` shows from the
merge (storage/pathwalk.py); recent changes and contributors from every commit in
`git log`'s own order (wiki/pagemeta_log.py). Left to git: revisions off the
chain, side-branch renames, a page's history by one author.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

from storage.history import MAX_RENAMES, BlameLine, Contribution, FileChange, History, LogEntry
from storage.names import page_file, page_name_from_file
from storage.pagelog import HistoryRewritten, logged_commit, new_commits
from storage.repository import MAIN_REF, Repository
from wiki.changes import PAGE_EDITS, Change
from wiki.filelock import held
from wiki.pagelist import FilesAt
from wiki.pagemeta_log import COMMIT_COLUMNS, entry, order_key, recent
from wiki.pagemeta_schema import SCHEMA, SCHEMA_VERSION, apply_commits

log = logging.getLogger(__name__)
HEX = frozenset("0123456789abcdef")
CATCH_UP_ROUNDS = 20
AWAIT_CATCH_UP_SECONDS = 2.0  # longer (a first build) and the reader asks git instead


class PageMeta(History):
    """History answered from the page-metadata cache when it is exact, else by git."""

    def __init__(self, repo: Repository, path: Path, lock_path: Path) -> None:
        super().__init__(repo.path)
        self.repo = repo
        self.db_path = path
        self.lock_path = lock_path
        self._local = threading.local()
        self._rebuilding = threading.Lock()

    # -- keeping up with git ---------------------------------------------------

    def catch_up(self, blocking: bool = True) -> bool:
        """Bring the cache to the head of `main`; False when another process holds the lock."""
        with self._lock(blocking) as locked:
            if not locked:
                return False
            head = self.repo.head()
            reflected = self._reflected()
            if head is None or head == reflected:
                return True
            try:
                commits = new_commits(self.repo, head, reflected)
            except HistoryRewritten:
                log.info("page metadata: %s left the history; rebuilding", reflected)
                reflected, commits = None, new_commits(self.repo, head, None)
            with self._transaction() as conn:
                apply_commits(conn, self.repo, commits, fresh=reflected is None)
                conn.execute("INSERT OR REPLACE INTO state VALUES ('commit', ?)", (head,))
            return True

    def follow(self, change: Change) -> None:
        """The change door's listener: a page edit's commit is recorded at once (the page is
        known, so only it is compared); anything else, or a commit another writer
        recorded first, is caught up with in the background."""
        try:
            if self._record(change) and self._reflected() == self.repo.head():
                return
        except (sqlite3.Error, OSError):
            log.warning("page metadata: recording %s failed; catching up instead",
                        change.revision, exc_info=True)
        self._rebuild_in_background()

    def _record(self, change: Change) -> bool:
        """Add a page edit's commit when the cache reflects its parent; False otherwise."""
        if change.kind not in PAGE_EDITS or not change.details.get("changed", True):
            return False
        parent = self.repo.commit_info(change.revision).parent_ids
        if len(parent) != 1 or self._reflected() != str(parent[0]):
            return False
        with self._lock(blocking=False) as locked:
            if not locked or self._reflected() != str(parent[0]):
                return False
            commit = logged_commit(self.repo, change.revision, [page_file(change.pages[0])])
            with self._transaction() as conn:
                apply_commits(conn, self.repo, [commit], fresh=False)
                conn.execute("INSERT OR REPLACE INTO state VALUES ('commit', ?)",
                             (change.revision,))
            return True

    def forget(self) -> None:
        """Drop the cache file (it is rebuilt from git on the next catch-up)."""
        self._local.__dict__.clear()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.db_path}{suffix}").unlink(missing_ok=True)

    def _fresh(self) -> str | None:
        """The head when the cache reflects it (catching up if need be), else None: ask git."""
        head = self.repo.head()
        try:
            reflected = self._reflected()
            if head is None or head == reflected:
                return head
            self._await_background_catch_up()
            reflected = self._reflected()
            if head == reflected:
                return head
            if reflected is None:
                self._rebuild_in_background()
                return None
            if self.catch_up(blocking=False) and self._reflected() == head:
                return head
        except (sqlite3.Error, OSError):
            self._damaged()
        return None

    def _damaged(self) -> None:
        log.exception("page metadata unreadable; rebuilding it from git")
        self.forget()
        self._rebuild_in_background()

    def _await_background_catch_up(self) -> None:
        """Let this process's background catch-up (a few ms after a save) finish first."""
        if self._rebuilding.acquire(timeout=AWAIT_CATCH_UP_SECONDS):
            self._rebuilding.release()

    def _rebuild_in_background(self) -> None:
        if self._rebuilding.acquire(blocking=False):
            threading.Thread(target=self._rebuild, name="cowiki-pagemeta", daemon=True).start()

    def _rebuild(self) -> None:
        try:
            for _attempt in range(CATCH_UP_ROUNDS):  # saves may land while it catches up
                if not self.catch_up() or self._reflected() == self.repo.head():
                    break
        except Exception:
            log.exception("page metadata rebuild failed; git answers meanwhile")
        finally:
            self._rebuilding.release()

    # -- answers ---------------------------------------------------------------

    def last_change(self, path: str, rev: str = MAIN_REF) -> LogEntry | None:
        """The newest commit that touched `path` at `rev`."""
        def cached() -> list[LogEntry] | None:
            bound = self._bound(rev)
            first = None if bound is None else next(self._shown(path, bound), None)
            return None if bound is None else [] if first is None else [first.entry]
        found = self._cached(cached)
        if found is None:
            return super().last_change(path, rev)
        return replace(found[0], changes=()) if found else None

    def log(self, path: str | None = None, limit: int = 100, skip: int = 0,
            rev: str = MAIN_REF, author_email: str | None = None) -> list[LogEntry]:
        """Commits newest first; for a path following its renames (see History.log)."""
        def cached() -> list[LogEntry] | None:
            if path is not None and author_email is None:
                span = self._span(rev)
                return None if span is None else self._follow_cached(path, limit, skip, *span)
            start = self._order_key(rev) if path is None else None
            return None if start is None else recent(self._conn(), start, limit, skip,
                                                     author_email)
        found = self._cached(cached)
        return super().log(path, limit, skip, rev, author_email) if found is None else found

    def _cached(self, answer: Callable[[], list[LogEntry] | None]) -> list[LogEntry] | None:
        """The cache's answer, or None (ask git) when it has none or turns out damaged."""
        try:
            return answer()
        except sqlite3.Error:
            self._damaged()
            return None

    def _follow_cached(self, path: str, limit: int, skip: int, bound: int, lower: int
                       ) -> list[LogEntry] | None:
        """What `History._follow` answers, from the cache; None where git must answer (a
        range across a merge of the path, a rename made off the first-parent chain)."""
        wanted, entries = skip + limit, list[LogEntry]()
        for _ in range(MAX_RENAMES):
            if lower and self._conn().execute("SELECT 1 FROM walks WHERE path = ? AND seq > ? "
                                              "AND seq <= ?", (path, lower, bound)).fetchone():
                return None
            found = list(islice(self._shown(path, bound, lower), wanted - len(entries)))
            entries += [shown.entry for shown in found]
            if len(entries) >= wanted or not found:
                break
            oldest = found[-1]
            if oldest.status != "A" or oldest.old_path is None:
                break
            if oldest.seq is None:
                return None
            entries[-1] = replace(oldest.entry, changes=(FileChange("R", path, oldest.old_path),))
            # git goes on from the renaming commit's parent, with no lower end (History._follow).
            path, bound, lower = oldest.old_path, oldest.seq - 1, 0
        return entries[skip:wanted]

    def _shown(self, path: str, bound: int, lower: int = 0) -> Iterator[Shown]:
        """What `git log -- <path>` shows from chain commit `bound` (down to `lower`),
        newest first: the chain's own commits, and from a merge that changed the path
        the commits its walk showed, then on from where the walk rejoined the chain."""
        conn = self._conn()
        while bound > lower:
            merge = conn.execute(
                "SELECT seq, resume FROM walks WHERE path = ? AND seq <= ? AND seq > ? "
                "ORDER BY seq DESC LIMIT 1", (path, bound, lower)).fetchone()
            floor = lower if merge is None else int(merge["seq"])
            for row in conn.execute(
                    f"SELECT {COMMIT_COLUMNS}, t.status, t.old_path FROM touches t "  # noqa: S608
                    "JOIN commits c ON c.seq = t.seq WHERE t.path = ? AND t.seq <= ? "
                    "AND t.seq > ? ORDER BY t.seq DESC", (path, bound, floor)):
                yield Shown(entry(row, (FileChange(row["status"], path),)), row["status"],
                            row["old_path"], int(row["seq"]))
            if merge is None:
                return
            for row in conn.execute("SELECT * FROM walked WHERE path = ? AND seq = ? "
                                    "ORDER BY pos", (path, merge["seq"])):
                changes = (FileChange(row["status"], path),) if row["status"] else ()
                yield Shown(entry(row, changes), row["status"], row["old_path"], None)
            bound = int(merge["resume"])

    def contributions(self, rev: str = MAIN_REF) -> list[Contribution]:
        """Every author's commits and added/removed lines, most commits first."""
        if self._bound(rev) != self._top():
            return super().contributions(rev)
        result = [Contribution(r["name"], r["key"], r["commits"], r["added"], r["removed"])
                  for r in self._conn().execute("SELECT * FROM authors")]
        return sorted(result, key=lambda c: (-c.commits, -c.lines_added, c.name))

    def blame(self, rev: str, path: str) -> list[BlameLine]:
        """Author of every line of `path` at `rev`, computed once per revision of the page."""
        try:
            key = self._blame_revision(rev, path)
            row = self._conn().execute("SELECT lines FROM blame WHERE revision = ? AND path = ?",
                                       (key, path)).fetchone()
        except (sqlite3.Error, OSError):
            return super().blame(rev, path)
        if row is not None:
            return [BlameLine(n, text, r, a, e, datetime.fromtimestamp(d, UTC), s)
                    for n, text, r, a, e, d, s in json.loads(row["lines"])]
        lines = super().blame(key, path)
        data = json.dumps([[b.line, b.text, b.revision, b.author, b.email,
                            int(b.date.timestamp()), b.summary] for b in lines])
        try:
            with self._transaction() as conn:
                conn.execute("INSERT OR IGNORE INTO blame VALUES (?, ?, ?)", (key, path, data))
        except sqlite3.Error:
            log.warning("blame cache not written", exc_info=True)
        return lines

    def _blame_revision(self, rev: str, path: str) -> str:
        """The commit that last changed `path` at `rev`: its blame is the same, and is shared
        by every later head until the page changes again. `rev` itself when unknown."""
        bound = self._bound(rev)
        first = None if bound is None else next(self._shown(path, bound), None)
        return rev if first is None else first.entry.revision

    def page_titles(self) -> dict[str, tuple[str, str]] | None:
        """Every page at the head as {name: (title, blob)}, or None when git must be read."""
        if self._fresh() is None:
            return None
        return {name: (row["title"], row["blob"])
                for row in self._conn().execute("SELECT path, blob, title FROM pages")
                if (name := page_name_from_file(row["path"])) is not None}

    def files_changed(self, old: str, new: str, most: int) -> FilesAt | None:
        """The files that differ between commit `old` and the head `new`, each with its
        (title, blob) at `new`, or None where it is gone or not a regular file. None when
        the cache cannot say: it is not at `new`, `old` is not on its first-parent chain
        (whose commits' changes add up to the difference), or over `most` files changed."""
        try:
            if self._fresh() != new:
                return None
            conn = self._conn()
            row = conn.execute("SELECT seq FROM commits WHERE revision = ?", (old,)).fetchone()
            if row is None:
                return None
            paths = [r[0] for r in conn.execute(
                "SELECT path FROM changes WHERE seq > ?1 UNION SELECT old_path FROM changes"
                " WHERE seq > ?1 AND old_path IS NOT NULL", (int(row["seq"]),))]
            if len(paths) > most:
                return None
            marks = ",".join("?" * len(paths))
            found = {r["path"]: (r["title"], r["blob"]) for r in conn.execute(
                f"SELECT path, blob, title FROM pages WHERE path IN ({marks})", paths)}  # noqa: S608
        except sqlite3.Error:
            return None  # git answers; the next read that finds the cache damaged rebuilds it
        return {path: found.get(path) for path in paths}

    # -- the cache's own state -------------------------------------------------

    def _bound(self, rev: str) -> int | None:
        """The newest commit sequence number visible from `rev`, or None: ask git."""
        head = self._fresh()
        if head is None:
            return None
        try:
            if rev in (MAIN_REF, head):
                return self._top()
            row = self._conn().execute("SELECT seq FROM commits WHERE revision = ?",
                                       (rev,)).fetchone()
        except sqlite3.Error:
            return None
        return None if row is None else int(row["seq"])

    def _top(self) -> int:
        row = self._conn().execute("SELECT max(seq) FROM commits").fetchone()
        return int(row[0] or 0)

    def _order_key(self, rev: str) -> int | None:
        """Where `git log <rev>` starts in the cache's order of all commits, or None: ask git."""
        head = self._fresh()
        if head is None:
            return None
        return order_key(self._conn(), None if rev in (MAIN_REF, head) else rev)

    def _span(self, rev: str) -> tuple[int, int] | None:
        """`rev` or `old..new` as (bound, lower) sequence numbers, or None: ask git."""
        old, dots, new = rev.partition("..")
        if not dots:
            bound = self._bound(rev)
            return None if bound is None else (bound, 0)
        if not (set(old) <= HEX and len(old) == 40):
            return None
        bound, lower = self._bound(new), self._bound(old)
        return None if bound is None or lower is None else (bound, lower)

    def _reflected(self) -> str | None:
        """The commit the cache reflects; None when empty or written by another schema."""
        rows = dict(self._conn().execute(
            "SELECT key, value FROM state WHERE key IN ('commit', 'schema')").fetchall())
        if rows.get("schema") != SCHEMA_VERSION:
            return None
        return rows.get("commit")

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection; a new one when the file was deleted or replaced."""
        local = self._local
        try:
            inode = os.stat(self.db_path).st_ino
        except FileNotFoundError:
            inode = None
        if getattr(local, "key", None) != (os.getpid(), inode) or inode is None:
            conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(SCHEMA)
            local.conn, local.key = conn, (os.getpid(), os.stat(self.db_path).st_ino)
        connection: sqlite3.Connection = local.conn
        return connection

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _lock(self, blocking: bool) -> AbstractContextManager[bool]:
        return held(self.lock_path, blocking)


@dataclass(frozen=True)
class Shown:
    """A commit `git log -- <path>` shows: the entry, the path's status, the old path of a
    rename, and the commit's place on the first-parent chain (None: off the chain)."""

    entry: LogEntry
    status: str
    old_path: str | None
    seq: int | None
