"""Counting events per key in a sliding window, in the database so every worker agrees.

One store serves the login and join throttles (failed logins per account and
address, failed joins per invite and address) and the per-person limits on
comments, reactions, saves and exports. Events live in the `login_failures`
table (key, at), the throttle's table since the first schema.

`take` counts and checks in one transaction serialised on the key, so two
workers (or threads) can never both pass the last free place of a limit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, delete, func, insert, select
from sqlalchemy.exc import OperationalError

from wiki.db import Database
from wiki.dbdialect import lock_key, starts_with
from wiki.dbschema import login_failures as events

MINUTE = 60.0


# Built once (every save takes one): building costs more than SQLite's answer.
_AGED = delete(events).where(events.c.key == bindparam("key"), events.c.at <= bindparam("before"))
_TAKEN = insert(events).values(key=bindparam("key"), at=bindparam("at"))
_NTH_NEWEST = select(events.c.at).where(
    events.c.key == bindparam("key"), events.c.at > bindparam("after"),
).order_by(events.c.at.desc()).limit(1).offset(bindparam("skip"))


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
        keys = self.db.connect().execute(
            select(events.c.key)
            .where(starts_with(events.c.key, prefix), events.c.at > time.time() - limit.window)
            .group_by(events.c.key).having(func.count() >= limit.count)).scalars().all()
        return {str(key) for key in keys}

    def record(self, keys: tuple[str, ...], forget_before: float) -> None:
        """Add an event for each key; drop every event older than `forget_before` seconds."""
        now = time.time()
        with self.db.transaction() as conn:
            conn.execute(delete(events).where(events.c.at < now - forget_before))
            if keys:
                conn.execute(insert(events), [{"key": key, "at": now} for key in keys])

    def clear(self, keys: tuple[str, ...]) -> None:
        """Forget every event of these keys."""
        with self.db.transaction() as conn:
            conn.execute(delete(events).where(events.c.key.in_(keys)))

    def take(self, key: str, limit: Limit) -> float:
        """Count one event unless `key` is at its limit: 0 when taken, else the seconds
        until the oldest event in the window ages out (then nothing is counted). Counted
        per wiki: with accounts shared by a root's wikis, their events share a table."""
        if limit.count <= 0:
            return 0.0
        if self.db.schema is not None:  # a wiki of a root: its people's limits are its own
            key = f"{key}@{self.db.schema}"
        now = time.time()
        try:
            with self.db.transaction() as conn:
                # Count and add as one step per key: on PostgreSQL, concurrent
                # transactions would otherwise each see N-1 events and all insert.
                lock_key(conn, f"ratelimit:{key}")
                conn.execute(_AGED, {"key": key, "before": now - limit.window})
                wait = _wait(conn, key, limit, now)
                if wait:
                    return wait
                conn.execute(_TAKEN, {"key": key, "at": now})
        except OperationalError:
            # A busy, full or failing database (SQLite: also "disk I/O error" when a
            # file cannot grow): let the action through, so that it reports the real
            # problem (503, 507) instead of a limit that could not count.
            return 0.0
        return 0.0


def _wait(conn: Connection, key: str, limit: Limit, now: float) -> float:
    if limit.count <= 0:
        return 0.0
    # The limit's oldest event still in the window, when there are `count` of them.
    oldest = conn.execute(_NTH_NEWEST, {"key": key, "after": now - limit.window,
                                        "skip": limit.count - 1}).scalar()
    return 0.0 if oldest is None else max(1.0, float(oldest) + limit.window - now)
