"""The WebSocket relay: browsers reach the live process through the web's one public port.

Why a relay, and why like this:

- One public port. People open one address (`cowiki serve --port 5000`, or the
  site behind one reverse proxy); the live process listens only on the unix
  socket DATA/run/live.sock. So the web process carries the WebSocket: the
  Flask route `/live/socket/<page>` checks the session and the Origin, opens
  the same path on live.sock, forwards the upgrade request (with the ticket)
  and hands the live process's answer back.
- gunicorn stays the front. Its gthread worker answers every request on a
  pool thread and then writes, shuts and closes the socket itself; it has no
  WebSocket support. After a 101 the route therefore takes the browser's socket
  away from gunicorn (`take_over`): it keeps a duplicate of the descriptor and
  puts a throw-away socket (one end of a socketpair whose other end is closed)
  under gunicorn's descriptor number with dup2. gunicorn's own response, shutdown
  and close then hit the throw-away socket: its write fails with EPIPE, which
  gunicorn's gthread worker ignores quietly (logged at debug), and the browser's
  connection lives on. The pool thread is free again at once.
- One thread per worker process relays every live socket (`Relay`): a selector,
  non-blocking sockets, a bounded buffer per direction (reading pauses while the
  other side is slow), and when one side closes, the other is closed after what
  was already read has been passed on. Nothing is parsed: WebSocket frames,
  pings and close codes pass through byte for byte (permessage-deflate is not
  offered, so the live process sees plain frames and can refuse large ones).

No Flask here: the route lives in wiki/views/live.py.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

from wiki.live import livesock

log = logging.getLogger(__name__)

MAX_HEAD = 16_384           # the live process's handshake answer
MAX_BODY = 65_536           # the body of a refusal (403, 404...) passed back to the browser
PAUSE_AT = 1_048_576        # stop reading one side while this much waits for the other
CHUNK = 65_536
MAX_CONNECTIONS = 2_000     # per worker process; more are answered 503
FORWARDED = ("host", "origin", "sec-websocket-key", "sec-websocket-version",
             "sec-websocket-protocol", "user-agent")


@dataclass
class Handshake:
    """The live process's answer to a forwarded upgrade request."""

    status: int
    head: bytes       # status line and headers, as sent
    rest: bytes       # bytes after the head: body of a refusal, or early frames after a 101
    upstream: socket.socket

    def header(self, name: str) -> str | None:
        """A header of the answer (the first of that name), or None."""
        wanted = name.lower().encode()
        for line in self.head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == wanted:
                return value.strip().decode("latin-1")
        return None


def handshake(data_dir: Path, target: str, headers: dict[str, str],
              timeout: float = 5.0) -> Handshake:
    """Send the browser's upgrade request for `target` to the live process; read its answer.

    Only the headers a WebSocket handshake needs are forwarded: no cookies, no
    Sec-WebSocket-Extensions (so no compression is negotiated).

    Raises:
        livesock.LiveUnavailable: nothing listens, or it does not answer in time.
    """
    upstream = livesock.connect(data_dir, timeout, start=True)
    try:
        lines = [f"GET {target} HTTP/1.1", "Upgrade: websocket", "Connection: Upgrade"]
        lines += [f"{name}: {value}" for name, value in headers.items()
                  if name.lower() in FORWARDED and _clean(value)]
        upstream.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            data = upstream.recv(CHUNK)
            if not data or len(buffer) > MAX_HEAD:
                raise livesock.LiveUnavailable("the live process gave no handshake answer")
            buffer += data
        head, _, rest = buffer.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
    except (OSError, ValueError, IndexError) as exc:
        upstream.close()
        raise livesock.LiveUnavailable(f"the live process's handshake failed: {exc}") from exc
    except livesock.LiveUnavailable:
        upstream.close()
        raise
    return Handshake(status, head + b"\r\n\r\n", rest, upstream)


def refusal_body(answer: Handshake, timeout: float = 2.0) -> bytes:
    """The body of a non-101 answer (bounded), then the upstream socket is closed."""
    body = answer.rest
    try:
        length = int(answer.header("content-length") or 0)
        answer.upstream.settimeout(timeout)
        while len(body) < min(length, MAX_BODY):
            data = answer.upstream.recv(CHUNK)
            if not data:
                break
            body += data
    except (OSError, ValueError):
        pass
    finally:
        answer.upstream.close()
    return body[:MAX_BODY]


def _clean(value: str) -> bool:
    return "\r" not in value and "\n" not in value and value.isascii()


def take_over(gunicorn_socket: socket.socket) -> socket.socket:
    """The browser's connection, taken from gunicorn (see the module docstring).

    Returns a socket on a duplicate descriptor; gunicorn's descriptor number now
    refers to a throw-away socket whose peer is closed.
    """
    number = gunicorn_socket.fileno()
    mine = socket.socket(fileno=os.dup(number))
    spare, gone = socket.socketpair()
    gone.close()
    os.dup2(spare.fileno(), number, inheritable=False)
    spare.close()
    if mine.family in (socket.AF_INET, socket.AF_INET6):
        # Keystrokes are tiny frames: send each at once (no Nagle), and notice dead peers.
        mine.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        mine.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    return mine


