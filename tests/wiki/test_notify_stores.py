"""Notifications, follows and the mail outbox on both engines, with real threads.

Each test runs on SQLite and on PostgreSQL (the `database` fixture); the outbox
tests send through a real SMTP server (aiosmtpd) on a local port.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from tests.account_support import insert_member
from tests.concurrency_support import at_once, errors_of
from tests.conftest import free_port
from tests.wiki.test_mailer import SmtpServer
from wiki.config import Settings
from wiki.db import Database
from wiki.dbschema import mail_outbox, notifications
from wiki.mailer import CLAIM_SECONDS, Mailer
from wiki.notifications import Notifications
from wiki.wikilang import WikiLanguage


def add_user(db: Database, name: str, active: bool = True) -> int:
    return insert_member(db.connect(), name, active=active, language="en")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.up()
    yield server
    server.down()


def mailer(db: Database, smtp: SmtpServer, tmp_path: Path) -> Mailer:
    settings = Settings.load({"data_dir": str(tmp_path / "data"), "smtp_host": "127.0.0.1",
                              "smtp_port": smtp.port, "smtp_starttls": False,
                              "smtp_from": "wiki@example.org"}, environ={})
    return Mailer(db, settings, WikiLanguage("en"), Notifications(db, mail_enabled=True))


def test_notify_skips_the_actor_and_inactive_accounts_and_refreshes_unread(
        database: Database) -> None:
    store = Notifications(database)
    anna, bram, gone = add_user(database, "Anna"), add_user(database, "Bram"), \
        add_user(database, "Gone", active=False)
    store.notify([anna, bram, gone, 10**6], "mention", "Home", bram, "eerst", "/p/Home")
    store.notify([anna], "mention", "home", bram, "dan", "/p/Home")  # same page, any case
    [note] = store.recent(anna)
    assert (note.summary, note.actor, note.read) == ("dan", "Bram", False)
    assert store.unread_count(bram) == store.unread_count(gone) == 0
    store.mark_read(anna, note.id)
    store.notify([anna], "mention", "Home", bram, "weer", "/p/Home")
    assert [n.summary for n in store.recent(anna)] == ["weer", "dan"]
    assert store.mark_all_read(anna) == 1 and store.unread_count(anna) == 0
    assert store.get(bram, note.id) is None and store.get(anna, 2**40) is None


def test_the_same_notification_from_many_threads_is_one_unread_row(database: Database) -> None:
    store = Notifications(database)
    actor, readers = add_user(database, "Actor"), [add_user(database, f"R{i}") for i in range(5)]
    assert not errors_of(at_once(6, lambda i: store.notify(
        readers, "followed_change", "Plan", actor, "saved", "/p/Plan")))
    assert [store.unread_count(r) for r in readers] == [1] * 5


def test_follows_ignore_case_and_move_with_renames(database: Database) -> None:
    store = Notifications(database)
    anna, bram = add_user(database, "Anna"), add_user(database, "Bram")
    store.follow(anna, "Intro")
    store.follow(anna, "intro")  # the same page
    store.follow(bram, "Intro")
    store.follow(bram, "Inleiding")
    assert store.follows(anna, "INTRO") and store.followers("intro") == [anna, bram]
    store.move("Intro", "Inleiding")
    assert store.followers("Inleiding") == [anna, bram] and store.followers("Intro") == []
    store.move("Inleiding", "INLEIDING")  # only the case changes: nobody is lost
    assert store.followers("Inleiding") == [anna, bram]
    store.unfollow(anna, "inleiding")
    assert store.followers("Inleiding") == [bram]


def test_choosing_none_stops_what_waited_for_mail(database: Database) -> None:
    store = Notifications(database, mail_enabled=True)
    anna = add_user(database, "Anna")
    assert store.email_choice(anna) == "none"
    store.set_email_choice(anna, "digest")
    store.set_email_choice(anna, "immediate")
    store.notify([anna], "mention", "Home", 0, link="/p/Home")
    waiting = select(func.count()).select_from(notifications).where(notifications.c.mail == 1)
    assert store.email_choice(anna) == "immediate"
    assert database.connect().execute(waiting).scalar_one() == 1
    store.set_email_choice(anna, "none")
    assert database.connect().execute(waiting).scalar_one() == 0


def test_composed_messages_go_out_once(database: Database, smtp: SmtpServer,
                                       tmp_path: Path) -> None:
    people = [add_user(database, f"P{i}") for i in range(3)]
    store = Notifications(database, mail_enabled=True)
    for person in people:
        store.set_email_choice(person, "immediate")
    store.notify(people, "mention", "Home", 0, "hoi", "/p/Home")
    workers = [mailer(database, smtp, tmp_path) for _ in range(3)]
    done = at_once(3, lambda i: workers[i].run_once())
    assert not errors_of(done) and sum(int(str(n)) for n in done) == 3
    assert sorted(str(m["To"]) for m in smtp.inbox.wait_for(3)) == [
        "p0@example.org", "p1@example.org", "p2@example.org"]
    assert workers[0].run_once(time.time() + 3600) == 0


def test_workers_sending_at_once_send_each_message_exactly_once(
        database: Database, smtp: SmtpServer, tmp_path: Path) -> None:
    anna = add_user(database, "Anna")
    database.connect().execute(insert(mail_outbox), [
        {"user_id": anna, "recipient": f"anna+{i}@example.org", "subject": str(i), "body": "b",
         "created": 0.0, "next_try": 0.0} for i in range(30)])
    # Four workers: each its own pool, as separate web processes would have.
    pools = [Database(database.url) for _ in range(4)]
    try:
        workers = [mailer(db, smtp, tmp_path) for db in pools]
        sent = at_once(4, lambda i: workers[i].send_due() + workers[i].send_due())
    finally:
        for db in pools:
            db.dispose()
    assert not errors_of(sent) and sum(int(str(n)) for n in sent) == 30
    time.sleep(0.5)  # anything sent twice has arrived too
    assert sorted(int(str(m["Subject"])) for m in smtp.inbox.messages) == list(range(30))


def test_a_claim_made_while_another_is_in_flight_takes_other_messages(
        database: Database, smtp: SmtpServer, tmp_path: Path) -> None:
    anna = add_user(database, "Anna")
    database.connect().execute(insert(mail_outbox), [
        {"user_id": anna, "recipient": "anna@example.org", "subject": str(i), "body": "b",
         "created": 0.0, "next_try": float(i)} for i in range(25)])
    other = Database(database.url)
    try:
        first, second = mailer(database, smtp, tmp_path), mailer(other, smtp, tmp_path)
        taken: list[list[int]] = []
        waiter = threading.Thread(target=lambda: taken.append(
            [int(r["id"]) for r in second._claim(time.time())]))
        with database.transaction():  # the first claim is not committed yet
            mine = [int(r["id"]) for r in first._claim(time.time())]
            waiter.start()
            time.sleep(0.5)  # the second claim runs meanwhile (or waits, on SQLite)
        waiter.join(30)
    finally:
        other.dispose()
    assert len(mine) == 20 and taken and not set(mine) & set(taken[0])


def test_a_claim_that_ran_out_and_was_taken_over_is_not_sent_again(
        database: Database, smtp: SmtpServer, tmp_path: Path) -> None:
    anna = add_user(database, "Anna")
    database.connect().execute(insert(mail_outbox).values(
        user_id=anna, recipient="anna@example.org", subject="s", body="b", created=0.0,
        next_try=0.0))
    slow, quick = mailer(database, smtp, tmp_path), mailer(database, smtp, tmp_path)
    now = time.time()
    [claimed] = slow._claim(now)
    assert quick.send_due(now) == 0  # held by the slow worker
    assert quick.send_due(now + CLAIM_SECONDS + 1) == 1  # its claim ran out
    assert not slow._renew(claimed, now)  # so the slow worker leaves it
    assert len(smtp.inbox.wait_for(1, seconds=1)) == 1


def test_a_failed_send_waits_and_is_counted(database: Database, smtp: SmtpServer,
                                            tmp_path: Path) -> None:
    anna = add_user(database, "Anna")
    for _ in range(2):
        database.connect().execute(insert(mail_outbox).values(
            user_id=anna, recipient="anna@example.org", subject="s", body="b", created=0.0,
            next_try=0.0))
    smtp.down()
    now = time.time()
    assert mailer(database, smtp, tmp_path).send_due(now) == 0
    rows = database.connect().execute(
        select(mail_outbox.c.attempts, mail_outbox.c.next_try).order_by(mail_outbox.c.id)).all()
    assert [r.attempts for r in rows] == [1, 0]  # the second waits without being tried
    assert all(r.next_try == now + 30 for r in rows)
    database.connect().execute(update(mail_outbox).values(next_try=0.0))
    smtp.up()
    assert mailer(database, smtp, tmp_path).send_due(now) == 2
