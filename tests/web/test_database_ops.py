"""Running on a database: /healthz and `cowiki check` name it, failures answer in plain
words, connections go back to the pool after each request, and an outage heals itself.

Real SQLite files and real PostgreSQL servers: the session's cluster, and for the
outage a cluster of the test's own that is stopped and started again.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import make_url

from app import create_app
from tests.conftest import PASSWORDS, cli, post_form, start_server
from tests.ops_support import Saver, assert_acknowledged_saves_in_git, token_session
from tests.pgcluster import Cluster
from wiki.config import Settings
from wiki.db import Database
from wiki.health import check_database, full_report


def token_auth(app: Flask, name: str = "reader") -> tuple[str, str]:
    """HTTP Basic credentials with a personal token (cheap to check, unlike a password)."""
    accounts = app.extensions["cowiki"].accounts
    user = accounts.by_name(name)
    assert user is not None
    return name, accounts.create_token(user, "test")


# -- which database: /healthz and cowiki check -------------------------------------


def test_healthz_names_the_database_it_reaches(app: Flask, client: FlaskClient) -> None:
    db = app.extensions["cowiki"].db
    body = client.get("/healthz").json
    assert body["status"] == "ok"
    assert body["database"]["name"] == db.describe()
    assert body["database"]["summary"].startswith(db.describe() + ": 3 user(s), schema ")
    assert body["database"]["users"] == 3


def test_check_reads_the_database_the_environment_names(app: Flask) -> None:
    services = app.extensions["cowiki"]
    data = services.settings.data_dir
    report = full_report(data)
    assert report.ok, report.lines()
    assert f"database    ok       {services.db.describe()}: 3 user(s)" in "\n".join(
        report.lines())
    # On PostgreSQL the data dir holds no database file, and the check makes none.
    assert (data / "cowiki.db").exists() == (services.db.dialect == "sqlite")


def test_check_reports_a_missing_sqlite_file_without_making_one(tmp_path: Path) -> None:
    data = tmp_path / "wiki"
    # Made by a process that has ended: an app's background threads in this one (the
    # search indexer waits for more saves before it reads the wiki's language) could
    # open the file again after it is removed.
    made = cli(data, "init", env={"COWIKI_DATABASE_URL": ""})
    assert made.returncode == 0, made.stderr
    for name in ("cowiki.db", "cowiki.db-wal", "cowiki.db-shm"):
        (data / name).unlink(missing_ok=True)
    report = full_report(data, Settings.load({"data_dir": str(data)}, environ={}))
    database = report.findings[1]
    assert not database.ok and database.summary == "SQLite cowiki.db is missing"
    assert not report.serving and not (data / "cowiki.db").exists()


def test_a_schema_newer_than_this_cowiki_says_upgrade(app: Flask) -> None:
    db = app.extensions["cowiki"].db
    db.connect().exec_driver_sql("UPDATE alembic_version SET version_num = '9999_future'")
    finding = check_database(db, full=False)
    assert not finding.ok
    assert "9999_future is newer than this cowiki" in finding.problems[0]
    assert finding.problems[0].endswith("upgrade cowiki")


def test_an_unreachable_server_is_named_without_its_password() -> None:
    db = Database("postgresql+psycopg://wiki:s3cret-pw@127.0.0.1:1/workshop", timeout=1)
    try:
        finding = check_database(db, full=True)
    finally:
        db.dispose()
    assert not finding.ok and finding.critical
    assert finding.summary == "PostgreSQL 127.0.0.1/workshop cannot be reached"
    assert "s3cret-pw" not in str(finding.to_json())


def test_cli_names_an_unreachable_database_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "wiki"
    create_app({"data_dir": str(data), "database_url": ""}).extensions["cowiki"].db.dispose()
    away = {"COWIKI_DATABASE_URL": "postgresql+psycopg://wiki:s3cret-pw@127.0.0.1:1/workshop",
            "COWIKI_DATABASE_TIMEOUT": "1"}
    done = cli(data, "adduser", "ann", "--email", "ann@example.org", "--role", "reader",
               "--password-stdin",
               stdin="a-long-password\n", env=away)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "PostgreSQL 127.0.0.1/workshop cannot be reached" in done.stderr
    checked = cli(data, "check", env=away)
    assert checked.returncode == 1, checked.stderr
    assert "database    PROBLEM  PostgreSQL 127.0.0.1/workshop cannot be reached" in checked.stdout
    assert "s3cret-pw" not in done.stderr + checked.stdout + checked.stderr


# -- the pool: one connection per request in flight ------------------------------------


@pytest.fixture
def small_pool(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    """A wiki whose database keeps 2 connections per process (and 2 more at a peak)."""
    if not database_url:
        pytest.skip("SQLite's file needs no pool of server connections")
    app = create_app({"data_dir": str(tmp_path / "pool"), "database_pool_size": "2",
                      "database_timeout": "3"})
    app.extensions["cowiki"].accounts.add_user("reader", "r@example.org", "reader",
                                               PASSWORDS["reader"])
    yield app
    app.extensions["cowiki"].db.dispose()


def test_each_request_gives_its_connection_back(small_pool: Flask) -> None:
    """Six threads (3x the pool) each make a request, one after another, and stay alive:
    only connections given back at the end of a request let the later ones in."""
    auth = token_auth(small_pool)
    pool = small_pool.extensions["cowiki"].db.engine.pool
    held = pool.checkedout()  # this test's thread and the background indexer's
    statuses: list[int] = []
    done = threading.Event()

    def request_and_linger(answered: threading.Event) -> None:
        statuses.append(small_pool.test_client().get("/api/v1/pages", auth=auth).status_code)
        answered.set()
        done.wait(30)

    threads = []
    for _ in range(6):
        answered = threading.Event()
        thread = threading.Thread(target=request_and_linger, args=(answered,))
        thread.start()
        threads.append(thread)
        assert answered.wait(30)
        assert pool.checkedout() == held
    done.set()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 6


def test_concurrent_requests_share_a_small_pool(small_pool: Flask) -> None:
    auth = token_auth(small_pool)
    client = small_pool.test_client()
    assert [client.get("/api/v1/pages", auth=auth).status_code for _ in range(6)] == [200] * 6
    held = small_pool.extensions["cowiki"].db.engine.pool.checkedout()  # the indexer's
    statuses: list[int] = []
    start = threading.Barrier(10)

    def one_request() -> None:
        start.wait()
        statuses.append(small_pool.test_client().get("/api/v1/pages", auth=auth).status_code)

    threads = [threading.Thread(target=one_request) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 10
    assert small_pool.extensions["cowiki"].db.engine.pool.checkedout() == held


# -- failures answer in plain words ------------------------------------------------


def test_a_read_only_database_refuses_changes_honestly(app: Flask, client: FlaskClient) -> None:
    db = app.extensions["cowiki"].db
    if db.dialect == "sqlite":
        pytest.skip("a read-only SQLite file is refused at start, not per request")
    db.connect().exec_driver_sql("SET default_transaction_read_only = on")
    response = client.get("/api/v1/pages", auth=("reader", "wrong-password"))
    assert response.status_code == 507
    assert response.json["error"] == "read_only"
    assert "accepts no changes" in response.json["message"]


# -- an outage of the database server, healed without a restart ------------------------


def test_database_outage_answers_503_and_heals_by_itself(
        tmp_path: Path, own_cluster: Cluster) -> None:
    url = own_cluster.fresh_database()
    app = create_app({"data_dir": str(tmp_path / "outage"), "database_url": url,
                      "public_read": "true", "database_timeout": "2"})
    app.config["TESTING"] = True
    app.extensions["cowiki"].accounts.add_user("reader", "r@example.org", "reader",
                                               PASSWORDS["reader"])
    name = app.extensions["cowiki"].db.describe()
    reader, anonymous = app.test_client(), app.test_client()
    post_form(reader, "/login", name="reader", password=PASSWORDS["reader"])
    assert reader.get("/p/Home").status_code == 200

    own_cluster.pause()
    try:
        health = anonymous.get("/healthz")
        assert health.status_code == 503 and health.json["status"] == "degraded"
        assert health.json["database"]["summary"] == f"{name} cannot be reached"
        # Pages come from git: a public-read wiki still shows them.
        page = anonymous.get("/api/v1/pages/Home")
        assert page.status_code == 200 and "cowiki" in page.json["markdown"]
        # What needs the database answers 503 in plain words, never a traceback.
        api = anonymous.get("/api/v1/pages", auth=("reader", PASSWORDS["reader"]))
        assert api.status_code == 503 and api.json["error"] == "database_unreachable"
        assert api.json["message"].startswith("The database cannot be reached right now")
        assert api.headers["Retry-After"] == "5"
        # The page view reads on without its discussion, for the reader as a visitor
        # (tests/web/test_read_on_without_database.py).
        for browser in (reader, anonymous):
            shown = browser.get("/p/Home")
            assert shown.status_code == 200, shown.text
            assert "comments can't be shown" in shown.text and "Traceback" not in shown.text
    finally:
        own_cluster.resume()

    assert anonymous.get("/healthz").status_code == 200
    assert reader.get("/p/Home").status_code == 200
    api = anonymous.get("/api/v1/pages", auth=("reader", PASSWORDS["reader"]))
    assert api.status_code == 200
    app.extensions["cowiki"].db.dispose()


# -- stopping the server: requests in flight finish, connections close ------------------


@dataclass(eq=False)
class TimedSaver(Saver):
    """A Saver that notes when each answer came, and stops once the server is gone."""

    answered_at: list[float] = field(default_factory=list)

    def run(self) -> None:
        base, number = self.current_revision(), 0
        while not self.stop.is_set():
            number += 1
            marker = f"{self.page} edit {number}"
            body = {"markdown": f"# Saver\n\n{marker}\n", "base_revision": base}
            try:
                response = self.session.put(self.url, json=body, timeout=60)
            except requests.RequestException:
                self.unanswered += 1
                return
            self.answered_at.append(time.monotonic())
            if response.status_code not in (200, 201):
                self.failures.append(f"PUT {response.status_code}: {response.text[:200]}")
                return
            base = str(response.json()["revision"])
            self.acknowledged.append((base, marker))


def test_sigterm_finishes_saves_in_flight_and_closes_its_connections(
        tmp_path: Path, own_cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    url = own_cluster.fresh_database()
    monkeypatch.setenv("COWIKI_DATABASE_URL", url)
    data = tmp_path / "served"
    data.mkdir()
    server = start_server(data, workers=2)
    sessions = [token_session(server, name) for name in ("participant", "facilitator")]
    stop = threading.Event()
    savers = [TimedSaver(server, sessions[i % 2], f"Stop/saver-{i}", stop) for i in range(6)]
    for saver in savers:
        saver.start()
    time.sleep(2.0)
    server.process.send_signal(signal.SIGTERM)
    stopped_at = time.monotonic()
    stop.set()
    assert server.process.wait(timeout=30) == 0
    for saver in savers:
        saver.join()
    assert all(not s.failures for s in savers), [s.failures for s in savers]
    assert sum(len(s.acknowledged) for s in savers) > 10
    answered_after = [at for s in savers for at in s.answered_at if at > stopped_at]
    assert answered_after, "no save was in flight at SIGTERM"
    assert_acknowledged_saves_in_git(data, savers)
    with own_cluster.admin() as admin:
        left = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                             (make_url(url).database,)).fetchone()
    assert left == (0,), "connections of the stopped server are still open"
    # Each worker closed its pool itself on the way out (gunicorn's worker_exit).
    log = (data / "server.log").read_text()
    assert log.count(" closed its connections to PostgreSQL ") == 2, log[-3000:]
