"""Notifications: what happened that concerns a person, the pages they follow, how they get mail.

Other parts of the wiki call `notify` (comments for mentions and replies, suggestions,
reports, the followed-pages listener in wiki/wiring.py). A notification is a row per
recipient; the bell counts the unread ones with one indexed query. A notification
for someone who chose e-mail is marked `mail = 1` until wiki/mailer.py has put it in
an outbox message, so a stopped server or an SMTP outage loses nothing.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from wiki.changes import PAGE_EDITS, Change, Kind, Listener
from wiki.db import Database
from wiki.errors import N_, InvalidInput
from wiki.wikilang import translate

KINDS = ("mention", "reply", "suggestion", "suggestion_decided", "report", "followed_change")
EMAIL_CHOICES = ("none", "immediate", "digest")
MAX_SUMMARY = 300
MAX_LINK = 500
LIST_LIMIT = 100

log = logging.getLogger("cowiki.notifications")

# What happened, as the list and e-mail say it (catalog msgids; {actor} and {page}).
SENTENCES = {
    "mention": N_("{actor} mentioned you on {page}"),
    "reply": N_("{actor} replied to your comment on {page}"),
    "suggestion": N_("{actor} suggested a change to {page}"),
    "suggestion_decided": N_("{actor} decided on your suggestion for {page}"),
    "report": N_("{actor} reported a comment on {page}"),
    "followed_change": N_("{actor} changed {page}, which you follow"),
}
SOMEONE = N_("Someone")

_SELECT = (
    "SELECT n.*, a.name AS actor FROM notifications n"
    " LEFT JOIN users a ON a.id = n.actor_id"
)


@dataclass(frozen=True)
class Notification:
    """One notification as its recipient sees it.

    `link` is a path inside the wiki starting with "/" ("/p/Home#comment-3"); the
    web prefixes the app's root, e-mail the configured base URL.
    """

    id: int
    user_id: int
    kind: str
    page: str
    actor: str  # the name of who did it; "" when that account is gone
    summary: str
    link: str
    created: float
    read: bool


class Notifications:
    """Notifications, page follows and e-mail choices, in SQLite."""

    def __init__(self, db: Database, mail_enabled: bool = False) -> None:
        self.db = db
        self.mail_enabled = mail_enabled  # an SMTP server is configured
        self.mail_waiting = threading.Event()  # wakes this process's mailer (wiki/mailer.py)

    # -- telling people ------------------------------------------------------

    def notify(self, recipients: Iterable[int], kind: str, page: str, actor: int,
               summary: str = "", link: str = "") -> None:
        """Tell each recipient (but never `actor`) that `kind` happened on `page`.

        A recipient who still has the same unread notification (kind, page and
        link) gets that one refreshed instead of a second. Never raises: a
        failure is logged, because the comment or change that caused it stands.
        """
        try:
            self._notify(recipients, kind, page, actor, summary, link)
        except Exception:
            log.exception("could not notify about %s on %s", kind, page)

    def _notify(self, recipients: Iterable[int], kind: str, page: str, actor: int,
                summary: str, link: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown notification kind {kind!r}")
        people = sorted({int(r) for r in recipients} - {actor})
        if not people:
            return
        summary, link = " ".join(summary.split())[:MAX_SUMMARY], link[:MAX_LINK]
        now = time.time()
        with self.db.transaction() as conn:
            mailed = self._mailed(conn, people)
            for person in people:
                updated = conn.execute(
                    "UPDATE notifications SET actor_id = ?, summary = ?, created = ?"
                    " WHERE user_id = ? AND kind = ? AND page = ? AND link = ?"
                    " AND read IS NULL", (actor, summary, now, person, kind, page, link))
                if updated.rowcount:
                    continue
                conn.execute(
                    "INSERT INTO notifications (user_id, kind, page, actor_id, summary, link,"
                    " created, mail) SELECT id, ?, ?, ?, ?, ?, ?, ? FROM users"
                    " WHERE id = ? AND active = 1",
                    (kind, page, actor if actor > 0 else None, summary, link, now,
                     int(person in mailed), person))
        if mailed:
            self.mail_waiting.set()

    def _mailed(self, conn: sqlite3.Connection, people: list[int]) -> set[int]:
        """Who of `people` gets notifications by e-mail (nobody while mail is off)."""
        if not self.mail_enabled:
            return set()
        marks = ",".join("?" * len(people))
        rows = conn.execute(
            f"SELECT user_id FROM notify_settings WHERE email != 'none'"  # noqa: S608 (only ?s)
            f" AND user_id IN ({marks})", people).fetchall()
        return {int(r[0]) for r in rows}

    def facilitators(self) -> list[int]:
        """The active facilitators' account ids (who hears of reports)."""
        rows = self.db.connect().execute(
            "SELECT id FROM users WHERE role = 'facilitator' AND active = 1").fetchall()
        return [int(r[0]) for r in rows]

    # -- the bell and the list -----------------------------------------------

    def unread_count(self, user_id: int) -> int:
        """How many unread notifications `user_id` has (one query on a partial index)."""
        row = self.db.connect().execute(
            "SELECT count(*) FROM notifications WHERE user_id = ? AND read IS NULL",
            (user_id,)).fetchone()
        return int(row[0])

    def recent(self, user_id: int, limit: int = LIST_LIMIT) -> list[Notification]:
        """The person's notifications, newest first."""
        rows = self.db.connect().execute(
            _SELECT + " WHERE n.user_id = ? ORDER BY n.created DESC, n.id DESC LIMIT ?",
            (user_id, limit)).fetchall()
        return [_notification(r) for r in rows]

    def get(self, user_id: int, notification_id: int) -> Notification | None:
        """One of the person's notifications, or None (also for someone else's)."""
        if not 0 < notification_id < 2**63:
            return None
        row = self.db.connect().execute(
            _SELECT + " WHERE n.id = ? AND n.user_id = ?", (notification_id, user_id)).fetchone()
        return None if row is None else _notification(row)

    def mark_read(self, user_id: int, notification_id: int) -> None:
        """Mark one of the person's notifications read (someone else's is left alone)."""
        if not 0 < notification_id < 2**63:
            return
        with self.db.transaction() as conn:
            conn.execute("UPDATE notifications SET read = ? WHERE id = ? AND user_id = ?"
                         " AND read IS NULL", (time.time(), notification_id, user_id))

    def mark_all_read(self, user_id: int) -> int:
        """Mark every unread notification of the person read; how many there were."""
        with self.db.transaction() as conn:
            cur = conn.execute("UPDATE notifications SET read = ? WHERE user_id = ?"
                               " AND read IS NULL", (time.time(), user_id))
        return cur.rowcount

    # -- following pages -----------------------------------------------------

    def follow(self, user_id: int, page: str) -> None:
        """Notify the person of later changes to `page`."""
        with self.db.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO page_follows (page, user_id, created)"
                         " VALUES (?, ?, ?)", (page, user_id, time.time()))

    def unfollow(self, user_id: int, page: str) -> None:
        """Stop notifying the person of changes to `page`."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM page_follows WHERE page = ? AND user_id = ?",
                         (page, user_id))

    def follows(self, user_id: int, page: str) -> bool:
        """True when the person follows `page`."""
        row = self.db.connect().execute(
            "SELECT 1 FROM page_follows WHERE page = ? AND user_id = ?",
            (page, user_id)).fetchone()
        return row is not None

    def followers(self, page: str) -> list[int]:
        """The account ids following `page`."""
        rows = self.db.connect().execute(
            "SELECT user_id FROM page_follows WHERE page = ? ORDER BY user_id", (page,)).fetchall()
        return [int(r[0]) for r in rows]

    def move(self, old: str, new: str) -> None:
        """Follow a page rename: followers of `old` now follow `new`."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE OR IGNORE page_follows SET page = ? WHERE page = ?", (new, old))
            conn.execute("DELETE FROM page_follows WHERE page = ?", (old,))

    # -- e-mail choice -------------------------------------------------------

    def email_choice(self, user_id: int) -> str:
        """How the person gets notifications by e-mail: one of EMAIL_CHOICES."""
        row = self.db.connect().execute(
            "SELECT email FROM notify_settings WHERE user_id = ?", (user_id,)).fetchone()
        return "none" if row is None else str(row[0])

    def set_email_choice(self, user_id: int, choice: str) -> None:
        """Choose none, immediate or digest e-mail; InvalidInput for anything else."""
        if choice not in EMAIL_CHOICES:
            raise InvalidInput(N_("e-mail must be one of {choices}"),
                               choices=", ".join(EMAIL_CHOICES))
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO notify_settings (user_id, email) VALUES (?, ?)"
                         " ON CONFLICT (user_id) DO UPDATE SET email = excluded.email",
                         (user_id, choice))
            if choice == "none":  # what waited to be mailed is not mailed any more
                conn.execute("UPDATE notifications SET mail = 0 WHERE user_id = ? AND mail = 1",
                             (user_id,))


def sentence(language: str, kind: str, actor: str, page: str) -> str:
    """What a notification says happened, in `language`."""
    who = actor or translate(language, SOMEONE)
    return translate(language, SENTENCES.get(kind, SENTENCES["mention"]), actor=who, page=page)


def followed_pages(notifications: Notifications) -> Listener:
    """The change-door listener: followers of a page hear of its saves, deletes and renames.

    A rename first moves the follows to the new name. Pushes name no pages in their
    change, so they notify nobody (the page list and feed show them).
    """

    def listener(change: Change) -> None:
        if change.kind is Kind.RENAMED:
            notifications.move(*change.pages)
            page = change.pages[1]
        elif change.kind in PAGE_EDITS | {Kind.DELETED} and change.details.get("changed", True):
            page = change.pages[0]
        else:
            return
        notifications.notify(notifications.followers(page), "followed_change", page,
                             change.account or 0, change.kind.value, f"/p/{quote(page)}")

    return listener


def _notification(r: sqlite3.Row) -> Notification:
    return Notification(id=r["id"], user_id=r["user_id"], kind=r["kind"], page=r["page"],
                        actor=r["actor"] or "", summary=r["summary"], link=r["link"],
                        created=r["created"], read=r["read"] is not None)
