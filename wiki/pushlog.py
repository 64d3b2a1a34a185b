"""Who pushed which commits: a push keeps each commit's git author, the log keeps the pusher.

The post-receive hook records every accepted push with the commits it
brought; history views ask which of their commits were pushed by someone
other than the author (authors and accounts are matched by email).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, func, insert, select

from wiki.accounts import User
from wiki.changes import Change, ChangeDoor, Kind
from wiki.db import Database
from wiki.dbdialect import insert_ignore
from wiki.dbschema import pushed_commits, pushes, users

SERVER_PUSHER = "(server)"
CHUNK = 500  # revisions asked for per query: well under every engine's parameter limit


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
    """Pushes and their commits in the shared database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, user_id: int | None, old: str, new: str, commits: Sequence[str]) -> None:
        """Remember that account `user_id` (None: a push on the server's file system)
        brought `commits`, with the account's name and email as they are now."""
        with self.db.transaction() as conn:
            row = conn.execute(select(users.c.name, users.c.email)
                               .where(users.c.id == user_id)).mappings().first()
            name, email = (row["name"], row["email"]) if row else (SERVER_PUSHER, "")
            push_id = conn.execute(insert(pushes).values(
                user_id=user_id if row else None, pusher=name, pusher_email=email,
                old=old, new=new, at=time.time()).returning(pushes.c.id)).scalar_one()
            if commits:
                # A commit pushed before keeps its first push.
                conn.execute(insert_ignore(self.db.dialect, pushed_commits, {
                    "revision": bindparam("revision"), "push_id": push_id}),
                    [{"revision": commit} for commit in commits])

    def last_id(self) -> int:
        """The id of the newest recorded push (0 when there is none)."""
        return int(self.db.connect().execute(select(func.max(pushes.c.id))).scalar() or 0)

    def since(self, after_id: int, user_id: int | None) -> list[Push]:
        """Pushes by account `user_id` recorded after push `after_id`, oldest first."""
        count = select(func.count()).where(pushed_commits.c.push_id == pushes.c.id) \
            .scalar_subquery()
        rows = self.db.connect().execute(
            select(pushes.c.id, pushes.c.user_id, pushes.c.pusher, pushes.c.pusher_email,
                   pushes.c.old, pushes.c.new, count)
            .where(pushes.c.id > after_id, pushes.c.user_id.is_not_distinct_from(user_id))
            .order_by(pushes.c.id)).all()
        return [Push(int(r[0]), r[1], r[2], r[3], r[4], r[5], int(r[6])) for r in rows]

    def pushers(self, revisions: Iterable[str]) -> dict[str, Pusher]:
        """The pusher of each of `revisions` that came in by push."""
        wanted = list(dict.fromkeys(revisions))
        found: dict[str, Pusher] = {}
        conn = self.db.connect()
        for start in range(0, len(wanted), CHUNK):
            rows = conn.execute(
                select(pushed_commits.c.revision, pushes.c.pusher, pushes.c.pusher_email)
                .join(pushes, pushes.c.id == pushed_commits.c.push_id)
                .where(pushed_commits.c.revision.in_(wanted[start:start + CHUNK]))).all()
            found.update((row[0], Pusher(row[1], row[2])) for row in rows)
        return found

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
