"""Counting events per key in a sliding window, in SQLite so every worker process agrees.

One store serves the login throttle (failed logins per account and address) and
the per-person limits on comments, reactions, saves and exports. Events live in
the `login_failures` table (key, at), the throttle's table since the first schema.
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

    def count(self, key: str, window: float) -> int:
        """How many events `key` had in the last `window` seconds."""
        since = time.time() - window
        row = self.db.connect().execute(
            "SELECT count(*) FROM login_failures WHERE key = ? AND at > ?",
            (key, since)).fetchone()
        return int(row[0])

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
                times = [float(row[0]) for row in conn.execute(
                    "SELECT at FROM login_failures WHERE key = ? ORDER BY at DESC LIMIT ?",
                    (key, limit.count))]
                if len(times) >= limit.count:
                    return max(1.0, times[-1] + limit.window - now)
                conn.execute("INSERT INTO login_failures (key, at) VALUES (?, ?)", (key, now))
        except sqlite3.OperationalError:
            # A full or busy disk: let the action through, so that it reports the real
            # problem (507, 503) instead of a limit that could not count.
            return 0.0
        return 0.0
