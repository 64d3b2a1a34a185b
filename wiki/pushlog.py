"""Who pushed which commits: a push keeps each commit's git author, the log keeps the pusher.

The post-receive hook records every accepted push with the commits it
brought; history views ask which of their commits were pushed by someone
other than the author (authors and accounts are matched by email).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wiki.accounts import User
from wiki.changes import Change, ChangeDoor, Kind
from wiki.db import Database

SERVER_PUSHER = "(server)"


@dataclass(frozen=True)
class Push:
    """One accepted push to main: who pushed, from which commit to which, and how many."""

    id: int
    user_id: int | None
    pusher: str
    email: str
    old: str
    new: str
    commits: int


@dataclass(frozen=True)
class Pusher:
    """The account that pushed a commit (name and email as they were at push time)."""

    name: str
    email: str


class PushLog:
    """Pushes and their commits in SQLite."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, user_id: int | None, old: str, new: str, commits: Sequence[str]) -> None:
        """Remember that account `user_id` (None: a push on the server's file system)
        brought `commits`, with the account's name and email as they are now."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT name, email FROM users WHERE id = ?",
                               (user_id,)).fetchone()
            name, email = (row[0], row[1]) if row else (SERVER_PUSHER, "")
            cur = conn.execute(
                "INSERT INTO pushes (user_id, pusher, pusher_email, old, new, at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (user_id if row else None, name, email, old, new, time.time()),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO pushed_commits (revision, push_id) VALUES (?, ?)",
                [(commit, cur.lastrowid) for commit in commits],
            )

    def last_id(self) -> int:
        """The id of the newest recorded push (0 when there is none)."""
        row = self.db.connect().execute("SELECT max(id) FROM pushes").fetchone()
        return int(row[0] or 0)

    def since(self, after_id: int, user_id: int | None) -> list[Push]:
        """Pushes by account `user_id` recorded after push `after_id`, oldest first."""
        rows = self.db.connect().execute(
            "SELECT pushes.id, pushes.user_id, pusher, pusher_email, old, new,"
            " (SELECT count(*) FROM pushed_commits WHERE push_id = pushes.id)"
            " FROM pushes WHERE pushes.id > ? AND pushes.user_id IS ? ORDER BY pushes.id",
            (after_id, user_id)).fetchall()
        return [Push(int(r[0]), r[1], r[2], r[3], r[4], r[5], int(r[6])) for r in rows]

    def pushers(self, revisions: Iterable[str]) -> dict[str, Pusher]:
        """The pusher of each of `revisions` that came in by push."""
        rows = self.db.connect().execute(
            "SELECT pushed_commits.revision, pushes.pusher, pushes.pusher_email"
            " FROM pushed_commits JOIN pushes ON pushes.id = pushed_commits.push_id"
            " WHERE pushed_commits.revision IN (SELECT value FROM json_each(?))",
            (json.dumps(list(dict.fromkeys(revisions))),),
        ).fetchall()
        return {row[0]: Pusher(row[1], row[2]) for row in rows}

    def pusher_names(self, revisions: Iterable[str]) -> dict[str, str]:
        """The pusher's name for each of `revisions` that came in by push (the JSON API)."""
        return {revision: pusher.name for revision, pusher in self.pushers(revisions).items()}

    def pushed_by_others(self, commits: Iterable[tuple[str, str]]) -> dict[str, str]:
        """For (revision, author email) pairs: the pusher's name where it is not the author."""
        pairs = list(commits)
        pushers = self.pushers(revision for revision, _ in pairs)
        return {
            revision: pushers[revision].name
            for revision, email in pairs
            if revision in pushers and pushers[revision].email.casefold() != email.casefold()
        }


def announce_pushes(door: ChangeDoor, log: PushLog, after_id: int, user: User) -> int:
    """Publish one `pushed` change for each push `user` made after push `after_id`.

    The post-receive hook records a push while git runs; the web request that
    carried it announces it once git is done, so the listeners (index,
    housekeeping, audit) follow pushes like any other change.
    """
    pushes = log.since(after_id, user.id)
    for push in pushes:
        door.publish(Change(Kind.PUSHED, (), user.person, user.id, push.new, "git",
                            {"old": push.old, "commits": push.commits}))
    return len(pushes)
