"""The web process's line to the live process: its unix socket, DATA/run/live.sock.

The live process (`python -m cowiki.live`) serves WebSockets and a few small
HTTP endpoints on that socket only; nothing outside the machine reaches it
except through the web process. This module connects to it and asks it plain
HTTP/1.1 questions with a short timeout, so a live process that is down or
stuck costs the web a fraction of a second and a clear answer, never a hang.
"""

from __future__ import annotations

import json
import socket
import time
from contextlib import closing
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from typing import Any
from urllib.parse import quote

from wiki.unixsock import address

RUN_DIR = "run"
SOCKET_NAME = "live.sock"
MAX_ANSWER = 1_000_000
# Under `cowiki --root DIR serve` a wiki's live process starts when first wanted: the
# server marks each wiki's run dir with ON_DEMAND and starts the process when WANTED appears.
ON_DEMAND = "live.on-demand"
WANTED = "live.wanted"
START_SECONDS = 15.0


class LiveUnavailable(Exception):
    """The live process does not answer (not running, restarting, or stuck)."""


def socket_path(data_dir: Path) -> Path:
    """Where the live process listens."""
    return Path(data_dir) / RUN_DIR / SOCKET_NAME


def connect(data_dir: Path, timeout: float, start: bool = False) -> socket.socket:
    """A connected unix socket to the live process; LiveUnavailable when none listens.

    With `start`, a wiki whose live process starts on demand (ON_DEMAND) asks for it
    and waits up to START_SECONDS for it to listen.
    """
    try:
        return _connect(socket_path(data_dir), timeout)
    except LiveUnavailable:
        run = socket_path(data_dir).parent
        if not start or not (run / ON_DEMAND).exists():
            raise
    (run / WANTED).touch()
    deadline = time.monotonic() + START_SECONDS
    while True:
        time.sleep(0.1)
        try:
            return _connect(socket_path(data_dir), timeout)
        except LiveUnavailable:
            if time.monotonic() >= deadline:
                raise


def _connect(path: Path, timeout: float) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        with address(path) as where:
            sock.connect(where)
    except OSError as exc:
        sock.close()
        raise LiveUnavailable(f"the live process does not answer on {path}: {exc}") from exc
    return sock


def page_url(prefix: str, page: str, suffix: str = "") -> str:
    """`prefix/<page>/suffix` with the page name percent-encoded (its slashes kept)."""
    return f"{prefix}/{quote(page, safe='/')}{suffix}"


class _UnixConnection(HTTPConnection):
    def __init__(self, data_dir: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._data_dir = data_dir

    def connect(self) -> None:
        self.sock = connect(self._data_dir, self.timeout or 1.0)


def ask(data_dir: Path, method: str, path: str, body: dict[str, Any] | None = None,
        timeout: float = 2.0) -> tuple[int, dict[str, Any]]:
    """Send one HTTP request to the live process: (status, its JSON answer or {}).

    Raises:
        LiveUnavailable: nothing listens, or no answer within `timeout` seconds.
    """
    payload = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if payload is not None else {}
    try:
        with closing(_UnixConnection(data_dir, timeout)) as conn:
            conn.request(method, path, body=payload, headers=headers)
            answer = conn.getresponse()
            raw = answer.read(MAX_ANSWER)
            status = answer.status
    except (OSError, HTTPException) as exc:
        raise LiveUnavailable(f"the live process did not answer {method} {path}: {exc}") \
            from exc
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        data = {}
    return status, data if isinstance(data, dict) else {}
