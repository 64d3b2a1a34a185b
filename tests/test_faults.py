"""Faults: killed workers, a full disk, a lost index, a locked database, damaged data.

Everything is real: gunicorn workers die by SIGKILL, the disk fills through a
file-size limit (RLIMIT_FSIZE) in a child process, the index directory is
deleted or overwritten, and a second database connection holds the lock.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Protocol

import psycopg
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from tests.conftest import ROOT, LiveServer, cli, post_form
from tests.ops_support import (
    Saver,
    assert_acknowledged_saves_in_git,
    assert_fsck_clean,
    git,
    serve,
    token_session,
)
from wiki.health import full_report

# -- a worker killed in the middle of saves ---------------------------------------


def worker_pids(server: LiveServer) -> list[int]:
    """The gunicorn workers: children of the master (the `cowiki serve` process)."""
    pid = server.process.pid
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text()
        children.extend(int(child) for child in text.split())
    return children


def wait_for_workers(server: LiveServer, count: int, timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = worker_pids(server)
        if len(pids) >= count:
            return pids
        time.sleep(0.1)
    raise AssertionError(f"gunicorn has {worker_pids(server)} workers, wanted {count}")


def test_killed_worker_leaves_complete_commits_and_every_acknowledged_save(
        live_server: LiveServer) -> None:
    sessions = [token_session(live_server, name) for name in ("participant", "facilitator")]
    stop = threading.Event()
    savers = [Saver(live_server, sessions[i % 2], f"Kill/saver-{i}", stop) for i in range(8)]
    for saver in savers:
        saver.start()
    killed = []
    for _round in range(2):
        time.sleep(1.2)
        victim = wait_for_workers(live_server, 2)[0]
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)
    time.sleep(1.5)
    stop.set()
    for saver in savers:
        saver.join()
    assert all(not s.failures for s in savers), [s.failures for s in savers]
    print(f"saves acknowledged: {sum(len(s.acknowledged) for s in savers)}, "
          f"unanswered (cut off by a kill): {sum(s.unanswered for s in savers)}")
    assert sum(len(s.acknowledged) for s in savers) > 20
    assert_fsck_clean(live_server.data_dir)
    assert_acknowledged_saves_in_git(live_server.data_dir, savers)
    assert not set(killed) & set(worker_pids(live_server)), "killed workers still listed"
    assert_next_start_is_clean(live_server)


def assert_next_start_is_clean(server: LiveServer) -> None:
    """Stop the server; `cowiki check` passes; a new server is healthy and saves."""
    server.process.terminate()
    server.process.wait(timeout=30)
    report = full_report(server.data_dir)
    assert report.ok, report.lines()
    again = serve(server.data_dir)
    try:
        health = requests.get(again.url + "/healthz", timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ok", health.text
        session = again.session("participant")
        base = session.get(again.url + "/api/v1/pages/Home", timeout=30).json()["revision"]
        saved = session.put(again.url + "/api/v1/pages/Home", timeout=30,
                            json={"markdown": "# Home\n\nAfter the crash.\n",
                                  "base_revision": base})
        assert saved.status_code == 200, saved.text
    finally:
        again.process.terminate()
        again.process.wait(timeout=30)


# -- a full disk ---------------------------------------------------------------------

FULL_DISK_SCRIPT = """
import json, os, resource, signal, sys
from app import create_app

app = create_app({"data_dir": sys.argv[1]})
app.extensions["cowiki"].accounts.add_user("anna", "anna@example.org", "participant",
                                           "anna-pass-123")
client = app.test_client()
auth = ("anna", "anna-pass-123")
home = client.get("/api/v1/pages/Home", auth=auth).json
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
big = "# Big\\n\\n" + os.urandom(200_000).hex() + "\\n"
answer = client.put("/api/v1/pages/Big", auth=auth, json={"markdown": big})
edit = client.put("/api/v1/pages/Home", auth=auth,
                  json={"markdown": "# Home\\n\\n" + os.urandom(100_000).hex(),
                        "base_revision": home["revision"]})
print(json.dumps({"head": home["revision"], "status": answer.status_code,
                  "body": answer.json, "edit_status": edit.status_code}))
