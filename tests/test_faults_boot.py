"""A worker that starts while the database is locked or away does not take the server down.

gunicorn stops the whole server when a worker fails to start. A worker is started
again after a crash, a kill or a restart; if that happens while another process
holds SQLite's write lock (a long write, a backup), the new worker must not fail:
the wiki would then stay down until a person started it again. Real `cowiki
serve` (gunicorn, two workers), a real SQLite lock held from outside.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from cowiki.server import when_the_database_answers
from tests.conftest import LiveServer, serve_fresh
from tests.ops_support import token_session
from tests.test_faults import worker_pids

LOCK_SECONDS = 4.0  # held longer than the database timeout below


def gunicorn_workers(server: LiveServer) -> list[int]:
    """The master's children that run what the master runs (not the live process)."""
    command = Path(f"/proc/{server.process.pid}/cmdline").read_bytes()
    found = []
    for pid in worker_pids(server):
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes() == command:
                found.append(pid)
        except OSError:
            continue  # ended meanwhile
    return found


def test_a_worker_started_while_the_database_is_locked_does_not_stop_the_server(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COWIKI_DATABASE_TIMEOUT", "1")
    serving = serve_fresh(tmp_path)
    server = next(serving)
    try:
        session = token_session(server, "participant")
        answer = session.put(f"{server.url}/api/v1/pages/Plan", json={"markdown": "# Plan\n"},
                             timeout=30)
        assert answer.status_code == 201, answer.text
        holder = sqlite3.connect(server.data_dir / "cowiki.db", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            victim = gunicorn_workers(server)[0]
            os.kill(victim, signal.SIGKILL)  # gunicorn starts another one at once
            deadline = time.monotonic() + LOCK_SECONDS
            while time.monotonic() < deadline:
                assert server.process.poll() is None, (server.data_dir / "server.log").read_text()
                time.sleep(0.2)
            workers = gunicorn_workers(server)
            assert len(workers) == 2 and victim not in workers
        finally:
            holder.rollback()
            holder.close()
        for _attempt in range(20):  # both workers answer, the new one too
            reading = session.get(f"{server.url}/api/v1/pages/Plan", timeout=30)
            assert reading.status_code == 200 and reading.json()["markdown"] == "# Plan\n"
        saved = session.put(f"{server.url}/api/v1/pages/Plan", timeout=30,
                            json={"markdown": "# Plan\n\nAfter the lock.\n",
                                  "base_revision": reading.json()["revision"]})
        assert saved.status_code == 200, saved.text
    finally:
        next(serving, None)  # stops the server
    assert "Worker failed to boot" not in (server.data_dir / "server.log").read_text()


def test_a_worker_waits_for_a_busy_database_and_fails_at_once_on_anything_else() -> None:
    calls: list[int] = []

    def busy_twice() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError(
                "database is locked"))
        return "app"

    assert when_the_database_answers(busy_twice) == "app" and len(calls) == 3

    def broken() -> str:
        raise OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: users"))

    def not_the_database() -> str:
        raise RuntimeError("connection to the mail server lost")

    with pytest.raises(OperationalError):
        when_the_database_answers(broken)
    with pytest.raises(RuntimeError):  # no waiting on what is not the database's
        when_the_database_answers(not_the_database)
