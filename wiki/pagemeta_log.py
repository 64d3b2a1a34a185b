"""Recent changes and contributors in the page-metadata cache: every commit in `git log`'s order.

The wiki-wide list of changes is plain `git log` (History.log without a
path): every commit reachable from the head, pushed side branches included,
in the order of git's date walk (storage/logwalk.py), a merge with no files.
Contributors are `git log --no-merges` added up per author. Both are kept in
the cache (tables in wiki/pagemeta_schema.py):

- `logged`: every commit reachable from the head, `key` its place in git's
  order (1 = the last one shown; the head has the highest), its chain
  sequence number (`seq`, NULL off the first-parent chain), parents, committer
  time, whether it is settled (storage/logwalk.py), author and email;
- `side`, `side_changes`: what `git log --name-status` says of the commits
  off the chain (the chain's own are in `commits` and `changes`);
- `authors`: per author (email, lowercased, or name), commits and lines of
  every non-merge commit, and the name of the first one git shows.

New commits re-key only what git shows before the first settled commit the
cache already had: one row after a web save, the pushed commits and the saves
made meanwhile after a merge.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime

from storage.history import FileChange, LogEntry
from storage.logwalk import Walked, walk_order
from storage.pagelog import LoggedCommit, shown_commits
from storage.repository import Repository

COMMIT_COLUMNS = ("c.seq, c.revision, c.author, c.email, c.date, c.committer, "
                  "c.committer_email, c.message")
SIDE_COLUMNS = ("s.revision, s.author, s.email, s.date, s.committer, s.committer_email, "
                "s.message")


def record_order(conn: sqlite3.Connection, repo: Repository, chain: Sequence[LoggedCommit],
                 seqs: dict[str, int], fresh: bool) -> None:
    """Add what `chain` (new first-parent commits, oldest first, already in `commits`) brings
    to git's order: the commits shown before the first settled one the cache had, re-keyed."""
    if not chain:
        return
    order = walk_order(repo, chain[-1].revision,
                       (lambda _revision: None) if fresh else lambda r: _known(conn, r))
    floor = 0 if order.resume is None else int(conn.execute(
        "SELECT key FROM logged WHERE revision = ?", (order.resume,)).fetchone()[0])
    old = {row["revision"]: row for row in conn.execute(
        "SELECT revision, seq, merge, author, email FROM logged WHERE key > ?", (floor,))}
    conn.execute("DELETE FROM logged WHERE key > ?", (floor,))
    new = {c.revision: c for c in chain}
    new |= {c.revision: c for c in _record_side(conn, repo, [
        w.revision for w in order.shown if w.revision not in old and w.revision not in new])}
    rows, names = [], dict[str, str]()
    totals: dict[str, list[int]] = {}
    for place, walked in enumerate(order.shown):
        if walked.revision in old:
            row = old[walked.revision]
            seq, merge, author, email = row["seq"], bool(row["merge"]), row["author"], row["email"]
        else:
            commit = new[walked.revision]
            seq, author, email = seqs.get(walked.revision), commit.author, commit.email
            merge = len(commit.parents) > 1
            if not merge:
                added = totals.setdefault(author_key(author, email), [0, 0, 0])
                added[0], added[1], added[2] = (added[0] + 1, added[1] + commit.added,
                                                added[2] + commit.removed)
        if not merge:
            names.setdefault(author_key(author, email), author)
        rows.append((floor + len(order.shown) - place, walked.revision, seq,
                     " ".join(walked.parents), walked.time, int(walked.settled), int(merge),
                     author, email))
    conn.executemany("INSERT INTO logged VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.executemany(
        "INSERT INTO authors VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
        "name = excluded.name, commits = commits + excluded.commits, "
        "added = added + excluded.added, removed = removed + excluded.removed",
        [(key, name, *totals.get(key, (0, 0, 0))) for key, name in names.items()])


