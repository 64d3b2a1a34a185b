"""`python -m cowiki.live --data DIR`: the live co-editing process of one wiki.

`cowiki serve` starts it beside gunicorn and restarts it when it dies. It
serves `wiki.live.server.LiveApp` with uvicorn on the unix socket
DATA/run/live.sock (mode 0600: only the wiki's own user reaches it). A socket
left by a killed process is replaced in one step, so a restart never finds the
address taken. Bad arguments exit 2 with one line.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from wiki.config import Settings
from wiki.datadir import open_data_dir
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
    parser = argparse.ArgumentParser(prog="python -m cowiki.live",
                                     description="The live co-editing process of one wiki.")
    parser.add_argument("--data", default=None, metavar="DIR", help="the wiki's data directory")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s live %(levelname)s %(message)s")
    try:
        settings = Settings.load({"data_dir": args.data} if args.data else None)
        services = open_data_dir(settings)
        sock = listen(socket_path(settings.data_dir))
    except (OSError, ValueError) as exc:
        print(f"cowiki.live: error: {exc}", file=sys.stderr)
        return 2
    config = uvicorn.Config(LiveApp(services), lifespan="on", ws="websockets-sansio",
                            ws_max_size=MAX_FRAME, ws_per_message_deflate=False,
                            timeout_graceful_shutdown=GRACEFUL_SECONDS, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
