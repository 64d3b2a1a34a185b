"""One lock file shared by every process of a data dir (index writer, page cache, housekeeping)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def held(path: Path, blocking: bool = True) -> Iterator[bool]:
    """Hold an exclusive `flock` on `path` while the block runs.

    Yields True when this process holds the lock; with `blocking=False` it
    yields False at once when another process holds it. The lock goes with the
    file, so a killed process never leaves it behind.
    """
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