@dataclass
class _Side:
    sock: socket.socket
    outgoing: bytearray = field(default_factory=bytearray)  # bytes waiting to be sent to it
    ended: bool = False                                      # it sent EOF
    closed: bool = False
    mask: int = 0                                            # what the selector watches
    peer: _Side | None = None


class Relay:
    """One thread that copies bytes both ways between browser and live-process sockets."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._waker_r, self._waker_w = socket.socketpair()
        self._waker_r.setblocking(False)
        self._waker_w.setblocking(False)
        self._selector.register(self._waker_r, selectors.EVENT_READ, None)
        self._lock = threading.Lock()
        self._incoming: list[tuple[socket.socket, socket.socket, bytes]] = []
        self._pairs = 0
        self._thread: threading.Thread | None = None

    @property
    def connections(self) -> int:
        """How many browser sockets this process relays right now."""
        with self._lock:
            return self._pairs + len(self._incoming)

    def full(self) -> bool:
        """True when this process relays as many sockets as it should."""
        return self.connections >= MAX_CONNECTIONS

    def add(self, client: socket.socket, upstream: socket.socket, early: bytes = b"") -> None:
        """Relay between `client` and `upstream`; `early` is already owed to the client."""
        with self._lock:
            self._incoming.append((client, upstream, early))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="cowiki-live-relay",
                                                daemon=True)
                self._thread.start()
        with contextlib.suppress(BlockingIOError):  # full: the thread is due to wake anyway
            self._waker_w.send(b"\0")

    def _run(self) -> None:
        while True:
            for key, mask in self._selector.select():
                if key.data is None:
                    self._accept_new()
                    continue
                side: _Side = key.data
                if side.closed:
                    continue  # its pair was closed earlier in this round
                try:
                    if mask & selectors.EVENT_READ:
                        self._read(side)
                    if mask & selectors.EVENT_WRITE:
                        self._write(side)
                    self._settle(side)
                except OSError:  # reset or refused: nothing more can pass
                    self._close(side)
                except Exception:  # a bug must not stop every other live socket
                    log.exception("live relay failed on one connection; closing it")
                    self._close(side)

    def _accept_new(self) -> None:
        try:
            while self._waker_r.recv(4096):
                pass
        except BlockingIOError:
            pass
        with self._lock:
            new, self._incoming = self._incoming, []
            self._pairs += len(new)
        for client, upstream, early in new:
            browser, live = _Side(client, bytearray(early)), _Side(upstream)
            browser.peer, live.peer = live, browser
            try:
                client.setblocking(False)
                upstream.setblocking(False)
                self._settle(browser)
            except (OSError, ValueError):  # gone before the relay saw it
                self._close(browser)

    def _read(self, side: _Side) -> None:
        assert side.peer is not None
        try:
            data = side.sock.recv(CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        if data:
            side.peer.outgoing += data
        else:
            side.ended = True
            side.outgoing.clear()  # it hung up: what was owed to it is moot

    def _write(self, side: _Side) -> None:
        try:
            sent = side.sock.send(side.outgoing)
        except (BlockingIOError, InterruptedError):
            return
        del side.outgoing[:sent]

    def _settle(self, side: _Side) -> None:
        """Close a finished pair (one side ended, and what it sent was passed on),
        else watch each side for what it can do next."""
        peer = side.peer
        assert peer is not None
        if (side.ended and not peer.outgoing) or (peer.ended and not side.outgoing):
            self._close(side)
            return
        for one in (side, peer):
            self._watch(one)

    def _watch(self, one: _Side) -> None:
        assert one.peer is not None
        mask = selectors.EVENT_WRITE if one.outgoing else 0
        # Read only while the other side keeps up (bounded buffers) and still listens.
        if not one.ended and not one.peer.ended and len(one.peer.outgoing) < PAUSE_AT:
            mask |= selectors.EVENT_READ
        if mask == one.mask:
            return
        if one.mask == 0:
            self._selector.register(one.sock, mask, one)
        elif mask == 0:
            self._selector.unregister(one.sock)
        else:
            self._selector.modify(one.sock, mask, one)
        one.mask = mask

    def _close(self, side: _Side) -> None:
        assert side.peer is not None
        if side.closed:
            return
        for one in (side, side.peer):
            if one.mask:
                with contextlib.suppress(KeyError, ValueError):
                    self._selector.unregister(one.sock)
            one.mask = 0
            one.closed = True
            one.sock.close()
        with self._lock:
            self._pairs -= 1


_relay: Relay | None = None
_relay_pid = 0
_relay_lock = threading.Lock()


def relay() -> Relay:
    """This process's relay (a new one after a fork)."""
    global _relay, _relay_pid
    with _relay_lock:
        if _relay is None or _relay_pid != os.getpid():
            _relay, _relay_pid = Relay(), os.getpid()
        return _relay
