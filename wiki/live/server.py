"""The live process's ASGI app: the room WebSockets and three small HTTP endpoints.

Served on the unix socket DATA/run/live.sock only; browsers reach it through
the web process, which forwards the upgrade request with the browser's Origin
and Host. A socket `/live/socket/<page>?ticket=...` speaks the y-websocket
protocol (sync step 1/2, updates, awareness) through pycrdt-websocket's YRoom;
each connection is a `Connection` channel that checks what comes in before the
room sees it: a writer's update is journalled (fsynced) and applied under the
writer's account, a reader's update is dropped, a frame over 1 MB closes with
1009. HTTP: `POST /rooms/<page>/changed`, `POST /rooms/<page>/save`,
`GET /healthz`.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
from pycrdt import YMessageType, YSyncMessageType, read_message

from storage.errors import InvalidPageName
from storage.names import normalize_page_name
from wiki.datadir import Services
from wiki.errors import PageNotFound
from wiki.live.keeper import Keeper
from wiki.live.rooms import LiveRoom
from wiki.live.tickets import TicketError, read_ticket, ticket_key
from wiki.phases import is_frozen

log = logging.getLogger(__name__)
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
SOCKET_PREFIX = "/live/socket/"
MAX_FRAME = 1024 * 1024
RECHECK_SECONDS = 10.0
BAD_TICKET, NOT_ALLOWED, PAGE_GONE, TOO_LARGE = 4401, 4403, 4404, 1009
WRITES = (YSyncMessageType.SYNC_STEP2, YSyncMessageType.SYNC_UPDATE)


class Connection:
    """One browser in one room: a pycrdt Channel that vets every frame before the room."""

    def __init__(self, room: LiveRoom, account: int, mode: str, receive: Receive,
                 send: Send) -> None:
        self.room = room
        self.account = account
        self.mode = mode
        self._receive = receive
        self._send = send
        self._closed = False

    @property
    def path(self) -> str:
        """The room's page (pycrdt's Channel protocol)."""
        return self.room.page

    def __aiter__(self) -> Connection:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.recv()
        except (anyio.EndOfStream, OSError):
            raise StopAsyncIteration() from None

    async def recv(self) -> bytes:
        """The next frame the room should see; updates are journalled and applied here."""
        while True:
            event = await self._receive()
            if event["type"] == "websocket.disconnect" or self._closed:
                raise StopAsyncIteration()
            frame = event.get("bytes") or b""
            if len(frame) > MAX_FRAME:
                await self.close(TOO_LARGE, "frame too large")
                raise StopAsyncIteration()
            if len(frame) < 2:
                continue
            if frame[0] == YMessageType.SYNC and frame[1] in WRITES:
                if self.mode == "write":
                    await self.room.receive(read_message(frame[2:]), self.account)
                continue  # applied (and so broadcast) by the room, or a reader's: dropped
            return frame

    async def send(self, message: bytes) -> None:
        """Send a frame to the browser (a closed socket swallows it)."""
        if self._closed:
            return
        try:
            await self._send({"type": "websocket.send", "bytes": message})
        except (OSError, RuntimeError):
            self._closed = True

    async def close(self, code: int, reason: str = "") -> None:
        """Close the socket with `code` (4403, 4404, 4301, 1009...)."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError, RuntimeError):
            await self._send({"type": "websocket.close", "code": code, "reason": reason[:120]})


