"""Who is editing a page right now: editors send a heartbeat, silence expires it.

Kept in the shared database (not process memory) because several gunicorn workers serve
one wiki. An editor reports whether they have unsaved changes ('dirty'), so
someone opening the same page is warned before they start.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import RowMapping, Select, bindparam, case, delete, select, update

from storage.names import normalize_page_name
from wiki.accounts import User
from wiki.db import Database
from wiki.dbdialect import insert_ignore
from wiki.dbschema import members, presence, users

EXPIRES = 30  # seconds without a heartbeat before an editor counts as gone


@dataclass(frozen=True)
class Editor:
    """Someone with the page open in the editor."""

    name: str
    user_id: int
    dirty: bool
    since: float
    seen: float


class Presence:
    """Heartbeats per page and person."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def heartbeat(self, page: str, user: User, dirty: bool, now: float | None = None) -> None:
        """Record that `user` is editing `page` (with or without unsaved changes)."""
        page, moment = normalize_page_name(page), time.time() if now is None else now
        with self.db.transaction() as conn:
            conn.execute(delete(presence).where(presence.c.seen < moment - 10 * EXPIRES))
            # A new row first, then one update for new and old alike: an editor who was
            # silent past EXPIRES starts a new session ('since'), else it carries on.
            conn.execute(insert_ignore(self.db.dialect, presence, {
                "page": page, "user_id": user.id, "dirty": int(dirty),
                "since": moment, "seen": moment}))
            conn.execute(update(presence).where(
                presence.c.page == page, presence.c.user_id == user.id).values(
                dirty=int(dirty), seen=moment,
                since=case((presence.c.seen < moment - EXPIRES, moment),
                           else_=presence.c.since)))

    def leave(self, page: str, user: User) -> None:
        """The user closed the editor."""
        with self.db.transaction() as conn:
            conn.execute(delete(presence).where(presence.c.page == normalize_page_name(page),
                                                presence.c.user_id == user.id))

    def editors(self, page: str, besides: User | None = None,
                now: float | None = None) -> list[Editor]:
        """Everyone editing `page` now, except `besides`, longest first."""
        moment = time.time() if now is None else now
        rows = self.db.connect().execute(_EDITORS, {
            "page": normalize_page_name(page), "besides": besides.id if besides else -1,
            "after": moment - EXPIRES}).mappings().all()
        return [_editor(r) for r in rows]

    def everyone(self, now: float | None = None) -> list[tuple[str, Editor]]:
        """(page, editor) for everyone editing any page now, by page then longest first."""
        moment = time.time() if now is None else now
        rows = self.db.connect().execute(_present(moment).order_by(
            presence.c.page, presence.c.since)).mappings().all()
        return [(r["page"], _editor(r)) for r in rows]


def _present(moment: float) -> Select[str, str, int, int, float, float]:
    """Heartbeats of active members that have not expired at `moment`."""
    return _heartbeats(moment - EXPIRES)


def _heartbeats(after: object) -> Select[str, str, int, int, float, float]:
    """Heartbeats of active members seen since `after` (a time or a bind parameter)."""
    return select(users.c.name, *presence.c).join(users, users.c.id == presence.c.user_id) \
        .join(members, members.c.user_id == presence.c.user_id) \
        .where(presence.c.seen >= after, members.c.active == 1)


# Built once (every page view asks): building costs more than SQLite's answer.
_EDITORS = _heartbeats(bindparam("after")).where(
    presence.c.page == bindparam("page"), presence.c.user_id != bindparam("besides"),
).order_by(presence.c.since)


def _editor(row: RowMapping) -> Editor:
    return Editor(row["name"], row["user_id"], bool(row["dirty"]), row["since"], row["seen"])
