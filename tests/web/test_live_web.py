"""Live co-editing, the web side: tickets, "Save version", the listener and the socket relay.

The relay tests run a real `cowiki serve` (gunicorn, two workers, the live process
it starts) and a real WebSocket client speaking the y-websocket protocol.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import signal
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pycrdt
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from storage.repository import Person
from tests.conftest import PASSWORDS, LiveServer, csrf, module_pids, start_server, stop_server
from wiki.changes import Change, Kind
from wiki.live.colours import contrast_with_white, cursor_colour
from wiki.live.journal import journal_path
from wiki.live.livesock import socket_path
from wiki.live.notify import live_rooms
from wiki.live.tickets import read_ticket, ticket_key

Login = Callable[[str], FlaskClient]
UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


def api(client: FlaskClient) -> FlaskClient:
    client.environ_base["HTTP_X_CSRF_TOKEN"] = csrf(client)
    return client


# -- tickets --------------------------------------------------------------------


def test_a_participant_gets_a_write_ticket_for_that_page_only(app: Flask, login_as: Login
                                                              ) -> None:
    client = login_as("participant")
    answer = client.get("/api/v1/pages/Home/live")
    assert answer.status_code == 200
    body = answer.json
    assert body["mode"] == "write" and body["frozen"] is False
    assert body["socket"] == "/live/socket/Home"
    assert body["user"]["name"] == "participant"
    assert re.fullmatch(r"#[0-9a-f]{6}", body["user"]["colour"])
    assert body["revision"] == app.extensions["cowiki"].pages.head()
    key = ticket_key(app.extensions["cowiki"].settings)
    ticket = read_ticket(key, body["ticket"], "Home")
    assert ticket.mode == "write"
    assert ticket.account == app.extensions["cowiki"].accounts.by_name("participant").id
    assert time.time() + 50 < ticket.expires < time.time() + 61


def test_a_reader_gets_a_read_ticket(app: Flask, login_as: Login) -> None:
    body = login_as("reader").get("/api/v1/pages/Home/live").json
    assert body["mode"] == "read"
    assert read_ticket(ticket_key(app.extensions["cowiki"].settings), body["ticket"],
                       "Home").mode == "read"


def test_a_frozen_page_is_read_only_for_everybody(login_as: Login) -> None:
    client = api(login_as("facilitator"))
    assert client.put("/api/v1/freeze", json={"scope": "Home", "frozen": True}).status_code == 200
    body = client.get("/api/v1/pages/Home/live").json
    assert body["frozen"] is True and body["mode"] == "read"


def test_names_with_spaces_and_accents_keep_their_one_spelling(login_as: Login) -> None:
    client = api(login_as("participant"))
    assert client.put("/api/v1/pages/Dag één/Notities",
                      json={"markdown": "# Notities\n"}).status_code == 201
    body = client.get("/api/v1/pages/Dag%20%C3%A9%C3%A9n/Notities/live").json
    assert body["socket"] == "/live/socket/Dag%20%C3%A9%C3%A9n/Notities"


def test_anonymous_visitors_get_no_ticket_even_on_a_public_wiki(client: FlaskClient,
                                                                app: Flask) -> None:
    assert client.get("/api/v1/pages/Home/live").status_code == 401
    public = create_public_app(app)
    assert public.test_client().get("/api/v1/pages/Home/live").status_code == 401


def create_public_app(app: Flask) -> Flask:
    from app import create_app
    return create_app({"data_dir": str(app.extensions["cowiki"].settings.data_dir),
                       "public_read": True})


def test_a_deactivated_account_gets_no_ticket(app: Flask, login_as: Login) -> None:
    client = login_as("participant")
    accounts = app.extensions["cowiki"].accounts
    accounts.set_active(accounts.by_name("participant"), False)
    assert client.get("/api/v1/pages/Home/live").status_code == 401


def test_missing_and_invalid_pages_are_refused_plainly(login_as: Login) -> None:
    client = login_as("participant")
    assert client.get("/api/v1/pages/Nergens/live").status_code == 404
    assert client.get("/api/v1/pages/..%2Fetc/live").status_code in (400, 404)
    assert client.get("/api/v1/pages/api/live").status_code == 400


def test_switched_off_live_editing_answers_404_with_a_reason(app: Flask) -> None:
    from app import create_app
    off = create_app({"data_dir": str(app.extensions["cowiki"].settings.data_dir),
                      "live": False})
    client = off.test_client()
    token = csrf(client)
    client.post("/login", data={"name": "participant", "password": PASSWORDS["participant"],
                                "csrf_token": token})
    answer = client.get("/api/v1/pages/Home/live")
    assert answer.status_code == 404 and answer.json["error"] == "live_off"


def test_cursor_colours_are_stable_distinct_and_readable_under_white_text() -> None:
    colours = [cursor_colour(account) for account in range(1, 301)]
    assert colours == [cursor_colour(account) for account in range(1, 301)]
    assert all(colours[i] != colours[i + 1] for i in range(len(colours) - 1))
    for colour in colours:
        rgb = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
        assert contrast_with_white(rgb) >= 4.5, colour


# -- save version and the socket route without the live process -------------------


def test_save_version_when_the_live_process_is_down_is_503(login_as: Login) -> None:
    answer = api(login_as("participant")).post("/api/v1/pages/Home/live/save")
    assert answer.status_code == 503 and answer.json["error"] == "live_unavailable"


def test_readers_cannot_save_a_version(login_as: Login) -> None:
    assert api(login_as("reader")).post("/api/v1/pages/Home/live/save").status_code == 403


def test_the_socket_needs_a_session(client: FlaskClient) -> None:
    answer = client.get("/live/socket/Home?ticket=x", headers={**UPGRADE,
                                                               "Origin": "http://localhost"})
    assert answer.status_code == 401


def test_the_socket_refuses_other_origins(login_as: Login) -> None:
    client = login_as("participant")
    for origin in ("http://evil.example", "null", "", "http://localhost.evil.example"):
        answer = client.get("/live/socket/Home?ticket=x", headers={**UPGRADE, "Origin": origin})
        assert answer.status_code == 403, origin


def test_without_gunicorn_the_socket_is_unavailable_not_an_error(login_as: Login) -> None:
    client = login_as("participant")
    answer = client.get("/live/socket/Home?ticket=x",
                        headers={**UPGRADE, "Origin": "http://localhost"})
    assert answer.status_code == 503


# -- the listener: outside changes reach the live process ----------------------------


class Recorder(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """A tiny HTTP server on DATA/run/live.sock that records what the web posts."""

    daemon_threads = True

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        self.posts: list[tuple[str, dict[str, Any]]] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                recorder.posts.append((self.path, json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        try:  # a short path to a deep temp folder (sockaddr_un holds 108 bytes)
            super().__init__(f"/proc/self/fd/{folder}/{path.name}", Handler)
        finally:
            os.close(folder)


@pytest.fixture
def recorder(app: Flask) -> Iterator[Recorder]:
    server = Recorder(socket_path(app.extensions["cowiki"].settings.data_dir))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def open_room(app: Flask, page: str) -> None:
    """What the live process leaves while a page's room is open: its journal."""
    path = journal_path(app.extensions["cowiki"].settings.data_dir, page)
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"")


