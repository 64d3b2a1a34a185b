"""While the database cannot answer, a logged-in person reads on (as a visitor of a
public-read wiki would), cannot change anything, and is themselves again afterwards.

Real PostgreSQL servers stopped and started again, and real locks on both engines.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Protocol

import psycopg
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from tests.conftest import PASSWORDS, csrf, post_form
from tests.pgcluster import Cluster

UNCHECKED = "can't check who you are right now"
NO_COMMENTS = "The comments can't be shown right now"


def wiki_on(data: Path, url: str, public_read: bool) -> Flask:
    """A wiki with a participant, whose database waits at most a second."""
    app = create_app({"data_dir": str(data), "database_url": url, "database_timeout": "1",
                      "public_read": "true" if public_read else "false"})
    app.config["TESTING"] = True
    app.extensions["cowiki"].accounts.add_user("participant", "p@example.org", "participant",
                                               PASSWORDS["participant"])
    return app


def logged_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    done = post_form(client, "/login", name="participant", password=PASSWORDS["participant"])
    assert done.status_code == 302, done.text
    return client


def revision(client: FlaskClient, page: str = "Home") -> str:
    return str(client.get(f"/api/v1/pages/{page}").json["revision"])


def save(client: FlaskClient, base: str, text: str):  # type: ignore[no-untyped-def]
    return post_form(client, "/p/Home/edit", markdown=f"# Home\n\n{text}\n",
                     base_revision=base)


def assert_reads_as_visitor(client: FlaskClient, base: str) -> None:
    page = client.get("/p/Home")
    assert page.status_code == 200, page.text
    assert UNCHECKED in page.text and "Log out" not in page.text
    assert "/p/Home/edit" not in page.text  # no Edit tab for someone the wiki cannot check
    for path in ("/p/Home/history", f"/p/Home/diff?to={base}", "/search?q=cowiki",
                 "/changes", "/pages"):
        shown = client.get(path)
        assert shown.status_code == 200, (path, shown.text[:500])
        assert UNCHECKED in shown.text, path


def test_outage_lets_a_logged_in_person_read_and_refuses_their_save(
        tmp_path: Path, own_cluster: Cluster) -> None:
    app = wiki_on(tmp_path / "outage", own_cluster.fresh_database(), public_read=True)
    person = logged_in(app)
    base = revision(person)
    assert save(person, base, "Before the outage.").status_code == 302
    base = revision(person)

    own_cluster.pause()
    try:
        assert_reads_as_visitor(person, base)
        assert NO_COMMENTS in person.get("/p/Home").text  # the discussion is in the database
        refused = save(person, base, "During the outage.")
        assert refused.status_code == 503, refused.text
        assert "cannot be reached" in refused.text and "Traceback" not in refused.text
        api = person.put("/api/v1/pages/Home", headers={"X-CSRF-Token": csrf(person)},
                         json={"markdown": "# Home\n\nVia the API.\n", "base_revision": base})
        assert api.status_code == 503 and api.json["error"] == "database_unreachable"
        assert api.headers["Retry-After"] == "5"
        # Logging out must end the session in the database too (every copy of the
        # cookie): not possible now, so it answers 503 and the cookie stays.
        out = post_form(person, "/logout")
        assert out.status_code == 503 and "cannot be reached" in out.text
    finally:
        own_cluster.resume()

    # The same cookie: logged in again, nothing of the refused saves in git.
    page = person.get("/p/Home")
    assert page.status_code == 200 and "Log out" in page.text and UNCHECKED not in page.text
    assert "Before the outage." in page.text and "During the outage." not in page.text
    assert revision(person) == base
    assert save(person, base, "After the outage.").status_code == 302
    assert "After the outage." in person.get("/p/Home").text
    app.extensions["cowiki"].db.dispose()


def test_outage_keeps_a_members_only_wiki_closed(tmp_path: Path, own_cluster: Cluster) -> None:
    """Without the database the wiki cannot tell a live session from one that was logged
    out or cut off, so a wiki that is not public-read shows nothing: 503, not a login."""
    app = wiki_on(tmp_path / "members", own_cluster.fresh_database(), public_read=False)
    person, stranger = logged_in(app), app.test_client()
    assert person.get("/p/Home").status_code == 200

    text = person.get("/api/v1/pages/Home").json["markdown"]
    line = next(li for li in text.splitlines() if len(li) > 20 and not li.startswith("#"))

    own_cluster.pause()
    try:
        refused = person.get("/p/Home")
        assert refused.status_code == 503 and "cannot be reached" in refused.text
        assert line not in refused.text and UNCHECKED in refused.text
        # A visitor without a session is sent to log in, as always.
        assert stranger.get("/p/Home").status_code == 302
    finally:
        own_cluster.resume()

    assert person.get("/p/Home").status_code == 200
    app.extensions["cowiki"].db.dispose()


class Holder(Protocol):
    def rollback(self) -> None: ...


def hold_write_lock(app: Flask) -> Holder:
    """Another connection that lets readers in but no writer: SQLite's write lock, or
    PostgreSQL's EXCLUSIVE lock on the sessions table."""
    db = app.extensions["cowiki"].db
    if db.dialect == "sqlite":
        holder = sqlite3.connect(db.path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN EXCLUSIVE")
        return holder
    locker = psycopg.connect(db.url.replace("+psycopg", ""))
    locker.execute("LOCK TABLE sessions IN EXCLUSIVE MODE")
    return locker


def test_locked_database_lets_a_person_read_when_their_session_cannot_be_renewed(
        tmp_path: Path, database_url: str) -> None:
    app = wiki_on(tmp_path / "locked", database_url, public_read=True)
    person = logged_in(app)
    base = revision(person)
    db = app.extensions["cowiki"].db
    # Last used two days ago: this request renews the session, which needs a write.
    db.connect().exec_driver_sql("UPDATE sessions SET expires = expires - 172800")
    db.release()

    holder = hold_write_lock(app)
    try:
        started = time.monotonic()
        assert_reads_as_visitor(person, base)
        refused = save(person, base, "While locked.")
        assert refused.status_code == 503 and "try again" in refused.text
        assert time.monotonic() - started < 30
    finally:
        holder.rollback()

    page = person.get("/p/Home")
    assert page.status_code == 200 and "Log out" in page.text and UNCHECKED not in page.text
    assert save(person, base, "Unlocked.").status_code == 302
    db.dispose()


def test_other_database_errors_are_not_read_past(app: Flask, login_as) -> None:  # type: ignore[no-untyped-def]
    """Only a database that cannot answer lets a session go unchecked: a session table
    that is gone is a bug, answered 500, never a quiet visitor."""
    client = login_as("participant")
    db = app.extensions["cowiki"].db
    db.connect().exec_driver_sql("ALTER TABLE sessions RENAME TO sessions_gone")
    db.release()
    try:
        answer = client.get("/p/Home")
    finally:
        db.connect().exec_driver_sql("ALTER TABLE sessions_gone RENAME TO sessions")
        db.release()
    assert answer.status_code == 500 and UNCHECKED not in answer.text
    assert client.get("/p/Home").status_code == 200