class LiveApp:
    """The ASGI application of the live process."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.keeper = Keeper(services)
        self.key = ticket_key(services.settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
        elif scope["type"] == "websocket":
            await self.socket(scope, receive, send)
        elif scope["type"] == "http":
            await self.http(scope, receive, send)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        """Run the keeper from startup to shutdown; fold every room on the way out."""
        async with anyio.create_task_group() as tasks:
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await tasks.start(self.keeper.run)
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.keeper.shut_down()
                    tasks.cancel_scope.cancel()
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    # -- the socket ----------------------------------------------------------

    async def socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check origin, ticket and account; then serve the room until the browser leaves."""
        if (await receive())["type"] != "websocket.connect":
            return
        # Accepted before any refusal: a browser sees a close code, never a bare HTTP 403.
        await send({"type": "websocket.accept"})
        refusal, page, account, mode = await self.admit(scope)
        if refusal:
            await send({"type": "websocket.close", "code": refusal})
            return
        try:
            room = await self.keeper.room(page)
        except PageNotFound:
            await send({"type": "websocket.close", "code": PAGE_GONE})
            return
        connection = Connection(room, account, mode, receive, send)
        self.keeper.join(room, connection)
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self.recheck, connection)
                await room.yroom.serve(connection)
                tasks.cancel_scope.cancel()
        finally:
            await self.keeper.leave(room, connection)

    async def admit(self, scope: Scope) -> tuple[int, str, int, str]:
        """(refusal close code or 0, page, account, mode) for a socket request."""
        path = str(scope.get("path", ""))
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        try:
            page = normalize_page_name(path.removeprefix(SOCKET_PREFIX))
        except InvalidPageName:
            return PAGE_GONE, "", 0, ""
        if not path.startswith(SOCKET_PREFIX) or not self.origin_allowed(headers):
            return NOT_ALLOWED, page, 0, ""
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        try:
            ticket = read_ticket(self.key, (query.get("ticket") or [""])[0], page)
        except TicketError:
            return BAD_TICKET, page, 0, ""
        mode = await self.keeper.blocking(self.mode_of, page, ticket.account, ticket.mode)
        return (NOT_ALLOWED if mode is None else 0), page, ticket.account, mode or ""

    def origin_allowed(self, headers: dict[str, str]) -> bool:
        """The Origin is the wiki's configured address, or the host the browser asked for."""
        origin = headers.get("origin", "")
        if not origin:
            return False
        base = self.services.settings.base_url
        if base:
            wanted = urlsplit(base)
            return origin.rstrip("/") == f"{wanted.scheme}://{wanted.netloc}"
        return urlsplit(origin).netloc == headers.get("host", "") != ""

    def mode_of(self, page: str, account: int, asked: str) -> str | None:
        """"write", "read", or None when the account may not be here (any more)."""
        user = self.services.accounts.get(account)
        if user is None or not user.active or not user.can("reader"):
            return None
        if asked != "write" or not user.can("participant"):
            return "read"
        return "read" if is_frozen(self.services.db, page) else "write"

    async def recheck(self, connection: Connection) -> None:
        """Every 10 s: a deactivated account is sent away, a lowered one only watches."""
        while True:
            await anyio.sleep(RECHECK_SECONDS)
            mode = await self.keeper.blocking(self.mode_of, connection.room.page,
                                              connection.account, connection.mode)
            if mode is None:
                await connection.close(NOT_ALLOWED, "account")
                return
            connection.mode = mode

    # -- HTTP ----------------------------------------------------------------

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The small HTTP side: healthz, changed and save."""
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body") or len(body) > MAX_FRAME:
                break
        status, answer = await self.answer(scope["method"], str(scope["path"]))
        data = json.dumps(answer).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})

    async def answer(self, method: str, path: str) -> tuple[int, dict[str, Any]]:
        """Status and JSON for one HTTP request."""
        if path == "/healthz" and method == "GET":
            return 200, self.keeper.counts()
        what, _slash, action = path.removeprefix("/rooms/").rpartition("/")
        if not path.startswith("/rooms/") or action not in ("changed", "save") or method != "POST":
            return 404, {"error": "not found"}
        try:
            page = normalize_page_name(what)
        except InvalidPageName:
            return 400, {"error": "bad page name"}
        room = self.keeper.rooms.get(page)
        if room is None:
            head = await self.keeper.blocking(self.services.repo.head)
            return 200, {"revision": head or "", "room": None}
        if action == "changed":
            await self.keeper.sync(room)
            return 200, {"revision": room.git_revision, "room": room.id}
        revision = await self.keeper.fold(room)
        return 200, {"revision": revision, "room": room.id}
