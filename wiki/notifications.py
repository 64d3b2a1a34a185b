"""Notifications: what happened that concerns a person, the pages they follow, how they get mail.

Other parts of the wiki call `notify` (comments for mentions and replies, suggestions,
reports, the followed-pages listener in wiki/wiring.py). A notification is a row per
recipient; the bell counts the unread ones with one indexed query. A notification
for someone who chose e-mail is marked `mail = 1` until wiki/mailer.py has put it in
an outbox message, so a stopped server or an SMTP outage loses nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import (
    Connection,
    RowMapping,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)

from wiki.changes import PAGE_EDITS, Change, Kind, Listener
from wiki.db import Database
from wiki.dbdialect import insert_ignore, lock_key, upsert
from wiki.dbschema import MAX_ID, members, notify_settings, page_follows, users
from wiki.dbschema import notifications as notes
from wiki.errors import N_, InvalidInput
from wiki.wikilang import translate

# "suggestion_decided" is what rows written before accepted, turned down and
# conflict were told apart say; it is still shown, never written.
KINDS = ("mention", "reply", "suggestion", "suggestion_accepted", "suggestion_rejected",
         "suggestion_conflict", "suggestion_decided", "report", "followed_change")
# Kinds whose summary is someone's words (a comment, a note, a decision's reason).
QUOTED_KINDS = ("mention", "reply", "suggestion", "suggestion_accepted", "suggestion_rejected")
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
    "suggestion_accepted": N_("{actor} accepted your suggestion for {page}"),
    "suggestion_rejected": N_("{actor} turned down your suggestion for {page}"),
    "suggestion_conflict": N_("{actor} wanted to accept your suggestion for {page}, but the"
                              " page changed in the same place: you can redo it on the"
                              " current text"),
    "suggestion_decided": N_("{actor} decided on your suggestion for {page}"),
    "report": N_("{actor} reported a comment on {page}"),
    "followed_change": N_("{actor} changed {page}, which you follow"),
}
SOMEONE = N_("Someone")

_SELECT = select(notes, users.c.name.label("actor")).select_from(
    notes.outerjoin(users, users.c.id == notes.c.actor_id))


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


# Built once (every page view and save asks): building costs more than SQLite's answer.
_UNREAD = select(func.count()).select_from(notes).where(
    notes.c.user_id == bindparam("user"), notes.c.read.is_(None))
_FOLLOWS = select(page_follows.c.user_id).where(
    page_follows.c.page == bindparam("page"), page_follows.c.user_id == bindparam("user"))
_FOLLOWERS = select(page_follows.c.user_id).where(page_follows.c.page == bindparam("page")) \
    .order_by(page_follows.c.user_id)


class Notifications:
    """Notifications, page follows and e-mail choices, in the shared database."""

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
            # Two notifies of the same thing at once would each find no unread one to
            # refresh and both insert (PostgreSQL runs them side by side).
            lock_key(conn, f"notify:{kind}:{page.casefold()}:{link}")
            mailed = self._mailed(conn, people)
            for person in people:
                updated = conn.execute(update(notes).where(
                    notes.c.user_id == person, notes.c.kind == kind, notes.c.page == page,
                    notes.c.link == link, notes.c.read.is_(None),
                ).values(actor_id=actor, summary=summary, created=now))
                if updated.rowcount:
                    continue
                conn.execute(insert(notes).from_select(
                    ["user_id", "kind", "page", "actor_id", "summary", "link", "created", "mail"],
                    select(members.c.user_id, literal(kind), literal(page),
                           literal(actor if actor > 0 else None, notes.c.actor_id.type),
                           literal(summary), literal(link), literal(now),
                           literal(int(person in mailed)))
                    .where(members.c.user_id == person, members.c.active == 1)))
        if mailed:
            self.mail_waiting.set()

    def _mailed(self, conn: Connection, people: list[int]) -> set[int]:
        """Who of `people` gets notifications by e-mail (nobody while mail is off)."""
        if not self.mail_enabled:
            return set()
        ids = conn.execute(select(notify_settings.c.user_id).where(
            notify_settings.c.email != "none", notify_settings.c.user_id.in_(people))).scalars()
        return {int(i) for i in ids}

    def facilitators(self) -> list[int]:
        """The active facilitators' account ids (who hears of reports)."""
        ids = self.db.connect().execute(select(members.c.user_id).where(
            members.c.role == "facilitator", members.c.active == 1)
            .order_by(members.c.user_id)).scalars()
        return [int(i) for i in ids]

    # -- the bell and the list -----------------------------------------------

    def unread_count(self, user_id: int) -> int:
        """How many unread notifications `user_id` has (one query on a partial index)."""
        return int(self.db.connect().execute(_UNREAD, {"user": user_id}).scalar_one())

    def recent(self, user_id: int, limit: int = LIST_LIMIT) -> list[Notification]:
        """The person's notifications, newest first."""
        rows = self.db.connect().execute(
            _SELECT.where(notes.c.user_id == user_id)
            .order_by(notes.c.created.desc(), notes.c.id.desc()).limit(limit)).mappings()
        return [_notification(r) for r in rows]

    def get(self, user_id: int, notification_id: int) -> Notification | None:
        """One of the person's notifications, or None (also for someone else's)."""
        if not 0 < notification_id <= MAX_ID:
            return None
        row = self.db.connect().execute(_SELECT.where(
            notes.c.id == notification_id, notes.c.user_id == user_id)).mappings().first()
        return None if row is None else _notification(row)

    def mark_read(self, user_id: int, notification_id: int) -> None:
        """Mark one of the person's notifications read (someone else's is left alone)."""
        if not 0 < notification_id <= MAX_ID:
            return
        self.db.connect().execute(update(notes).where(
            notes.c.id == notification_id, notes.c.user_id == user_id, notes.c.read.is_(None),
        ).values(read=time.time()))

    def mark_all_read(self, user_id: int) -> int:
        """Mark every unread notification of the person read; how many there were."""
        done = self.db.connect().execute(update(notes).where(
            notes.c.user_id == user_id, notes.c.read.is_(None)).values(read=time.time()))
        return int(done.rowcount)

    # -- following pages -----------------------------------------------------

    def follow(self, user_id: int, page: str) -> None:
        """Notify the person of later changes to `page`."""
        self.db.connect().execute(insert_ignore(self.db.dialect, page_follows, {
            "page": page, "user_id": user_id, "created": time.time()}))

    def unfollow(self, user_id: int, page: str) -> None:
        """Stop notifying the person of changes to `page`."""
        self.db.connect().execute(delete(page_follows).where(
            page_follows.c.page == page, page_follows.c.user_id == user_id))

    def follows(self, user_id: int, page: str) -> bool:
        """True when the person follows `page`."""
        return self.db.connect().execute(
            _FOLLOWS, {"page": page, "user": user_id}).first() is not None

    def followers(self, page: str) -> list[int]:
        """The account ids following `page`."""
        ids = self.db.connect().execute(_FOLLOWERS, {"page": page}).scalars()
        return [int(i) for i in ids]

    def move(self, old: str, new: str) -> None:
        """Follow a page rename: followers of `old` now follow `new`."""
        f = page_follows.c
        # Who already follows `new` keeps that follow; a rename that changes only
        # the case (the same page to the database) moves every follow.
        already = select(f.user_id).where(f.page == new, f.page != old)
        with self.db.transaction() as conn:
            conn.execute(update(page_follows).where(f.page == old, f.user_id.not_in(already))
                         .values(page=new))
            conn.execute(delete(page_follows).where(f.page == old, f.page != new))

    # -- e-mail choice -------------------------------------------------------

    def email_choice(self, user_id: int) -> str:
        """How the person gets notifications by e-mail: one of EMAIL_CHOICES."""
        choice = self.db.connect().execute(select(notify_settings.c.email).where(
            notify_settings.c.user_id == user_id)).scalar()
        return "none" if choice is None else str(choice)

    def set_email_choice(self, user_id: int, choice: str) -> None:
        """Choose none, immediate or digest e-mail; InvalidInput for anything else."""
        if choice not in EMAIL_CHOICES:
            raise InvalidInput(N_("e-mail must be one of {choices}"),
                               choices=", ".join(EMAIL_CHOICES))
        with self.db.transaction() as conn:
            conn.execute(upsert(self.db.dialect, notify_settings,
                                {"user_id": user_id, "email": choice}, ["user_id"]))
            if choice == "none":  # what waited to be mailed is not mailed any more
                conn.execute(update(notes).where(notes.c.user_id == user_id, notes.c.mail == 1)
                             .values(mail=0))


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


def _notification(r: RowMapping) -> Notification:
    return Notification(id=r["id"], user_id=r["user_id"], kind=r["kind"], page=r["page"],
                        actor=r["actor"] or "", summary=r["summary"], link=r["link"],
                        created=r["created"], read=r["read"] is not None)
