"""`python -m cowiki.live --data DIR`: the live co-editing process of one wiki.

`cowiki serve` starts it beside gunicorn and restarts it when it dies. It
serves `wiki.live.server.LiveApp` with uvicorn on the unix socket
DATA/run/live.sock (mode 0600: only the wiki's own user reaches it). A socket
left by a killed process is replaced in one step, so a restart never finds the
address taken. Bad arguments exit 2 with one line.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from cowiki.sidecar import open_sidecar
from wiki.live.livesock import socket_path
from wiki.live.server import MAX_FRAME, LiveApp
from wiki.unixsock import bind

GRACEFUL_SECONDS = 5


def listen(path: Path) -> socket.socket:
    """A stream socket listening at `path` (0600), in place of any old one."""
    sock = bind(path, socket.SOCK_STREAM)
    sock.listen(128)
    return sock


def main(argv: Sequence[str] | None = None) -> int:
    """Run the live process until SIGTERM; returns the exit status."""
    services, sock = open_sidecar(argv, "cowiki.live", "The live co-editing process of one wiki.",
                                  "live", lambda data_dir: listen(socket_path(data_dir)))
    config = uvicorn.Config(LiveApp(services), lifespan="on", ws="websockets-sansio",
                            ws_max_size=MAX_FRAME, ws_per_message_deflate=False,
                            timeout_graceful_shutdown=GRACEFUL_SECONDS, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
