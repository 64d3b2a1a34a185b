"""The page-metadata cache's tables, and how commits read from git are written into them.

Tables (in `DATA_DIR/pagemeta.db`, a cache of git; see wiki/pagemeta.py):

- `state`: the commit the cache reflects, the schema version (another one rebuilds
  the cache).
- `commits`: every commit on the first-parent chain of `main`, `seq` 1 = the root.
- `changes`: the files each commit changed, as `git log --name-status` lists them.
- `touches`: per path, the commits that changed it, as `git log -- <path>` shows
  them (a rename is an `A` of the new path with its old path, and a `D` of the old).
- `walks`, `walked`: for each path a merge changed (against its first parent),
  the commits `git log -- <path>` shows from that merge (side-branch commits
  included, storage/pathwalk.py) and the chain commit where the walk rejoins
  the first-parent chain (`resume`; 0: the walk ended).
- `logged`, `side`, `side_changes`, `authors`: every commit in plain `git log`'s
  order, for recent changes and contributors (wiki/pagemeta_log.py).
- `pages`: every page at the head with its blob and title.
- `blame`: the blame of a page at the commit that last changed it (never changes).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from storage.names import page_name_from_file
from storage.pagelog import LoggedCommit
from storage.pathwalk import walk_path
from storage.repository import Repository
from wiki.pagemeta_log import record_order
from wiki.render import page_title

SCHEMA = """
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS commits (
    seq INTEGER PRIMARY KEY, revision TEXT NOT NULL UNIQUE, author TEXT NOT NULL,
    email TEXT NOT NULL, date INTEGER NOT NULL, committer TEXT NOT NULL,
    committer_email TEXT NOT NULL, message TEXT NOT NULL, merge INTEGER NOT NULL);
DROP INDEX IF EXISTS commits_email;
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER NOT NULL, pos INTEGER NOT NULL, status TEXT NOT NULL, path TEXT NOT NULL,
    old_path TEXT, PRIMARY KEY (seq, pos)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS touches (
    path TEXT NOT NULL, seq INTEGER NOT NULL, status TEXT NOT NULL, old_path TEXT,
    PRIMARY KEY (path, seq)) WITHOUT ROWID;
