"""Fixtures: a data dir on a temp path, the app, a client, users per role, a live server.

Everything is real: a bare git repository, SQLite and (for live servers) gunicorn.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from tests import pgcluster
from tests.pgcluster import Cluster
from wiki.db import Database

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("sqlite", "postgresql")
PASSWORDS = {"reader": "reader-pass-1", "participant": "participant-pass-1",
             "facilitator": "facilitator-pass-1"}


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster | None]:
    """The throwaway PostgreSQL cluster of this test run (None: not on this machine,
    which fails every PostgreSQL test under CI=true)."""
    if pgcluster.binaries() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs PostgreSQL's server binaries (Debian: postgresql)")
        yield None
        return
    cluster = pgcluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def own_cluster(postgres: Cluster | None) -> Iterator[Cluster]:
    """A PostgreSQL cluster of this test alone, which it may stop and start."""
    if postgres is None:
        pytest.skip("PostgreSQL is not installed here")
    cluster = pgcluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test that touches the database runs on SQLite ("": the data dir's file) and on
    a fresh PostgreSQL database; COWIKI_DATABASE_URL reaches servers, hooks and the CLI."""
    if request.param == "sqlite":
        monkeypatch.delenv("COWIKI_DATABASE_URL", raising=False)
        return ""
    cluster = request.getfixturevalue("postgres")
    if cluster is None:
        pytest.skip("PostgreSQL is not installed here")
    url: str = cluster.fresh_database()
    monkeypatch.setenv("COWIKI_DATABASE_URL", url)
    return url


@pytest.fixture
def database(tmp_path: Path, database_url: str) -> Iterator[Database]:
    """A migrated database on each backend, for the stores' own tests."""
    db = Database(database_url or tmp_path / "cowiki.db")
    db.migrate()
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def data_dir(tmp_path: Path, database_url: str) -> Path:
    return tmp_path / "wiki-data"


@pytest.fixture
def app(data_dir: Path) -> Flask:
    app = create_app({"data_dir": str(data_dir)})
    app.config["TESTING"] = True
    accounts = app.extensions["cowiki"].accounts
    for role, password in PASSWORDS.items():
        accounts.add_user(role, f"{role}@example.org", role, password)
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf(client: FlaskClient) -> str:
    """The client session's CSRF token (created if missing)."""
    with client.session_transaction() as session:
        token = session.setdefault("csrf", "test-csrf-token")
    return str(token)


@pytest.fixture
def login_as(client: FlaskClient) -> Callable[[str], FlaskClient]:
    """Log the client in as the user of a role: reader, participant or facilitator."""

    def login(role: str) -> FlaskClient:
        token = csrf(client)
        response = client.post("/login", data={"name": role, "password": PASSWORDS[role],
                                               "csrf_token": token})
        assert response.status_code == 302, response.text
        return client

    return login


def post_form(client: FlaskClient, url: str, **fields: str):  # type: ignore[no-untyped-def]
    """POST a browser form with the session's CSRF token."""
    return client.post(url, data={"csrf_token": csrf(client), **fields})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """`cowiki serve` (gunicorn) running on a free loopback port."""

    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]

    def session(self, role: str) -> requests.Session:
        """A requests session with HTTP Basic auth as the user of `role`."""
        s = requests.Session()
        s.auth = (role, PASSWORDS[role])
        return s


def cli(data_dir: Path, *args: str, stdin: str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `cowiki` command (with `env` added to the environment)."""
    return subprocess.run([sys.executable, "-m", "cowiki", "--data", str(data_dir), *args],
                          input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, **(env or {})})


def start_server(data_dir: Path, workers: int = 2) -> LiveServer:
    for role, password in PASSWORDS.items():
        done = cli(data_dir, "adduser", role, "--email", f"{role}@example.org", "--role", role,
                   "--password-stdin", stdin=password + "\n")
        assert done.returncode == 0 or "already in use" in done.stderr, done.stderr
    port = free_port()
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        [sys.executable, "-m", "cowiki", "--data", str(data_dir), "serve", "--port", str(port),
         "--workers", str(workers)],
        # Load tests save as one person far faster than anyone types: no per-person limit.
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ,
                                                             "COWIKI_RATE_SAVES": "0"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/healthz", timeout=5).status_code == 200:
                return LiveServer(url, data_dir, process)
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError((data_dir / "server.log").read_text())


def module_pids(module: str, data_dir: Path) -> list[int]:
    """Live (not zombie) processes running `python -m <module>` for this data dir."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if (module.encode() in argv and os.fsencode(data_dir) in argv
                    and "State:\tZ" not in (entry / "status").read_text()):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def stop_server(server: LiveServer) -> None:
    """Stop `cowiki serve` as an operator would (SIGTERM), killing it if it hangs."""
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()


def serve_fresh(folder: Path) -> Iterator[LiveServer]:
    """A real gunicorn server with two workers on a new data dir in `folder`, for a fixture."""
    data = folder / "data"
    data.mkdir(parents=True)
    server = start_server(data, workers=2)
    yield server
    stop_server(server)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A real gunicorn server with two worker processes on a fresh data dir."""
    yield from serve_fresh(tmp_path / "live")
