"""`python -m cowiki.indexing --data DIR`: the search-index process of one wiki.

`cowiki serve` starts it beside gunicorn, like the live process, and starts it
again when it dies. It keeps the search index in step with git: the web
workers, the live process and the CLI ring it after a change
(wiki/indexwake.py) and it catches up with the wiki's `Indexer`, batching a
burst of saves as the workers' threads did. Between rings it looks at the head
every LOOK_SECONDS, for a commit whose maker rang no one. While it is down the
workers catch up themselves, so a search never waits for it to come back.
Bad arguments exit 2 with one line.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from cowiki.sidecar import open_sidecar
from storage.repository import GIT_FAILURES
from wiki import indexwake

LOOK_SECONDS = 1.0
UNREADABLE: tuple[type[Exception], ...] = (OSError, *GIT_FAILURES)
log = logging.getLogger("cowiki.indexing")


def main(argv: Sequence[str] | None = None) -> int:
    """Keep the index in step until SIGTERM; returns the exit status."""
    services, sock = open_sidecar(argv, "cowiki.indexing",
                                  "The search-index process of one wiki.", "index",
                                  lambda data_dir: indexwake.listen(
                                      indexwake.socket_path(data_dir)))
    stopping = threading.Event()

    def stop(_signal: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    indexer = services.indexer
    indexer.work_here()
    indexer.notify()  # what changed while no index process ran
    with sock:
        while not stopping.is_set():
            rung = indexwake.rings(sock, LOOK_SECONDS)
            try:
                if rung or not indexer.is_fresh():
                    indexer.notify(hurry=indexwake.HURRY in rung)
            except UNREADABLE as exc:  # the head could not be read this time: look again
                log.warning("the head could not be read: %s", exc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