DROP TABLE IF EXISTS tangled;
CREATE TABLE IF NOT EXISTS walks (
    path TEXT NOT NULL, seq INTEGER NOT NULL, resume INTEGER NOT NULL,
    PRIMARY KEY (path, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS walked (
    path TEXT NOT NULL, seq INTEGER NOT NULL, pos INTEGER NOT NULL, revision TEXT NOT NULL,
    author TEXT NOT NULL, email TEXT NOT NULL, date INTEGER NOT NULL, committer TEXT NOT NULL,
    committer_email TEXT NOT NULL, message TEXT NOT NULL, status TEXT NOT NULL, old_path TEXT,
    PRIMARY KEY (path, seq, pos)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS logged (
    key INTEGER PRIMARY KEY, revision TEXT NOT NULL UNIQUE, seq INTEGER, parents TEXT NOT NULL,
    time INTEGER NOT NULL, settled INTEGER NOT NULL, merge INTEGER NOT NULL,
    author TEXT NOT NULL, email TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS logged_email ON logged(email COLLATE NOCASE, key);
CREATE TABLE IF NOT EXISTS side (
    revision TEXT PRIMARY KEY, author TEXT NOT NULL, email TEXT NOT NULL, date INTEGER NOT NULL,
    committer TEXT NOT NULL, committer_email TEXT NOT NULL, message TEXT NOT NULL
    ) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS side_changes (
    revision TEXT NOT NULL, pos INTEGER NOT NULL, status TEXT NOT NULL, path TEXT NOT NULL,
    old_path TEXT, PRIMARY KEY (revision, pos)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS authors (
    key TEXT PRIMARY KEY, name TEXT NOT NULL, commits INTEGER NOT NULL,
    added INTEGER NOT NULL, removed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pages (path TEXT PRIMARY KEY, blob TEXT NOT NULL, title TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blame (
    revision TEXT NOT NULL, path TEXT NOT NULL, lines TEXT NOT NULL,
    PRIMARY KEY (revision, path)) WITHOUT ROWID;
"""
REGULAR = "100644"
DERIVED = ("commits", "changes", "touches", "walks", "walked", "logged", "side", "side_changes",
           "authors", "pages")
SCHEMA_VERSION = "3"  # 3: git log's order (2 left recent changes after a merge to git)


def apply_commits(conn: sqlite3.Connection, repo: Repository,
                  commits: Sequence[LoggedCommit], fresh: bool) -> None:
    """Add `commits` (oldest first, continuing the first-parent chain) to the tables.

    With `fresh`, the derived tables are emptied first (the blame cache stays:
    it is keyed by commit id, so it is right for any history that has the commit).
    """
    if fresh:
        for table in DERIVED:
            conn.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)
        conn.execute("INSERT OR REPLACE INTO state VALUES ('schema', ?)", (SCHEMA_VERSION,))
    seq = int(conn.execute("SELECT max(seq) FROM commits").fetchone()[0] or 0)
    files: dict[str, str | None] = {}  # each changed path's blob at the end, None: gone
    rows: dict[str, list[tuple[object, ...]]] = {"commits": [], "changes": [], "touches": []}
    merges: list[tuple[int, LoggedCommit]] = []
    seqs: dict[str, int] = {}
    for commit in commits:
        seq += 1
        seqs[commit.revision] = seq
        merge = len(commit.parents) > 1
        if merge:
            merges.append((seq, commit))
        rows["commits"].append((seq, commit.revision, commit.author, commit.email, commit.time,
                                commit.committer, commit.committer_email, commit.message,
                                int(merge)))
        for pos, change in enumerate(commit.changes):
            rows["changes"].append((seq, pos, change.status, change.path, change.old_path))
            # The page list holds regular files only, as Repository.files lists them.
            regular = change.status != "D" and change.mode == REGULAR
            files[change.path] = change.blob if regular else None
            if change.old_path is not None and change.status == "R":
                files[change.old_path] = None
            if merge:
                continue
            if change.status == "R" and change.old_path is not None:
                rows["touches"].append((change.path, seq, "A", change.old_path))
                rows["touches"].append((change.old_path, seq, "D", None))
            else:
                status = "A" if change.status == "C" else change.status
                rows["touches"].append((change.path, seq, status, None))
    conn.executemany("INSERT INTO commits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows["commits"])
    conn.executemany("INSERT INTO changes VALUES (?, ?, ?, ?, ?)", rows["changes"])
    conn.executemany("INSERT OR REPLACE INTO touches VALUES (?, ?, ?, ?)", rows["touches"])
    _write_walks(conn, repo, merges, seqs)
    record_order(conn, repo, commits, seqs, fresh)
    _update_pages(conn, repo, files)


def _write_walks(conn: sqlite3.Connection, repo: Repository,
                 merges: list[tuple[int, LoggedCommit]], batch: dict[str, int]) -> None:
    """For every path each merge changed, what `git log -- <path>` shows from the merge."""

    def seq_of(revision: str) -> int | None:
        if revision in batch:
            return batch[revision]
        row = conn.execute("SELECT seq FROM commits WHERE revision = ?", (revision,)).fetchone()
        return None if row is None else int(row[0])

    for seq, merge in merges:
        paths = {p for change in merge.changes for p in (change.path, change.old_path) if p}
        for path in sorted(paths):
            walk = walk_path(repo, merge.revision, path, lambda rev: seq_of(rev) is not None)
            resume = 0 if walk.resume is None else seq_of(walk.resume) or 0
            conn.execute("INSERT OR REPLACE INTO walks VALUES (?, ?, ?)", (path, seq, resume))
            conn.execute("DELETE FROM walked WHERE path = ? AND seq = ?", (path, seq))
            conn.executemany(
                "INSERT INTO walked VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(path, seq, pos, c.revision, c.author, c.email, c.time, c.committer,
                  c.committer_email, c.message, c.status, c.old_path)
                 for pos, c in enumerate(walk.shown)])


def _update_pages(conn: sqlite3.Connection, repo: Repository,
                  files: dict[str, str | None]) -> None:
    """Titles of the pages whose blob changed (each blob read once), and pages gone."""
    for path, blob in files.items():
        name = page_name_from_file(path)
        if name is None:
            continue
        if blob is None:
            conn.execute("DELETE FROM pages WHERE path = ?", (path,))
            continue
        text = repo.read_blob(blob).decode("utf-8", errors="replace")
        conn.execute("INSERT OR REPLACE INTO pages VALUES (?, ?, ?)",
                     (path, blob, page_title(text, name.rsplit("/", 1)[-1])))
