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

Where git's history simplification could differ from a first-parent walk (a
path changed by a merge; recent changes and contributors once any merge is
on the chain; revisions off the chain) git answers, as before.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from storage.history import MAX_RENAMES, BlameLine, Contribution, FileChange, History, LogEntry
from storage.names import page_name_from_file
from storage.pagelog import HistoryRewritten, first_parent_log
from storage.repository import MAIN_REF, Repository
from wiki.filelock import held
from wiki.pagemeta_schema import SCHEMA, apply_commits

log = logging.getLogger(__name__)
COMMIT_COLUMNS = ("c.seq, c.revision, c.author, c.email, c.date, c.committer, "
                  "c.committer_email, c.message")
Row = sqlite3.Row
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
                commits = first_parent_log(str(self.path), head, reflected)
            except HistoryRewritten:
                log.info("page metadata: %s left the history; rebuilding", reflected)
                reflected, commits = None, first_parent_log(str(self.path), head, None)
            with self._transaction() as conn:
                apply_commits(conn, self.repo, commits, fresh=reflected is None)
                conn.execute("INSERT OR REPLACE INTO state VALUES ('commit', ?)", (head,))
            return True

    def follow(self, _change: object) -> None:
        """The change door's listener: catch up with the commit a change made, in the
        background, so a save never waits for `git log` (a read that comes first
        catches up itself, or asks git)."""
        self._rebuild_in_background()

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
            log.exception("page metadata unreadable; rebuilding it from git")
            self.forget()
            self._rebuild_in_background()
        return None

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
        bound = self._bound(rev)
        if bound is None or self._tangled(path):
            return super().last_change(path, rev)
        row = self._conn().execute(
            f"SELECT {COMMIT_COLUMNS} FROM touches t JOIN commits c ON c.seq = t.seq "  # noqa: S608
            "WHERE t.path = ? AND t.seq <= ? ORDER BY t.seq DESC LIMIT 1", (path, bound)
        ).fetchone()
        return None if row is None else _entry(row, ())

    def log(self, path: str | None = None, limit: int = 100, skip: int = 0,
            rev: str = MAIN_REF, author_email: str | None = None) -> list[LogEntry]:
        """Commits newest first; for a path following its renames (see History.log)."""
        bound = self._bound(rev)
        if bound is not None and path is None and not self._merges():
            return self._recent(bound, limit, skip, author_email)
        if bound is not None and path is not None and author_email is None:
            found = self._follow_cached(path, limit, skip, bound)
            if found is not None:
                return found
        return super().log(path, limit, skip, rev, author_email)

    def _follow_cached(self, path: str, limit: int, skip: int, bound: int
                       ) -> list[LogEntry] | None:
        """What `History._follow` answers, from the touches table; None if a path is tangled."""
        conn, wanted, entries = self._conn(), skip + limit, list[LogEntry]()
        for _ in range(MAX_RENAMES):
            if self._tangled(path):
                return None
            rows = conn.execute(
                f"SELECT {COMMIT_COLUMNS}, t.status, t.old_path FROM touches t "  # noqa: S608
                "JOIN commits c ON c.seq = t.seq WHERE t.path = ? AND t.seq <= ? "
                "ORDER BY t.seq DESC LIMIT ?", (path, bound, wanted - len(entries))).fetchall()
            entries += [_entry(row, (FileChange(row["status"], path),)) for row in rows]
            if len(entries) >= wanted or not rows:
                break
            oldest = rows[-1]
            if oldest["status"] != "A" or oldest["old_path"] is None:
                break
            entries[-1] = _entry(oldest, (FileChange("R", path, oldest["old_path"]),))
            path, bound = oldest["old_path"], oldest["seq"] - 1
        return entries[skip:wanted]

    def _recent(self, bound: int, limit: int, skip: int, author_email: str | None
                ) -> list[LogEntry]:
        conn = self._conn()
        where, args = "c.seq <= ?", list[object]([bound])
        if author_email is not None:
            where += " AND c.email = ? COLLATE NOCASE"
            args.append(author_email)
        rows = conn.execute(f"SELECT {COMMIT_COLUMNS} FROM commits c WHERE {where} "  # noqa: S608
                            "ORDER BY c.seq DESC LIMIT ? OFFSET ?", (*args, limit, skip)
                            ).fetchall()
        entries = []
        for row in rows:
            changes = tuple(FileChange(c["status"], c["path"], c["old_path"]) for c in conn.execute(
                "SELECT status, path, old_path FROM changes WHERE seq = ? ORDER BY pos",
                (row["seq"],)))
            entries.append(_entry(row, changes))
        return entries

    def contributions(self, rev: str = MAIN_REF) -> list[Contribution]:
        """Every author's commits and added/removed lines, most commits first."""
        if self._bound(rev) != self._top() or self._merges():
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
        if bound is None or self._tangled(path):
            return rev
        row = self._conn().execute(
            "SELECT c.revision FROM touches t JOIN commits c ON c.seq = t.seq "
            "WHERE t.path = ? AND t.seq <= ? ORDER BY t.seq DESC LIMIT 1", (path, bound)
        ).fetchone()
        return rev if row is None else str(row["revision"])

    def page_titles(self) -> dict[str, tuple[str, str]] | None:
        """Every page at the head as {name: (title, blob)}, or None when git must be read."""
        if self._fresh() is None:
            return None
        return {name: (row["title"], row["blob"])
                for row in self._conn().execute("SELECT path, blob, title FROM pages")
                if (name := page_name_from_file(row["path"])) is not None}

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

    def _merges(self) -> bool:
        """Whether a merge is on the chain (a flag: scanning 50,000 commits costs ms)."""
        return self._conn().execute("SELECT 1 FROM state WHERE key = 'merges'").fetchone(
            ) is not None

    def _tangled(self, path: str) -> bool:
        return self._conn().execute("SELECT 1 FROM tangled WHERE path = ?", (path,)).fetchone(
            ) is not None

    def _reflected(self) -> str | None:
        row = self._conn().execute("SELECT value FROM state WHERE key = 'commit'").fetchone()
        return None if row is None else str(row["value"])

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


def _entry(row: Row, changes: tuple[FileChange, ...]) -> LogEntry:
    return LogEntry(row["revision"], row["author"], row["email"],
                    datetime.fromtimestamp(row["date"], UTC), row["committer"],
                    row["committer_email"], row["message"], changes)