def author_key(name: str, email: str) -> str:
    """How `git log --no-merges` totals are grouped (storage.history.History.contributions)."""
    return email.lower() or name


def _known(conn: sqlite3.Connection, revision: str) -> Walked | None:
    row = conn.execute("SELECT parents, time, settled FROM logged WHERE revision = ?",
                       (revision,)).fetchone()
    return None if row is None else Walked(revision, tuple(row["parents"].split()), row["time"],
                                           bool(row["settled"]))


def _record_side(conn: sqlite3.Connection, repo: Repository, revisions: list[str]
                 ) -> list[LoggedCommit]:
    """Read and keep the commits off the first-parent chain that git's order now shows."""
    commits = shown_commits(repo, revisions)
    conn.executemany("INSERT OR REPLACE INTO side VALUES (?, ?, ?, ?, ?, ?, ?)", [
        (c.revision, c.author, c.email, c.time, c.committer, c.committer_email, c.message)
        for c in commits])
    conn.executemany("DELETE FROM side_changes WHERE revision = ?",
                     [(c.revision,) for c in commits])
    conn.executemany("INSERT INTO side_changes VALUES (?, ?, ?, ?, ?)", [
        (c.revision, pos, change.status, change.path, change.old_path)
        for c in commits for pos, change in enumerate(c.changes)])
    return commits


# -- answers -------------------------------------------------------------------


def order_key(conn: sqlite3.Connection, revision: str | None) -> int | None:
    """Where `git log <revision>` starts in the cache's order (None: the head), or None when
    the cache's order from there is not that walk's (the commit is not settled or unknown)."""
    if revision is None:
        return int(conn.execute("SELECT max(key) FROM logged").fetchone()[0] or 0)
    row = conn.execute("SELECT key FROM logged WHERE revision = ? AND settled = 1",
                       (revision,)).fetchone()
    return None if row is None else int(row["key"])


def recent(conn: sqlite3.Connection, start: int, limit: int, skip: int,
           author_email: str | None) -> list[LogEntry]:
    """What `git log --name-status --max-count --skip [--author]` shows from key `start`."""
    if author_email is None:
        rows = conn.execute("SELECT key, seq, merge, revision FROM logged WHERE key <= ? "
                            "ORDER BY key DESC LIMIT ?", (start - skip, limit)).fetchall()
    else:
        rows = conn.execute("SELECT key, seq, merge, revision FROM logged WHERE key <= ? AND "
                            "email = ? COLLATE NOCASE ORDER BY key DESC LIMIT ? OFFSET ?",
                            (start, author_email, limit, skip)).fetchall()
    return [_logged_entry(conn, row) for row in rows]


def _logged_entry(conn: sqlite3.Connection, row: sqlite3.Row) -> LogEntry:
    if row["seq"] is not None:
        commit = conn.execute(f"SELECT {COMMIT_COLUMNS} FROM commits c "  # noqa: S608
                              "WHERE c.seq = ?", (row["seq"],)).fetchone()
        changes = () if row["merge"] else tuple(conn.execute(
            "SELECT status, path, old_path FROM changes WHERE seq = ? ORDER BY pos",
            (row["seq"],)))
    else:
        commit = conn.execute(f"SELECT {SIDE_COLUMNS} FROM side s "  # noqa: S608
                              "WHERE s.revision = ?", (row["revision"],)).fetchone()
        changes = () if row["merge"] else tuple(conn.execute(
            "SELECT status, path, old_path FROM side_changes WHERE revision = ? ORDER BY pos",
            (row["revision"],)))
    return entry(commit, tuple(FileChange(c["status"], c["path"], c["old_path"])
                               for c in changes))


def entry(row: sqlite3.Row, changes: tuple[FileChange, ...]) -> LogEntry:
    """A cached commit row as History's LogEntry."""
    return LogEntry(row["revision"], row["author"], row["email"],
                    datetime.fromtimestamp(row["date"], UTC), row["committer"],
                    row["committer_email"], row["message"], changes)