def test_an_api_save_is_posted_to_the_live_process(app: Flask, recorder: Recorder,
                                                   login_as: Login) -> None:
    open_room(app, "Plan")
    saved = api(login_as("participant")).put("/api/v1/pages/Plan",
                                             json={"markdown": "# Plan\n\nNieuw.\n"})
    assert saved.status_code == 201
    assert recorder.posts == []  # the live process hears of it once the answer is out
    saved.close()  # as the server does after writing the body
    assert ("/rooms/Plan/changed", {"revision": saved.json["revision"]}) in recorder.posts


def test_a_save_of_a_page_without_an_open_room_tells_the_live_process_nothing(
        app: Flask, recorder: Recorder, login_as: Login) -> None:
    open_room(app, "Plan")
    saved = api(login_as("participant")).put("/api/v1/pages/Other", json={"markdown": "x\n"})
    assert saved.status_code == 201
    saved.close()
    assert recorder.posts == []


def test_changes_made_by_the_live_process_are_not_sent_back(app: Flask, recorder: Recorder
                                                            ) -> None:
    open_room(app, "Home")
    listener = live_rooms(app.extensions["cowiki"].settings)
    person = Person("participant", "participant@example.org")
    listener(Change(Kind.SAVED, ("Home",), person, 2, "a" * 40, "live"))
    listener(Change(Kind.SAVED, ("Home",), person, 2, "b" * 40, "web"))
    assert recorder.posts == [("/rooms/Home/changed", {"revision": "b" * 40})]


