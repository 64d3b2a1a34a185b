"""Who is editing a page right now: editors send a heartbeat, silence expires it.

Kept in SQLite (not process memory) because several gunicorn workers serve
one wiki. An editor reports whether they have unsaved changes ('dirty'), so
someone opening the same page is warned before they start.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from storage.names import normalize_page_name
from wiki.accounts import User
from wiki.db import Database

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
            conn.execute("DELETE FROM presence WHERE seen < ?", (moment - 10 * EXPIRES,))
            conn.execute(
                "INSERT INTO presence (page, user_id, dirty, since, seen) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (page, user_id) DO UPDATE SET dirty = excluded.dirty,"
                " seen = excluded.seen,"
                " since = CASE WHEN presence.seen < ? THEN excluded.since ELSE presence.since END",
                (page, user.id, int(dirty), moment, moment, moment - EXPIRES))

    def leave(self, page: str, user: User) -> None:
        """The user closed the editor."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM presence WHERE page = ? AND user_id = ?",
                         (normalize_page_name(page), user.id))

    def editors(self, page: str, besides: User | None = None,
                now: float | None = None) -> list[Editor]:
        """Everyone editing `page` now, except `besides`, longest first."""
        moment = time.time() if now is None else now
        rows = self.db.connect().execute(
            "SELECT users.name, presence.* FROM presence JOIN users ON users.id = user_id"
            " WHERE page = ? AND seen >= ? AND user_id != ? AND users.active = 1"
            " ORDER BY since", (normalize_page_name(page), moment - EXPIRES,
                                besides.id if besides else -1)).fetchall()
        return [Editor(r["name"], r["user_id"], bool(r["dirty"]), r["since"], r["seen"])
                for r in rows]

    def everyone(self, now: float | None = None) -> list[tuple[str, Editor]]:
        """(page, editor) for everyone editing any page now, by page then longest first."""
        moment = time.time() if now is None else now
        rows = self.db.connect().execute(
            "SELECT users.name, presence.* FROM presence JOIN users ON users.id = user_id"
            " WHERE seen >= ? AND users.active = 1 ORDER BY page COLLATE NOCASE, since",
            (moment - EXPIRES,)).fetchall()
        return [(r["page"], Editor(r["name"], r["user_id"], bool(r["dirty"]), r["since"],
                                   r["seen"])) for r in rows]
