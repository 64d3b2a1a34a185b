"""Moving `refs/heads/main`: a compare-and-swap, a stale lock removed, the old file let go late.

libgit2 takes the same `main.lock` file as `git update-ref`, so web workers and
`git receive-pack` exclude each other; libgit2 checks, under that lock, that
main still names the commit the writer built on.

Renaming `main.lock` over `main` frees the old file. On the disk the
benchmarks run on, that took 0.15 ms of every save; a rename whose old file is
still open somewhere takes 0.04 ms, and the file is freed when it is closed.
So the mover keeps the old file open across the rename and lets go of it once
the save's answer has gone out (`let_go`, called with the spare object files
are made, wiki/wiring.py). At most one file is kept: a process that never
calls `let_go` (the CLI) closes it at its next move.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from pathlib import Path

import pygit2

MAIN_REF = "refs/heads/main"
MAIN_LOCK = MAIN_REF + ".lock"
# git holds main.lock for the milliseconds of one ref update; one this old was left
# by a writer that died (killed worker, power cut) and would block every save for good.
STALE_REF_LOCK_SECONDS = 5.0

log = logging.getLogger("cowiki.storage")


class MainRef:
    """Moves one repository's `main`; shared by the threads of a process."""

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = git_dir
        self._kept: int | None = None  # the replaced file, open until `let_go`
        self._kept_pid = 0
        self._lock = threading.Lock()

    def move(self, repo: pygit2.Repository, new: str, old: str | None) -> bool:
        """Compare-and-swap `main` from `old` to `new`; False if someone else won.

        Raises OSError when the ref lock could not be written at all (disk full,
        read-only): retrying cannot help then.
        """
        kept = self._keep_old_file() if old is not None else None
        try:
            if old is None:
                repo.references.create(MAIN_REF, new, force=False)
            else:
                ref = repo.references[MAIN_REF]
                if str(ref.target) != old:
                    return False
                ref.set_target(new, "cowiki: save")
        except (pygit2.GitError, pygit2.AlreadyExistsError, KeyError, ValueError):
            return False  # the ref moved ("old reference value does not match")
        except OSError as exc:
            if not self._lock_in_the_way(exc):
                raise
            return False
        finally:
            self._hand_over(kept)
        return True

    def let_go(self) -> None:
        """Close the replaced file (after the answer): the disk frees it now."""
        self._hand_over(None)

    def _keep_old_file(self) -> int | None:
        with contextlib.suppress(OSError):  # packed only, or unreadable: nothing to keep
            return os.open(self.git_dir / MAIN_REF, os.O_RDONLY | os.O_CLOEXEC)
        return None

    def _hand_over(self, kept: int | None) -> None:
        """Keep `kept` in place of the file kept before, which is closed."""
        with self._lock:
            previous = self._kept if self._kept_pid == os.getpid() else None
            self._kept, self._kept_pid = kept, os.getpid()
        if previous is not None:
            os.close(previous)

    def _lock_in_the_way(self, exc: OSError) -> bool:
        """Whether `main.lock` made the update fail (retry), removing it when it is stale.

        Under the writer lock only a `git receive-pack` may hold it, for milliseconds:
        an older one was left by a killed writer. No lock and another failure than
        libgit2's two for a lock that was there: it could not be written (False)."""
        lock = self.git_dir / MAIN_LOCK
        try:
            age = time.time() - lock.stat().st_mtime
        except FileNotFoundError:
            # Gone already: a push held it and finished (retry), or it was never written.
            message = str(exc)
            return message.startswith("failed to lock file") or (
                message.startswith("failed to create locked file") and "exists" in message)
        if age > STALE_REF_LOCK_SECONDS:
            log.warning("removing stale %s (%.0f s old, left by a writer that died)",
                        lock, age)
            lock.unlink(missing_ok=True)
        return True
