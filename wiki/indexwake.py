"""The line from web workers to the search-index process: datagrams on DATA/run/index.sock.

`cowiki serve` runs one index process beside gunicorn (`python -m cowiki.indexing`).
A worker that changed the wiki rings it (`Bell`) instead of catching up in a
thread of its own: rendering pages and Whoosh's commit then run beside the
workers, not under the interpreter lock of a worker answering requests (in a
burst of saves that was half of each save's time). A ring is one datagram,
sent without waiting; a search that waits for the index rings "hurry" to cut
the indexer's batching pause short.

When nobody listens (the CLI and tests without a server, a wiki under
`--root`, an index process being started again) `ring` says so and the caller
catches up itself, as the indexer always did.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from wiki.unixsock import address, bind

SOCKET_NAME = "index.sock"
WAKE = b"w"
HURRY = b"h"
MOST_RINGS = 64  # read at once; the rest wait for the next look


def socket_path(data_dir: Path) -> Path:
    """Where the index process of the wiki in `data_dir` listens."""
    return Path(data_dir) / "run" / SOCKET_NAME


class Bell:
    """A process's way to ring the index process; thread-safe, never blocks."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def ring(self, hurry: bool = False) -> bool:
        """True when an index process has the ring (or rings are already waiting for it);
        False when none listens."""
        try:
            with address(self.path) as where:
                self._socket().sendto(HURRY if hurry else WAKE, where)
        except BlockingIOError:
            return True  # its queue is full: it has rings to read
        except OSError:  # no socket, or nobody bound to it (ECONNREFUSED)
            return False
        return True

    def _socket(self) -> socket.socket:
        with self._lock:
            if self._sock is None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                sock.setblocking(False)
                self._sock = sock
            return self._sock


def listen(path: Path) -> socket.socket:
    """The index process's socket at `path` (0600), in place of any old one."""
    return bind(path, socket.SOCK_DGRAM)


def rings(sock: socket.socket, timeout: float) -> bytes:
    """The rings that came within `timeout` seconds (b"" when none came)."""
    sock.settimeout(timeout)
    try:
        got = [sock.recv(16)]
    except TimeoutError:
        return b""
    sock.setblocking(False)
    try:
        while len(got) < MOST_RINGS:
            got.append(sock.recv(16))
    except BlockingIOError:
        pass
    return b"".join(got)
