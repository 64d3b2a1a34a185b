"""The small stores on both engines: drafts, presence, rate limits, the push log, freezing.

Each test runs on SQLite and on PostgreSQL (the `database` fixture); the rate
limiter's burst test uses real threads, each with its own connection.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from storage.repository import Person
from tests.account_support import insert_member
from wiki.accounts import User
from wiki.db import Database
from wiki.dbdialect import lock_key
from wiki.dbschema import login_failures
from wiki.drafts import Drafts
from wiki.errors import PageTooLarge
from wiki.phases import WIKI, frozen_scopes, is_facilitator, is_frozen, set_frozen
from wiki.presence import EXPIRES, Presence
from wiki.pushlog import CHUNK, SERVER_PUSHER, PushLog
from wiki.ratelimit import Limit, RateLimits


def add_user(db: Database, name: str, role: str = "participant", active: bool = True) -> User:
    with db.transaction() as conn:
        user_id = insert_member(conn, name, role, active)
    return User(user_id, name, f"{name.lower()}@example.org", role, active)


@pytest.fixture
def anna(database: Database) -> User:
    return add_user(database, "Anna")


def test_a_draft_is_replaced_per_person_and_page_in_any_case(database: Database,
                                                            anna: User) -> None:
    drafts, bram = Drafts(database, 100), add_user(database, "Bram")
    drafts.put("Market", anna, "first", "")
    drafts.put("market", anna, "second", "a" * 40)
    drafts.put("Market", bram, "his", "")
    mine = drafts.get("MARKET", anna)
    assert mine is not None and (mine.page, mine.markdown) == ("market", "second")
    assert mine.base_revision == "a" * 40
    with pytest.raises(PageTooLarge):
        drafts.put("Market", anna, "x" * 101, "")
    drafts.forget("MARKET", anna.id)
    assert drafts.get("Market", anna) is None
    assert drafts.get("Market", bram) is not None


def test_presence_keeps_the_session_start_until_the_editor_goes_quiet(
        database: Database, anna: User) -> None:
    presence, bram = Presence(database), add_user(database, "Bram")
    presence.heartbeat("Market", anna, dirty=False, now=1000.0)
    presence.heartbeat("market", anna, dirty=True, now=1010.0)
    [editor] = presence.editors("MARKET", besides=bram, now=1015.0)
    assert (editor.name, editor.since, editor.seen, editor.dirty) == ("Anna", 1000.0, 1010.0, True)
    presence.heartbeat("Market", anna, dirty=False, now=1010.0 + EXPIRES + 5)
    [editor] = presence.editors("Market", now=1010.0 + EXPIRES + 5)
    assert editor.since == 1010.0 + EXPIRES + 5 and not editor.dirty
    assert presence.editors("Market", besides=anna, now=1010.0 + EXPIRES + 5) == []


def test_everyone_lists_pages_without_regard_to_case_and_hides_inactive_people(
        database: Database, anna: User) -> None:
    presence, gone = Presence(database), add_user(database, "Gone", active=False)
    presence.heartbeat("beta", anna, dirty=False, now=1000.0)
    presence.heartbeat("Alpha", anna, dirty=False, now=1001.0)
    presence.heartbeat("Alpha", gone, dirty=False, now=1001.0)
    assert [page for page, _ in presence.everyone(now=1002.0)] == ["Alpha", "beta"]
    presence.leave("alpha", anna)
    assert [page for page, _ in presence.everyone(now=1002.0)] == ["beta"]
    assert presence.everyone(now=1001.0 + EXPIRES + 1) == []


def test_a_limit_counts_per_key_and_tells_the_wait(database: Database) -> None:
    limits, limit = RateLimits(database), Limit(2, 60.0)
    assert limits.take("save:user:1", limit) == 0.0
    assert limits.take("save:user:1", limit) == 0.0
    assert 59.0 <= limits.take("save:user:1", limit) <= 60.0
    assert limits.take("save:user:2", limit) == 0.0
    assert limits.take("save:user:1", Limit(0)) == 0.0  # no limit
    assert limits.wait("save:user:1", limit) > 0 and limits.wait("save:user:2", limit) == 0


def test_recorded_failures_lock_keys_until_cleared(database: Database) -> None:
    limits, limit = RateLimits(database), Limit(3, 600.0)
    limits.record(("login:name:anna", "login:ip:1.2.3.4"), forget_before=3600.0)
    limits.record(("login:name:anna",), forget_before=3600.0)
    limits.record(("login:name:anna",), forget_before=3600.0)
    limits.record((), forget_before=3600.0)
    assert limits.keys_at_limit("login:name:", limit) == {"login:name:anna"}
    assert limits.keys_at_limit("login:ip:", limit) == set()
    limits.clear(("login:name:anna", "login:ip:1.2.3.4"))
    assert limits.keys_at_limit("login:name:", limit) == set()
    assert database.connect().execute(select(func.count()).select_from(login_failures)) \
        .scalar_one() == 0


def test_a_burst_of_workers_takes_at_most_the_limit(database: Database) -> None:
    """Every thread has its own connection, like gunicorn workers: on PostgreSQL they
    really run at once, so only the key lock keeps them from all passing N-1."""
    limits, limit, threads = RateLimits(database), Limit(5, 60.0), 16
    start, taken, errors = threading.Barrier(threads), [], []

    def worker() -> None:
        try:
            start.wait()
            for _ in range(3):
                if limits.take("comment:user:7", limit) == 0.0:
                    taken.append(1)
        except Exception as exc:  # noqa: BLE001 - reported below, so the test fails
            errors.append(exc)
        finally:
            database.release()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    assert len(taken) == limit.count
    stored = database.connect().execute(select(func.count()).where(
        login_failures.c.key == "comment:user:7")).scalar_one()
    assert stored == limit.count


def test_a_busy_database_lets_the_action_through_uncounted(database: Database) -> None:
    """The action then meets the busy database itself and says so (503), rather than
    a limit that could not count."""
    impatient = Database(database.url, timeout=0.2)
    try:
        with database.transaction() as conn:
            lock_key(conn, "ratelimit:save:user:1")  # SQLite: the write lock is held anyway
            assert RateLimits(impatient).take("save:user:1", Limit(1, 60.0)) == 0.0
        assert RateLimits(database).wait("save:user:1", Limit(1, 60.0)) == 0.0
    finally:
        impatient.dispose()


def test_a_push_keeps_the_pusher_and_each_commit_its_first_push(database: Database,
                                                               anna: User) -> None:
    log = PushLog(database)
    assert log.last_id() == 0
    log.record(anna.id, "0" * 40, "1" * 40, ["a" * 40, "b" * 40])
    first = log.last_id()
    log.record(None, "1" * 40, "2" * 40, ["b" * 40, "c" * 40])
    [push] = log.since(0, anna.id)
    assert (push.id, push.pusher, push.email, push.commits) == (first, "Anna", anna.email, 2)
    [server] = log.since(first, None)
    assert (server.pusher, server.user_id, server.commits) == (SERVER_PUSHER, None, 1)
    assert log.pusher_names(["a" * 40, "b" * 40, "c" * 40, "d" * 40]) == {
        "a" * 40: "Anna", "b" * 40: "Anna", "c" * 40: SERVER_PUSHER}
    assert log.pushed_by_others([("a" * 40, "ANNA@example.org"), ("c" * 40, "x@y.z")]) == {
        "c" * 40: SERVER_PUSHER}


def test_pushers_of_a_long_history_are_found_in_chunks(database: Database,
                                                       anna: User) -> None:
    commits = [f"{n:040x}" for n in range(CHUNK * 2 + 7)]
    log = PushLog(database)
    log.record(anna.id, "0" * 40, commits[-1], commits)
    found = log.pushers(["f" * 40, *commits, commits[0]])
    assert len(found) == len(commits) and found[commits[-1]].name == "Anna"


def test_frozen_scopes_list_the_whole_wiki_first_and_match_any_case(database: Database,
                                                                    anna: User) -> None:
    boss = add_user(database, "Boss", role="facilitator")
    assert set_frozen(database, "Hoofdstuk 1/", True, boss.id) == "Hoofdstuk 1"
    set_frozen(database, "hoofdstuk 1", True, None)  # already frozen: nothing changes
    set_frozen(database, "Wiki", True, None)
    scopes = frozen_scopes(database)
    assert [(s.scope, s.by) for s in scopes] == [(WIKI, ""), ("Hoofdstuk 1", "Boss")]
    set_frozen(database, "WIKI", False, None)
    found = is_frozen(database, "HOOFDSTUK 1/markt.md")
    assert found is not None and found.scope == "Hoofdstuk 1"
    assert is_frozen(database, "Hoofdstuk 10") is None
    assert is_facilitator(database, Person("Boss", "BOSS@example.org"))
    assert not is_facilitator(database, anna.person)
