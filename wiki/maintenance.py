"""Repository housekeeping off the request path: commit-graph and `git gc --auto`."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from storage.history import History
from wiki.filelock import held

log = logging.getLogger(__name__)
EVERY_N_SAVES = 25


class Housekeeper:
    """Runs git housekeeping in a background thread every few saves, one process at a time."""

    def __init__(self, history: History, lock_path: Path) -> None:
        self.history = history
        self.lock_path = lock_path
        self._saves = 0
        self._running = threading.Lock()

    def saved(self) -> None:
        """Count a save; start housekeeping in the background when one is due."""
        self._saves += 1
        if self._saves % EVERY_N_SAVES == 0 and self._running.acquire(blocking=False):
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

    def _locked_maintain(self) -> None:
        with held(self.lock_path, blocking=False) as locked:
            if not locked:
                return  # another worker is already at it
            try:
                self.history.maintain()
            except Exception:
                log.exception("repository housekeeping failed")
