"""Moving `refs/heads/main`: a compare-and-swap as git makes it, the old file let go late.

A move takes `main.lock`, checks under it that main still names the commit
the writer built on, writes the new id and the reflog line, and renames the
lock over `main`, as `git update-ref` does; so web workers and `git
receive-pack` exclude each other. A lock older than STALE_REF_LOCK_SECONDS
was left by a writer that died and is removed.

Two steps are moved off the save's path, for the disk the benchmarks run on:
- Making `main.lock` is making a new file (0.15-0.5 ms there). A server's
  process links an empty file it made after an earlier answer
  (storage/loose.py) as the lock instead: `link` fails when the lock exists,
  as git's exclusive create does. Without such a file (the CLI, the first
  save, a burst) libgit2 moves main.
- Renaming the lock over `main` frees the old file (0.15 ms; 0.04 ms when the
  old file is still open somewhere, and it is freed when closed). So the
  mover keeps the old file open and lets go of it once the answer has gone
  out (`let_go`, with the spare files, wiki/wiring.py). At most one file is
  kept: a process that never calls `let_go` closes it at its next move.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import threading
import time
from pathlib import Path

import pygit2

from storage.loose import Spare, spare_lock_file

MAIN_REF = "refs/heads/main"
MAIN_LOCK = MAIN_REF + ".lock"
# git holds main.lock for the milliseconds of one ref update; one this old was left
# by a writer that died (killed worker, power cut) and would block every save for good.
STALE_REF_LOCK_SECONDS = 5.0
REFLOG_MESSAGE = "cowiki: save"
_IDENTITY_UNSAFE = re.compile(r"[<>\n\r\0]")

log = logging.getLogger("cowiki.storage")


class MainRef:
    """Moves one repository's `main`; shared by the threads of a process."""

    def __init__(self, git_dir: Path, who: tuple[str, str]) -> None:
        self.git_dir = git_dir
        self.who = " ".join(_IDENTITY_UNSAFE.sub("", who[0]).split()), \
            _IDENTITY_UNSAFE.sub("", who[1]).strip()
        self._kept: int | None = None  # the replaced file, open until `let_go`
        self._kept_pid = 0
        self._lock = threading.Lock()
        self._linking = True  # False on a disk without hard links: libgit2's way only
        self._log_all: bool | None = None

    def move(self, repo: pygit2.Repository, new: str, old: str | None) -> bool:
        """Compare-and-swap `main` from `old` to `new`; False if someone else won.

        Raises OSError when the ref lock could not be written at all (disk full,
        read-only): retrying cannot help then.
        """
        kept = self._keep_old_file() if old is not None else None
        try:
            if old is not None and self._linking:
                spare = spare_lock_file(self.git_dir / "objects")
                moved = None if spare is None else self._move_by_link(repo, spare, new, old)
                if moved is not None:
                    return moved
            return self._move_by_libgit2(repo, new, old)
        finally:
            self._hand_over(kept)

    def let_go(self) -> None:
        """Close the replaced file (after the answer): the disk frees it now."""
        self._hand_over(None)

    def _move_by_link(self, repo: pygit2.Repository, spare: Spare, new: str,
                      old: str) -> bool | None:
        """The update as git makes it, with a spare file made ahead as the lock: linked
        to `main.lock` (which fails when the lock exists, as git's exclusive create
        does), filled, logged, renamed over `main`. None when the spare is gone or the
        disk makes no links: libgit2 moves main instead."""
        lock, handle = self.git_dir / MAIN_LOCK, spare.handle
        try:
            try:
                os.link(spare.path, lock)
            except FileExistsError:
                self._remove_if_stale()
                return False
            except FileNotFoundError:
                return None  # `git prune` removed the spare
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP):
                    raise
                self._linking = False
                return None
            moved = False
            try:
                # Written first: the spare was made a while ago, and the lock's time is
                # what tells a live writer's lock from a dead one's.
                os.write(handle, f"{new}\n".encode())
                if self._current() != old:
                    return False
                os.close(handle)
                handle = -1
                self._log(repo, old, new)
                os.replace(lock, self.git_dir / MAIN_REF)
                moved = True
                return True
            finally:
                if not moved:
                    lock.unlink(missing_ok=True)
        finally:
            if handle >= 0:
                os.close(handle)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(spare.path)  # the spare's own name: the lock (now main) stays

    def _move_by_libgit2(self, repo: pygit2.Repository, new: str, old: str | None) -> bool:
        try:
            if old is None:
                repo.references.create(MAIN_REF, new, force=False)
            else:
                ref = repo.references[MAIN_REF]
                if str(ref.target) != old:
                    return False
                ref.set_target(new, REFLOG_MESSAGE)
        except (pygit2.GitError, pygit2.AlreadyExistsError, KeyError, ValueError):
            return False  # the ref moved ("old reference value does not match")
        except OSError as exc:
            if not self._lock_in_the_way(exc):
                raise
            return False
        return True

    def _current(self) -> str | None:
        """Where main points now: its own file, else its line in packed-refs."""
        try:
            with open(self.git_dir / MAIN_REF, "rb") as loose:
                return loose.read().strip().decode("ascii", "replace")
        except FileNotFoundError:
            pass
        try:
            with open(self.git_dir / "packed-refs", "rb") as packed:
                for line in packed:
                    target, _, name = line.rstrip(b"\n").partition(b" ")
                    if name == MAIN_REF.encode() and not target.startswith((b"#", b"^")):
                        return target.decode("ascii", "replace")
        except FileNotFoundError:
            pass
        return None

    def _log(self, repo: pygit2.Repository, old: str, new: str) -> None:
        """The reflog line git writes for the move, when the repository keeps a reflog."""
        path = self.git_dir / "logs" / MAIN_REF
        if self._log_all is None:
            try:
                value = str(repo.config["core.logAllRefUpdates"]).lower()
            except KeyError:
                value = "false"  # git's default in a bare repository
            self._log_all = value in ("true", "yes", "on", "1", "always")
        if not self._log_all and not path.exists():
            return
        now = time.time()
        offset = time.localtime(now).tm_gmtoff // 60
        zone = f"{'-' if offset < 0 else '+'}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
        name, email = self.who
        line = f"{old} {new} {name} <{email}> {int(now)} {zone}\t{REFLOG_MESSAGE}\n"
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            os.write(handle, line.encode())
        finally:
            os.close(handle)

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
        """Whether `main.lock` made libgit2's update fail (retry), removing it when stale.

        No lock and another failure than libgit2's two for a lock that was there: it
        could not be written (False)."""
        if self._remove_if_stale():
            return True
        # Gone already: a push held it and finished (retry), or it was never written.
        message = str(exc)
        return message.startswith("failed to lock file") or (
            message.startswith("failed to create locked file") and "exists" in message)

    def _remove_if_stale(self) -> bool:
        """Whether `main.lock` is there; removed when it is stale. Under the writer lock
        only a `git receive-pack` may hold it, for milliseconds: an older one was left by
        a killed writer."""
        lock = self.git_dir / MAIN_LOCK
        try:
            age = time.time() - lock.stat().st_mtime
        except FileNotFoundError:
            return False
        if age > STALE_REF_LOCK_SECONDS:
            log.warning("removing stale %s (%.0f s old, left by a writer that died)",
                        lock, age)
            lock.unlink(missing_ok=True)
        return True