"""


def test_full_disk_refuses_the_save_clearly_and_corrupts_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = subprocess.run([sys.executable, "-c", FULL_DISK_SCRIPT, str(data)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 507 and result["edit_status"] == 507
    assert result["body"]["error"] == "storage_full"
    assert "disk may be full" in result["body"]["message"]
    assert "Traceback" not in done.stdout
    assert git(data, "rev-parse", "refs/heads/main").strip() == result["head"]
    assert_fsck_clean(data)
    assert full_report(data).serving
    with_space = open_client(data)
    saved = with_space.put("/api/v1/pages/Big", json={"markdown": "# Big\n\nfits now\n"},
                           auth=("anna", "anna-pass-123"))
    assert saved.status_code == 201, saved.text


def open_client(data: Path) -> FlaskClient:
    """A test client of a fresh app on `data` (no file-size limit in this process)."""
    return create_app({"data_dir": str(data)}).test_client()


# -- a deleted or damaged search index -------------------------------------------


def search_until_found(client: FlaskClient, word: str, path: str, timeout: float = 20) -> int:
    """Search until `path` is a hit; every answer on the way must be a 200. Number of tries."""
    deadline = time.monotonic() + timeout
    tries = 0
    while time.monotonic() < deadline:
        tries += 1
        response = client.get(f"/api/v1/search?q={word}", auth=("reader", "reader-pass-1"))
        assert response.status_code == 200, response.text
        if any(hit["path"] == path for hit in response.json["results"]):
            return tries
        time.sleep(0.1)
    raise AssertionError(f"{path} never found for {word!r}")


def save_page(client: FlaskClient, name: str, text: str) -> None:
    response = client.put(f"/api/v1/pages/{name}", json={"markdown": text},
                          auth=("participant", "participant-pass-1"))
    assert response.status_code in (200, 201), response.text


def test_deleted_index_is_rebuilt_and_searches_keep_answering(app: Flask,
                                                              client: FlaskClient) -> None:
    save_page(client, "Moerasvogels", "# Moerasvogels\n\nDe roerdomp broedt in het riet.\n")
    search_until_found(client, "roerdomp", "Moerasvogels")
    shutil.rmtree(app.extensions["cowiki"].settings.data_dir / "index")
    search_until_found(client, "roerdomp", "Moerasvogels")
    save_page(client, "Weidevogels", "# Weidevogels\n\nDe grutto is terug.\n")
    search_until_found(client, "grutto", "Weidevogels")


def test_damaged_index_files_are_rebuilt_and_searches_keep_answering(
        app: Flask, client: FlaskClient) -> None:
    save_page(client, "Moerasvogels", "# Moerasvogels\n\nDe roerdomp broedt in het riet.\n")
    search_until_found(client, "roerdomp", "Moerasvogels")
    data = app.extensions["cowiki"].settings.data_dir
    damaged = 0
    for file in (data / "index").rglob("*"):
        if file.is_file() and file.name != "indexed_commit":
            # Replaced, not rewritten in place: Whoosh maps segment files into
            # memory, and truncating a mapped file kills its reader with SIGBUS.
            spare = file.with_name(file.name + ".damaged")
            spare.write_bytes(b"\x00garbage\xff" * 64)
            os.replace(spare, file)
            damaged += 1
    assert damaged >= 2  # the table of contents and a segment, wherever the index keeps them
    restarted = open_client(data)  # a new process's view: nothing cached from before
    search_until_found(restarted, "roerdomp", "Moerasvogels")


def test_check_and_healthz_report_a_missing_index_without_taking_the_wiki_down(
        app: Flask, client: FlaskClient) -> None:
    data = app.extensions["cowiki"].settings.data_dir
    app.extensions["cowiki"].indexer.rebuild()
    shutil.rmtree(data / "index")
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json["status"] == "ok" and health.json["index"]["state"] == "missing"
    report = full_report(data)
    assert not report.ok and report.serving
    assert "cowiki reindex" in "\n".join(report.lines())


# -- a locked database ---------------------------------------------------------------


class Holder(Protocol):
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


def lock_database(app: Flask) -> Holder:
    """Another connection holding the database's lock: SQLite's write lock (BEGIN
    EXCLUSIVE), or PostgreSQL's table locks on the accounts a login reads and writes."""
    db = app.extensions["cowiki"].db
    if db.dialect == "sqlite":
        holder = sqlite3.connect(db.path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN EXCLUSIVE")
        return holder
    locker = psycopg.connect(db.url.replace("+psycopg", ""))
    locker.execute("LOCK TABLE users, tokens, login_failures IN ACCESS EXCLUSIVE MODE")
    return locker


def set_busy_timeout(app: Flask, milliseconds: int) -> None:
    """Shorten how long this thread's wiki connection waits for a lock (10 s in production)."""
    db = app.extensions["cowiki"].db
    setting = "PRAGMA busy_timeout" if db.dialect == "sqlite" else "SET lock_timeout"
    db.connect().exec_driver_sql(f"{setting} = {milliseconds:d}")


def test_briefly_locked_database_is_waited_for(app: Flask, client: FlaskClient) -> None:
    set_busy_timeout(app, 5000)
    holder = lock_database(app)
    threading.Timer(0.3, holder.commit).start()
    started = time.monotonic()
    response = client.get("/api/v1/pages", auth=("reader", "wrong-password"))
    assert response.status_code == 401  # the failure was recorded once the lock was free
    assert time.monotonic() - started >= 0.25


def test_locked_database_answers_503_json_for_the_api(app: Flask, client: FlaskClient) -> None:
    set_busy_timeout(app, 300)
    holder = lock_database(app)
    try:
        response = client.get("/api/v1/pages", auth=("reader", "wrong-password"))
    finally:
        holder.rollback()
    assert response.status_code == 503
    assert response.json["error"] == "busy" and "try again" in response.json["message"]
    assert response.headers["Retry-After"] == "5"


def test_locked_database_shows_a_friendly_page_in_the_browser(
        app: Flask, client: FlaskClient) -> None:
    set_busy_timeout(app, 300)
    holder = lock_database(app)
    try:
        response = post_form(client, "/login", name="reader", password="wrong-password")
    finally:
        holder.rollback()
    assert response.status_code == 503
    assert "text/html" in response.content_type
    assert "try again" in response.text and "Traceback" not in response.text


# -- damaged data: check and healthz ----------------------------------------------


def test_check_passes_on_a_sound_wiki(app: Flask) -> None:
    done = cli(app.extensions["cowiki"].settings.data_dir, "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "git fsck --strict clean" in done.stdout and "All checks passed." in done.stdout


def test_check_finds_a_damaged_object(app: Flask, client: FlaskClient) -> None:
    save_page(client, "Fragile", "# Fragile\n\nThis blob will be damaged.\n")
    data = app.extensions["cowiki"].settings.data_dir
    blob = git(data, "rev-parse", "refs/heads/main:Fragile.md").strip()
    loose = data / "repo.git" / "objects" / blob[:2] / blob[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"not a zlib stream")
    done = cli(data, "check")
    assert done.returncode == 1
    assert "repository  PROBLEM" in done.stdout and blob[:10] in done.stdout


def test_check_finds_rows_pointing_to_missing_users(app: Flask) -> None:
    if app.extensions["cowiki"].db.dialect != "sqlite":
        pytest.skip("PostgreSQL enforces foreign keys on every write: no orphan to find")
    data = app.extensions["cowiki"].settings.data_dir
    conn = sqlite3.connect(data / "cowiki.db", isolation_level=None)
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("INSERT INTO tokens (user_id, token_hash, label, created)"
                 " VALUES (999, 'x', 'orphan', 0)")
    conn.close()
    report = full_report(data)
    assert not report.ok and not report.serving
    assert "database    PROBLEM" in "\n".join(report.lines())
    assert "row 1 of tokens points to a missing users" in "\n".join(report.lines())


def test_check_refuses_a_folder_without_a_wiki(tmp_path: Path) -> None:
    done = cli(tmp_path / "nothing", "check")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "nothing").exists()


def test_healthz_is_ok_and_reports_each_part(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "ok" and len(body["head"]) == 40
    assert body["repository"]["ok"] and body["database"]["ok"] and "index" in body


def test_healthz_is_503_degraded_when_a_stale_ref_lock_blocks_saves(
        app: Flask, client: FlaskClient) -> None:
    lock = app.extensions["cowiki"].repo.path / "refs" / "heads" / "main.lock"
    lock.write_text("0" * 40 + "\n")
    old = time.time() - 600
    os.utime(lock, (old, old))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "degraded"
    assert "main.lock" in " ".join(response.json["repository"]["problems"])


def test_healthz_is_503_degraded_when_the_head_commit_is_missing(
        app: Flask, client: FlaskClient) -> None:
    ref = app.extensions["cowiki"].repo.path / "refs" / "heads" / "main"
    ref.write_text("1" * 40 + "\n")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "degraded" and not response.json["repository"]["ok"]
