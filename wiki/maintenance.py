"""Repository housekeeping off the request path: commit-graph and `git gc --auto`.

It runs after every EVERY_N_SAVES saves of a process, but at most once in
REST_SECONDS for the whole data dir. Each run spawns git three times
(commit-graph, gc, count-objects). Counting saves alone ran it several times
a second when 8 clients saved at once (200 saves/s); on 2 cores that took a
third of the saves per second. In a workshop room (a save a second or so) 25
saves take longer than REST_SECONDS, so the rest never delays a run there.
The time of the last run is the lock file's: every worker sees it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from storage.history import History
from wiki.filelock import held

log = logging.getLogger(__name__)
EVERY_N_SAVES = 25
REST_SECONDS = 10.0  # the least time between two runs, whichever process ran the last


class Housekeeper:
    """Runs git housekeeping in a background thread every few saves, one process at a time."""

    def __init__(self, history: History, lock_path: Path,
                 clock: Callable[[], float] = time.time) -> None:
        self.history = history
        self.lock_path = lock_path
        self._clock = clock
        self._saves = 0
        self._not_before = 0.0  # no run before this time (the last run's + REST_SECONDS)
        self._running = threading.Lock()

    def saved(self) -> None:
        """Count a save; start housekeeping in the background when one is due."""
        self._saves += 1
        if self._saves >= EVERY_N_SAVES and self._rested() \
                and self._running.acquire(blocking=False):
            self._saves = 0
            threading.Thread(target=self._run, name="cowiki-housekeeping", daemon=True).start()

    def due(self) -> None:
        """Start housekeeping in the background now (after an import or a push)."""
        if self._running.acquire(blocking=False):
            threading.Thread(target=self._run, name="cowiki-housekeeping", daemon=True).start()

    def run_now(self) -> None:
        """Housekeeping in the caller's thread (CLI, tests)."""
        with self._running:
            self._locked_maintain()

    def _run(self) -> None:
        try:
            self._locked_maintain()
        finally:
            self._running.release()

    def _rested(self) -> bool:
        """Whether REST_SECONDS have passed since the last run of any process (the lock
        file's time, looked at once this process's own knowledge says it may be due)."""
        now = self._clock()
        if now < self._not_before:
            return False
        try:
            self._not_before = os.stat(self.lock_path).st_mtime + REST_SECONDS
        except FileNotFoundError:
            return True
        return now >= self._not_before

    def _locked_maintain(self) -> None:
        with held(self.lock_path, blocking=False) as locked:
            if not locked:
                return  # another worker is already at it
            try:
                self.history.maintain()
            except Exception:
                log.exception("repository housekeeping failed")
            finally:
                now = self._clock()
                with contextlib.suppress(OSError):  # the data dir went read-only: no rest
                    os.utime(self.lock_path, (now, now))  # when the last run ended, for all
