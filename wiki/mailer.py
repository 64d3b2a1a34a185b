"""E-mail of notifications through the configured SMTP server, in the background.

Two steps, both in the database so nothing is lost when the server stops or SMTP is down:

1. `compose` turns notifications waiting for mail (`mail = 1`) into messages in
   `mail_outbox`, in the recipient's language (their interface language, else the
   wiki's): one message per notification for "immediate", one message with all
   of them for "digest" once the oldest has waited `digest_minutes`.
2. `send_due` sends outbox messages with smtplib. Several web workers share the
   outbox, so a message is claimed first, by one UPDATE that moves its next try
   on only while it is still due (whoever's update lands first has it), and the
   claim is renewed, again only while still held, right before it is sent: no
   message goes out twice from two workers. Then it is marked sent, or tried
   again later with growing pauses; a failure is logged, never dropped. A worker
   that dies mid-send leaves its claim to expire: at least once, at most rarely twice.

`Mailer.start` runs both in a daemon thread of each web worker, woken when a
notification waits for mail and otherwise every `POLL_SECONDS`. Never in a request.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, update

from wiki.config import Settings
from wiki.db import Database
from wiki.dbdialect import lock_key
from wiki.dbschema import mail_outbox as outbox
from wiki.dbschema import members, notifications, notify_settings, users
from wiki.notifications import QUOTED_KINDS, Notifications, sentence
from wiki.wikilang import LANGUAGES, N_, WikiLanguage, translate

POLL_SECONDS = 5.0
CLAIM_SECONDS = 120.0  # a worker has this long to send a message it took
RETRY_DELAYS = (30.0, 120.0, 600.0, 1800.0, 3600.0)  # then hourly, until it goes
KEEP_SENT_SECONDS = 7 * 86400
BATCH = 20
SMTP_TIMEOUT = 20.0

log = logging.getLogger("cowiki.mailer")

HELLO = N_("Hello {name},")
DIGEST_SUBJECT = N_("{site}: {count} new notifications")
DIGEST_INTRO = N_("This happened in {site}:")
WHY = N_("You get these e-mails because you chose them on your account page: {url}")


@dataclass(frozen=True)
class Waiting:
    """A notification waiting for mail, with what its message needs."""

    id: int
    user_id: int
    name: str
    email: str
    language: str
    choice: str
    kind: str
    page: str
    actor: str
    summary: str
    link: str
    created: float


class Mailer:
    """The outbox of notification e-mail and the thread that empties it."""

    def __init__(self, db: Database, settings: Settings, language: WikiLanguage,
                 notifications: Notifications) -> None:
        self.db, self.settings, self.language = db, settings, language
        self.notifications = notifications
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- composing -----------------------------------------------------------

    def compose(self, now: float | None = None) -> int:
        """Put the messages that are due in the outbox; how many were added."""
        now = time.time() if now is None else now
        added = 0
        with self.db.transaction() as conn:
            lock_key(conn, "mailer:compose")  # one worker at a time: none composes twice
            waiting = [_waiting(r) for r in conn.execute(_WAITING).mappings()]
            by_person: dict[int, list[Waiting]] = {}
            for w in waiting:
                by_person.setdefault(w.user_id, []).append(w)
            for notes in by_person.values():
                batches = self._batches(notes, now)
                for batch in batches:
                    self._queue(conn, batch, now)
                    added += 1
                done = [n.id for batch in batches for n in batch]
                if notes[0].choice not in ("immediate", "digest"):
                    done = [n.id for n in notes]  # changed their mind: nothing to mail
                if done:
                    conn.execute(update(notifications).where(notifications.c.id.in_(done))
                                 .values(mail=0))
            conn.execute(delete(outbox).where(outbox.c.sent < now - KEEP_SENT_SECONDS))
        return added

    def _batches(self, notes: list[Waiting], now: float) -> list[list[Waiting]]:
        """The messages to send now: each alone, or all in one digest when it is due."""
        if notes[0].choice == "immediate":
            return [[n] for n in notes]
        if notes[0].choice == "digest" and notes[0].created <= now - self.digest_seconds:
            return [notes]
        return []

    @property
    def digest_seconds(self) -> float:
        return max(1, self.settings.digest_minutes) * 60.0

    def _queue(self, conn: Connection, batch: list[Waiting], now: float) -> None:
        first = batch[0]
        language = first.language if first.language in LANGUAGES else self.language.get()
        subject, body = self.message(batch, language)
        conn.execute(insert(outbox).values(user_id=first.user_id, recipient=first.email,
                                           subject=subject, body=body, created=now,
                                           next_try=now))

    def message(self, batch: list[Waiting], language: str) -> tuple[str, str]:
        """Subject and plain-text body of one message to `batch[0]`'s person."""
        site = self.settings.site_name
        lines = [translate(language, HELLO, name=batch[0].name), ""]
        if len(batch) == 1:
            subject = f"{site}: {self._sentence(batch[0], language)}"
        else:
            subject = translate(language, DIGEST_SUBJECT, site=site, count=len(batch))
            lines += [translate(language, DIGEST_INTRO, site=site), ""]
        for note in batch:
            lines.append(("- " if len(batch) > 1 else "") + self._sentence(note, language))
            indent = "  " if len(batch) > 1 else ""
            if note.summary and note.kind in QUOTED_KINDS:
                lines.append(f"{indent}“{note.summary}”")
            lines += [indent + self.url(note.link), ""]
        lines += ["-- ", translate(language, WHY, url=self.url("/account#notifications"))]
        return subject, "\n".join(lines) + "\n"

    @staticmethod
    def _sentence(note: Waiting, language: str) -> str:
        return sentence(language, note.kind, note.actor, note.page)

    def url(self, link: str) -> str:
        """`link` (a path in the wiki) on the configured base URL."""
        return self.settings.base_url.rstrip("/") + link

    # -- sending -------------------------------------------------------------

    def send_due(self, now: float | None = None) -> int:
        """Send the outbox messages that are due; how many went."""
        now = float(time.time() if now is None else now)
        claimed = self._claim(now)
        sent = 0
        for number, row in enumerate(claimed):
            if not self._renew(row, now):
                continue  # held so long that another worker took it over
            try:
                self._send(row)
            except (OSError, smtplib.SMTPException) as error:
                delay = RETRY_DELAYS[min(row["attempts"], len(RETRY_DELAYS) - 1)]
                log.warning("mail to account %s not sent (try %d), again in %ds: %s",
                            row["user_id"], row["attempts"] + 1, delay, error)
                self._update(row["id"], attempts=outbox.c.attempts + 1, next_try=now + delay,
                             error=str(error)[:500])
                # The server is down or refusing: the rest of this round waits as long.
                for rest in claimed[number + 1:]:
                    self._update(rest["id"], next_try=now + delay)
                break
            self._update(row["id"], sent=time.time(), error="")
            sent += 1
        return sent

    def _claim(self, now: float) -> list[RowMapping]:
        """Take up to BATCH due messages for CLAIM_SECONDS. The UPDATE moves their next
        try only while they are still due, so of two workers one gets each message;
        on PostgreSQL the rows another worker is claiming are skipped, not waited for."""
        due = (outbox.c.sent.is_(None), outbox.c.next_try <= now)
        # Materialised, so PostgreSQL picks and locks the batch once (a subquery may be
        # run again per row and take more); SQLite ignores FOR UPDATE: its write lock
        # serialises the claims.
        first = select(outbox.c.id).where(*due).order_by(outbox.c.id).limit(BATCH) \
            .with_for_update(skip_locked=True).cte("due") \
            .prefix_with("MATERIALIZED", dialect="postgresql")
        rows = self.db.connect().execute(
            update(outbox).where(outbox.c.id == first.c.id, *due)
            .values(next_try=now + CLAIM_SECONDS).returning(*outbox.c)).mappings().all()
        return sorted(rows, key=lambda r: int(r["id"]))

    def _renew(self, row: RowMapping, now: float) -> bool:
        """Hold the claim on `row` for another CLAIM_SECONDS from now; False when it is
        no longer this worker's (a slow round let the claim run out and another took it)."""
        until = max(now, time.time()) + CLAIM_SECONDS
        held = self.db.connect().execute(update(outbox).where(
            outbox.c.id == row["id"], outbox.c.sent.is_(None),
            outbox.c.next_try == row["next_try"]).values(next_try=until))
        return bool(held.rowcount)

    def _update(self, number: int, **values: object) -> None:
        self.db.connect().execute(update(outbox).where(outbox.c.id == number).values(**values))

    def _send(self, row: RowMapping) -> None:
        s = self.settings
        message = EmailMessage()
        message["From"] = s.smtp_from or s.committer_email
        message["To"] = row["recipient"]
        message["Subject"] = row["subject"]
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=(s.smtp_from or "cowiki@localhost")
                                           .rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(row["body"])
        smtp_class = smtplib.SMTP_SSL if s.smtp_port == 465 else smtplib.SMTP
        with smtp_class(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT) as smtp:
            if s.smtp_starttls and smtp_class is smtplib.SMTP:
                smtp.starttls(context=ssl.create_default_context())
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password)
            smtp.send_message(message)

    # -- the background thread -----------------------------------------------

    def run_once(self, now: float | None = None) -> int:
        """Compose what is due, then send what is due; how many messages went."""
        self.compose(now)
        return self.send_due(now)

    def start(self) -> None:
        """Run in a daemon thread until `stop` (or the process ends)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="cowiki-mailer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread after its current round."""
        self._stop.set()
        self.notifications.mail_waiting.set()
        if self._thread is not None:
            self._thread.join(timeout=SMTP_TIMEOUT + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.notifications.mail_waiting.clear()
            try:
                self.run_once()
            except Exception:
                log.exception("the mailer's round failed; it tries again")
            finally:
                self.db.release()  # not held while waiting for the next round
            self.notifications.mail_waiting.wait(POLL_SECONDS)


_ACTOR = users.alias("actor")
_WAITING = (
    select(notifications.c.id, notifications.c.user_id, notifications.c.kind,
           notifications.c.page, notifications.c.summary, notifications.c.link,
           notifications.c.created, _ACTOR.c.name.label("actor"), users.c.name, users.c.email,
           users.c.language, members.c.active,
           func.coalesce(notify_settings.c.email, "none").label("choice"))
    .select_from(notifications.join(users, users.c.id == notifications.c.user_id)
                 .join(members, members.c.user_id == notifications.c.user_id)
                 .outerjoin(notify_settings, notify_settings.c.user_id == notifications.c.user_id)
                 .outerjoin(_ACTOR, _ACTOR.c.id == notifications.c.actor_id))
    .where(notifications.c.mail == 1)
    .order_by(notifications.c.user_id, notifications.c.created, notifications.c.id)
)


def _waiting(r: RowMapping) -> Waiting:
    return Waiting(id=r["id"], user_id=r["user_id"], name=r["name"], email=r["email"],
                   language=r["language"], choice=r["choice"] if r["active"] else "none",
                   kind=r["kind"], page=r["page"], actor=r["actor"] or "",
                   summary=r["summary"], link=r["link"], created=r["created"])