def test_a_save_succeeds_when_the_live_process_is_down(login_as: Login) -> None:
    saved = api(login_as("participant")).put("/api/v1/pages/Plan", json={"markdown": "x\n"})
    assert saved.status_code == 201


# -- the relay, through a real `cowiki serve` and its live process --------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("live") / "data"
    data.mkdir()
    server = start_server(data, workers=2)
    wait_until(lambda: live_health(server).get("ok") is True)
    yield server
    stop_server(server)


def wait_until(condition: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def live_health(server: LiveServer) -> dict[str, Any]:
    found: dict[str, Any] = requests.get(server.url + "/healthz", timeout=10).json().get(
        "live", {})
    return found


def browser(server: LiveServer, role: str) -> requests.Session:
    """A session logged in through the form, as a browser is (cookie, CSRF header)."""
    session = requests.Session()
    session.trust_env = False
    form = session.get(server.url + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    answer = session.post(server.url + "/login", data={
        "name": role, "password": PASSWORDS[role], "csrf_token": token.group(1)},
        allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    page = session.get(server.url + "/p/Home", timeout=10).text
    meta = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert meta is not None
    session.headers["X-CSRF-Token"] = meta.group(1)
    return session


def open_socket(server: LiveServer, session: requests.Session | None, page: str = "Home",
                ticket: str | None = None, origin: str | None = None) -> ClientConnection:
    if ticket is None:
        assert session is not None
        ticket = session.get(f"{server.url}/api/v1/pages/{page}/live", timeout=10
                             ).json()["ticket"]
    cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items()) if session else ""
    url = server.url.replace("http://", "ws://") + f"/live/socket/{page}?ticket={ticket}"
    return connect(url, origin=origin or server.url,  # type: ignore[arg-type]
                   additional_headers={"Cookie": cookie} if cookie else None, proxy=None,
                   open_timeout=10)


def synced_doc(ws: ClientConnection) -> pycrdt.Doc:
    """Speak y-websocket's sync: ask for the room's document and answer its question."""
    doc: pycrdt.Doc = pycrdt.Doc()
    doc.get("markdown", type=pycrdt.Text)
    ws.send(pycrdt.create_sync_message(doc))
    got_state = False
    while not got_state:
        message = ws.recv(timeout=10)
        assert isinstance(message, bytes)
        if message[0] == pycrdt.YMessageType.SYNC:
            reply = pycrdt.handle_sync_message(message[1:], doc)
            if reply is not None:
                ws.send(reply)
            got_state = message[1] == pycrdt.YSyncMessageType.SYNC_STEP2
    return doc


def text_of(doc: pycrdt.Doc) -> str:
    return str(doc.get("markdown", type=pycrdt.Text))


def test_two_people_edit_live_through_the_relay_and_save_a_version(served: LiveServer) -> None:
    anna, bert = browser(served, "participant"), browser(served, "facilitator")
    with open_socket(served, anna) as one, open_socket(served, bert) as two:
        assert one.protocol.extensions == []  # no permessage-deflate through the relay
        doc_one, doc_two = synced_doc(one), synced_doc(two)
        home = anna.get(served.url + "/api/v1/pages/Home", timeout=10).json()["markdown"]
        assert text_of(doc_one) == text_of(doc_two) == home
        state = doc_one.get_state()
        text = doc_one.get("markdown", type=pycrdt.Text)
        text += "\nGetypt door Anna, live 🙂\n"
        one.send(pycrdt.create_update_message(doc_one.get_update(state)))
        while "Anna, live 🙂" not in text_of(doc_two):
            message = two.recv(timeout=10)
            assert isinstance(message, bytes)
            if message[0] == pycrdt.YMessageType.SYNC:
                pycrdt.handle_sync_message(message[1:], doc_two)
        saved = anna.post(served.url + "/api/v1/pages/Home/live/save", timeout=60)
        assert saved.status_code == 200 and saved.json()["saved"] is True
    page = anna.get(served.url + "/api/v1/pages/Home", timeout=10).json()
    assert page["markdown"] == text_of(doc_one)
    assert page["revision"] == saved.json()["revision"]


def test_a_cross_origin_socket_is_refused_with_403(served: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        open_socket(served, browser(served, "participant"), origin="http://evil.example")
    assert refused.value.response.status_code == 403


def test_a_socket_without_a_session_is_refused_with_401(served: LiveServer) -> None:
    ticket = browser(served, "participant").get(served.url + "/api/v1/pages/Home/live",
                                                timeout=10).json()["ticket"]
    with pytest.raises(InvalidStatus) as refused:
        open_socket(served, None, ticket=ticket)
    assert refused.value.response.status_code == 401


@pytest.mark.parametrize("ticket", ["forged.ticket", "", "eyJwIjoiSG9tZSJ9.AAAA"])
def test_a_forged_ticket_is_closed_by_the_live_process_with_4401(served: LiveServer,
                                                                  ticket: str) -> None:
    with open_socket(served, browser(served, "participant"), ticket=ticket) as ws, \
            pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_a_ticket_for_another_page_is_closed_with_4401(served: LiveServer) -> None:
    anna = browser(served, "participant")
    api_put = anna.put(served.url + "/api/v1/pages/Elders", json={"markdown": "# Elders\n"},
                       timeout=10)
    assert api_put.status_code == 201
    ticket = anna.get(served.url + "/api/v1/pages/Elders/live", timeout=10).json()["ticket"]
    with open_socket(served, anna, page="Home", ticket=ticket) as ws, \
            pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_healthz_reports_the_live_process_and_gunicorn_logs_no_errors(served: LiveServer
                                                                      ) -> None:
    anna = browser(served, "participant")
    with open_socket(served, anna) as ws:
        synced_doc(ws)
        health = live_health(served)
        assert health["ok"] is True and health["connections"] >= 1
    log = (served.data_dir / "server.log").read_text()
    assert "Traceback" not in log and "Error handling request" not in log
    assert "Socket error" not in log


# -- cowiki serve starts, restarts and stops the live process --------------------------


def live_pids(data_dir: Path) -> list[int]:
    """Processes running `cowiki.live` for this data dir."""
    return module_pids("cowiki.live", data_dir)


def test_serve_restarts_a_killed_live_process_and_stops_it_on_exit(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    server = start_server(data, workers=1)
    try:
        wait_until(lambda: len(live_pids(data)) == 1 and live_health(server).get("ok"))
        first = live_pids(data)[0]
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: live_pids(data) not in ([], [first]))
        wait_until(lambda: live_health(server).get("ok") is True)
        assert "the live process stopped" in (data / "server.log").read_text()
    finally:
        stop_server(server)
    assert server.process.returncode is not None
    wait_until(lambda: live_pids(data) == [], timeout=10)


def test_a_live_process_does_not_outlive_a_killed_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    server = start_server(data, workers=1)
    try:
        wait_until(lambda: len(live_pids(data)) == 1)
        server.process.kill()  # no on_exit hook runs: the kernel tells the live process
        server.process.wait(10)
        wait_until(lambda: live_pids(data) == [], timeout=10)
    finally:
        stop_server(server)


def test_with_live_editing_off_serve_starts_no_live_process(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setenv("COWIKI_LIVE", "off")
    data = tmp_path / "data"
    data.mkdir()
    server = start_server(data, workers=1)
    try:
        time.sleep(1.5)
        assert live_pids(data) == []
        assert "live" not in requests.get(server.url + "/healthz", timeout=10).json()
        answer = browser(server, "participant").get(server.url + "/api/v1/pages/Home/live",
                                                    timeout=10)
        assert answer.status_code == 404 and answer.json()["error"] == "live_off"
    finally:
        stop_server(server)
