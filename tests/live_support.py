"""The real live process for tests and benchmarks, and a Yjs client that speaks to it.

`start_live` runs `python -m cowiki.live --data DIR` as a subprocess and waits for
its unix socket; `YClient` is what a browser's y-websocket provider does, with
pycrdt: sync step 1/2, then updates both ways, over a WebSocket on that socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pycrdt import (
    Doc,
    Text,
    TransactionEvent,
    YMessageType,
    YSyncMessageType,
    create_sync_message,
    create_update_message,
    handle_sync_message,
)
from websockets.asyncio.client import ClientConnection, unix_connect
from websockets.exceptions import ConnectionClosed

from wiki.config import Settings
from wiki.live.livesock import LiveUnavailable, ask, socket_path
from wiki.live.tickets import issue_ticket, ticket_key

ROOT = Path(__file__).resolve().parent.parent
ORIGIN = "http://localhost"



def run_async(make: Callable[[], Awaitable[Any]]) -> Any:
    """Run a coroutine on its own event loop in its own thread, and return its result.

    Playwright's sync API keeps an event loop running in the main thread for the
    whole test session (its browser fixture is session-wide), so `asyncio.run`
    there would refuse to start.
    """
    result: list[Any] = []
    failure: list[BaseException] = []

    def main() -> None:
        try:
            result.append(asyncio.run(_awaited(make)))
        except BaseException as exc:  # handed to the caller's thread below
            failure.append(exc)

    thread = threading.Thread(target=main, name="live-test-loop")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


async def _awaited(make: Callable[[], Awaitable[Any]]) -> Any:
    return await make()

@dataclass
class LiveProcess:
    """A running live process on one data dir."""

    data_dir: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """SIGTERM, as `cowiki serve` stops it; killed when it hangs."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """kill -9: no chance to fold or flush anything."""
        self.process.kill()
        self.process.wait()

    def health(self) -> dict[str, Any]:
        """GET /healthz."""
        return ask(self.data_dir, "GET", "/healthz")[1]


def start_live(data_dir: Path, env: dict[str, str] | None = None) -> LiveProcess:
    """Start the live process and wait until it answers on its socket."""
    log = open(data_dir / "live.log", "ab")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        [sys.executable, "-m", "cowiki.live", "--data", str(data_dir)], cwd=ROOT,
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            ask(data_dir, "GET", "/healthz", timeout=1)
            return LiveProcess(data_dir, process)
        except LiveUnavailable:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError((data_dir / "live.log").read_text())


def ticket(data_dir: Path, page: str, account: int, mode: str = "write") -> str:
    """A ticket as the web process issues it."""
    return issue_ticket(ticket_key(Settings.load({"data_dir": str(data_dir)})), page, account,
                        mode)


class YClient:
    """A Yjs client (what y-websocket's provider does) with its own pycrdt document."""

    def __init__(self, connection: ClientConnection, doc: Doc[Any] | None = None,
                 follow: bool = True) -> None:
        self.ws = connection
        self.follow = follow  # False: after the first sync, others' updates are read, not applied
        self.doc: Doc[Any] = doc if doc is not None else Doc()
        self.text = self.doc.get("markdown", type=Text)
        self.synced = asyncio.Event()
        self.changed = asyncio.Event()
        self.closed: int | None = None
        self._remote = False
        self._outbox: list[bytes] = []
        self.doc.observe(self._local_update)
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def connect(cls, data_dir: Path, page: str, token: str, origin: str = ORIGIN,
                      doc: Doc[Any] | None = None, follow: bool = True) -> YClient:
        """Open the page's socket (through the run folder: deep temp paths are too long)."""
        folder = os.open(socket_path(data_dir).parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            ws = await unix_connect(
                f"/proc/self/fd/{folder}/live.sock",
                f"ws://localhost/live/socket/{quote(page, safe='/')}?ticket={token}",
                origin=origin, compression=None, max_size=None)  # type: ignore[arg-type]
        finally:
            os.close(folder)
        client = cls(ws, doc, follow)
        with contextlib.suppress(ConnectionClosed):  # a refused socket closes at once
            await client.ws.send(create_sync_message(client.doc))
        return client

    def _local_update(self, event: TransactionEvent) -> None:
        if not self._remote:
            self._outbox.append(event.update)

    async def flush(self) -> None:
        """Send what was typed since the last flush."""
        while self._outbox:
            await self.ws.send(create_update_message(self._outbox.pop(0)))

    async def type(self, index: int, words: str) -> None:
        """Insert `words` at code point `index`, as a keystroke, and send it."""
        now = str(self.text)
        self.text.insert(len(now[:index].encode("utf-8")), words)
        await self.flush()

    async def delete(self, start: int, end: int) -> None:
        """Delete code points [start, end) and send it."""
        now = str(self.text)
        del self.text[len(now[:start].encode("utf-8")):len(now[:end].encode("utf-8"))]
        await self.flush()

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                assert isinstance(message, bytes)
                if message[0] != YMessageType.SYNC or (
                        not self.follow and message[1] == YSyncMessageType.SYNC_UPDATE):
                    continue
                self._remote = True
                try:
                    reply = handle_sync_message(message[1:], self.doc)
                finally:
                    self._remote = False
                if reply is not None:
                    await self.ws.send(reply)
                if message[1] == YSyncMessageType.SYNC_STEP2:
                    self.synced.set()
                self.changed.set()
        except ConnectionClosed:
            pass
        self.closed = self.ws.close_code

    async def wait_for(self, text: str, timeout: float = 10.0) -> None:
        """Wait until this client's text is `text`."""
        deadline = time.monotonic() + timeout
        while str(self.text) != text:
            if time.monotonic() > deadline:
                raise AssertionError(f"client text {str(self.text)!r} is not {text!r}")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), 0.2)

    async def wait_closed(self, timeout: float = 15.0) -> int | None:
        """The close code the server sent."""
        await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        return self.closed

    async def close(self) -> None:
        """Leave the room."""
        await self.ws.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._reader, 5)
