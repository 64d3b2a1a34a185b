"""Counting events per key in a sliding window, in SQLite so every worker process agrees.

One store serves the login and join throttles (failed logins per account and
address, failed joins per invite and address) and the per-person limits on
comments, reactions, saves and exports. Events live in the `login_failures`
table (key, at), the throttle's table since the first schema.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from wiki.db import Database

MINUTE = 60.0


@dataclass(frozen=True)
class Limit:
    """At most `count` events per `window` seconds; a count of 0 means no limit."""

    count: int
    window: float = MINUTE


class RateLimits:
    """Events per key (e.g. 'comment:user:3') with their times."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def wait(self, key: str, limit: Limit) -> float:
        """0 while `key` is under `limit`; at it, the seconds until its oldest counted
        event ages out."""
        return _wait(self.db.connect(), key, limit, time.time())

    def keys_at_limit(self, prefix: str, limit: Limit) -> set[str]:
        """Every key starting with `prefix` that is at `limit` (locked accounts)."""
        rows = self.db.connect().execute(
            "SELECT key FROM login_failures WHERE substr(key, 1, ?) = ? AND at > ?"
            " GROUP BY key HAVING count(*) >= ?",
            (len(prefix), prefix, time.time() - limit.window, limit.count)).fetchall()
        return {str(row[0]) for row in rows}

    def record(self, keys: tuple[str, ...], forget_before: float) -> None:
        """Add an event for each key; drop every event older than `forget_before` seconds."""
        now = time.time()
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM login_failures WHERE at < ?", (now - forget_before,))
            conn.executemany("INSERT INTO login_failures (key, at) VALUES (?, ?)",
                             [(key, now) for key in keys])

    def clear(self, keys: tuple[str, ...]) -> None:
        """Forget every event of these keys."""
        with self.db.transaction() as conn:
            conn.executemany("DELETE FROM login_failures WHERE key = ?", [(k,) for k in keys])

    def take(self, key: str, limit: Limit) -> float:
        """Count one event unless `key` is at its limit: 0 when taken, else the seconds
        until the oldest event in the window ages out (then nothing is counted)."""
        if limit.count <= 0:
            return 0.0
        now = time.time()
        try:
            with self.db.transaction() as conn:
                conn.execute("DELETE FROM login_failures WHERE key = ? AND at <= ?",
                             (key, now - limit.window))
                wait = _wait(conn, key, limit, now)
                if wait:
                    return wait
                conn.execute("INSERT INTO login_failures (key, at) VALUES (?, ?)", (key, now))
        except sqlite3.OperationalError:
            # A full or busy disk: let the action through, so that it reports the real
            # problem (507, 503) instead of a limit that could not count.
            return 0.0
        return 0.0


def _wait(conn: sqlite3.Connection, key: str, limit: Limit, now: float) -> float:
    if limit.count <= 0:
        return 0.0
    times = [float(row[0]) for row in conn.execute(
        "SELECT at FROM login_failures WHERE key = ? AND at > ? ORDER BY at DESC LIMIT ?",
        (key, now - limit.window, limit.count))]
    return max(1.0, times[-1] + limit.window - now) if len(times) >= limit.count else 0.0
