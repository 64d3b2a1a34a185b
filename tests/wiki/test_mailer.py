"""Notification e-mail against a real SMTP server (aiosmtpd) started by the tests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from tests.conftest import free_port
from wiki.accounts import User
from wiki.changes import Origin
from wiki.config import Settings
from wiki.datadir import Services, open_data_dir
from wiki.dbschema import mail_outbox, notifications
from wiki.mailer import Mailer

PASSWORD = "a long enough password"


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"

    def wait_for(self, count: int, seconds: float = 15.0) -> list[EmailMessage]:
        deadline = time.monotonic() + seconds
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


class SmtpServer:
    """A real SMTP server on a local port that can go down and come back."""

    def __init__(self, port: int) -> None:
        self.port, self.inbox = port, Inbox()
        self.controller: Controller | None = None

    def up(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def down(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.up()
    yield server
    server.down()


@pytest.fixture
def wiki(tmp_path: Path, smtp: SmtpServer, database_url: str) -> Services:
    return open_data_dir(Settings.load({
        "data_dir": str(tmp_path / "data"), "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
        "smtp_starttls": False, "smtp_from": "wiki@example.org", "digest_minutes": 30,
        "base_url": "https://wiki.example.org/"}))


def mailer(wiki: Services) -> Mailer:
    assert wiki.mailer is not None
    return wiki.mailer


def person(wiki: Services, name: str, language: str = "", email: str = "none") -> User:
    user = wiki.accounts.add_user(name, f"{name.lower()}@example.org", "participant", PASSWORD)
    if language:
        wiki.accounts.set_language(user, language)
    wiki.notifications.set_email_choice(user.id, email)
    return user


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def test_mail_is_off_without_an_smtp_host(tmp_path: Path, database_url: str) -> None:
    wiki = open_data_dir(Settings.load({"data_dir": str(tmp_path / "data")}))
    assert wiki.mailer is None
    anna = person(wiki, "Anna", email="immediate")
    wiki.notifications.notify([anna.id], "mention", "Home", 0, link="/p/Home")
    waiting = wiki.db.connect().execute(select(func.count()).select_from(notifications)
                                        .where(notifications.c.mail == 1))
    assert waiting.scalar_one() == 0


def test_an_immediate_message_arrives_in_each_persons_language(wiki: Services,
                                                              smtp: SmtpServer) -> None:
    person(wiki, "Anna", language="nl", email="immediate")
    person(wiki, "Bob", language="en", email="immediate")
    person(wiki, "Quiet", language="en", email="none")
    carl = person(wiki, "Carl")
    made = wiki.comments.add("Home", carl, "Wat vinden @Anna, @Bob en @Quiet ervan?")
    assert mailer(wiki).run_once() == 2
    by_recipient = {str(m["To"]): m for m in smtp.inbox.wait_for(2)}
    assert set(by_recipient) == {"anna@example.org", "bob@example.org"}
    dutch, english = by_recipient["anna@example.org"], by_recipient["bob@example.org"]
    assert dutch["Subject"] == "cowiki: Carl noemde je op Home"
    assert english["Subject"] == "cowiki: Carl mentioned you on Home"
    assert body(dutch).startswith("Hallo Anna,\n")
    assert body(english).startswith("Hello Bob,\n")
    link = f"https://wiki.example.org/p/Home#comment-{made.id}"
    assert link in body(dutch) and link in body(english)
    assert "Wat vinden @Anna" in body(english)
    assert dutch["From"] == "wiki@example.org"
    assert mailer(wiki).run_once() == 0  # each once


def test_a_digest_batches_several_notifications_into_one_message(wiki: Services,
                                                                 smtp: SmtpServer) -> None:
    anna = person(wiki, "Anna", language="en", email="digest")
    bob = person(wiki, "Bob")
    wiki.notifications.follow(anna.id, "Intro")
    wiki.comments.add("Home", bob, "@Anna kijk even")
    wiki.pages.save("Intro", "# Intro\n", None, bob.person, origin=Origin(bob.id))
    first = wiki.comments.add("Intro", anna, "Eerste")
    wiki.comments.add("Intro", bob, "Antwoord", parent=first.id)
    now = time.time()
    assert mailer(wiki).run_once(now) == 0  # not yet: a digest waits
    assert mailer(wiki).run_once(now + 31 * 60) == 1
    [digest] = smtp.inbox.wait_for(1)
    assert digest["Subject"] == "cowiki: 3 new notifications"
    text = body(digest)
    for line in ("- Bob mentioned you on Home", "- Bob changed Intro, which you follow",
                 "- Bob replied to your comment on Intro", "https://wiki.example.org/p/Intro"):
        assert line in text
    assert mailer(wiki).run_once(now + 62 * 60) == 0


def test_when_smtp_is_down_the_message_waits_and_goes_later(wiki: Services,
                                                            smtp: SmtpServer) -> None:
    anna = person(wiki, "Anna", language="en", email="immediate")
    smtp.down()
    wiki.notifications.notify([anna.id], "mention", "Home", 0, "hoi", "/p/Home")
    now = time.time()
    assert mailer(wiki).run_once(now) == 0
    row = wiki.db.connect().execute(select(mail_outbox.c.attempts, mail_outbox.c.sent,
                                           mail_outbox.c.error)).mappings().one()
    assert (row["attempts"], row["sent"]) == (1, None) and row["error"]
    smtp.up()
    assert mailer(wiki).run_once(now + 1) == 0  # waits its turn
    assert mailer(wiki).run_once(now + 31) == 1
    [message] = smtp.inbox.wait_for(1)
    assert message["Subject"] == "cowiki: Someone mentioned you on Home"


def test_the_background_thread_sends_without_being_asked(wiki: Services,
                                                         smtp: SmtpServer) -> None:
    person(wiki, "Anna", language="en", email="immediate")
    bob = person(wiki, "Bob")
    mailer(wiki).start()
    try:
        wiki.comments.add("Home", bob, "@Anna?")
        assert [m["To"] for m in smtp.inbox.wait_for(1)] == ["anna@example.org"]
    finally:
        mailer(wiki).stop()


def test_choosing_none_drops_what_waited_for_mail(wiki: Services, smtp: SmtpServer) -> None:
    anna = person(wiki, "Anna", email="digest")
    wiki.notifications.notify([anna.id], "mention", "Home", 0, link="/p/Home")
    wiki.notifications.set_email_choice(anna.id, "none")
    assert mailer(wiki).run_once(time.time() + 3600) == 0
    assert wiki.notifications.unread_count(anna.id) == 1  # still in the wiki
