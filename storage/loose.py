"""Loose objects written as git writes them, into files made before they are needed.

On some disks, making a new file is the slowest step of a save. On the machine
the benchmarks run on, ext4 spent 0.25-0.35 ms of kernel time on each new file
in a busy folder. Opening a file that already exists took 0.01 ms. A save
writes three objects (the page, its folder's tree, the commit), and each is a
new file. Git's own fan-out folders (`objects/00` to `objects/ff`) cost as
much again whenever `git gc` has just removed the empty ones.

So each process keeps a few empty files ready in `objects/`, named
`tmp_obj_spare_<pid>_...`, and makes the 256 fan-out folders. A spare is made
read-only and kept open for writing: a write fills it, closes it and renames
it to the object's name, as git renames its own temporary files (opening,
cutting and chmod-ing a file each cost a system call, up to 0.15 ms apiece on
that disk). The spares are made again by `make_spares`, which the wiki calls
once a save's answer has gone out (wiki/wiring.py): the person saving does not
wait for them, and no thread competes with the next request. A process that
moves main also keeps one empty file readable by all, which storage/mainref.py
links as `main.lock`.

Large objects (the 400 KB tree of a folder of 10,000 pages, rewritten by every
save there) get spares already filled with as many zero bytes. On a virtual
machine, memory the kernel has not used lately costs tens of microseconds per
4 KB page when a new file's pages are first written: 0.1 to 4 ms for such a
tree. Written over, the spare's pages are the kernel's already; the file is
cut to the object's length.

The object's bytes, name and id are git's. A process with no spare ready (the
CLI, which makes none, or a burst of saves), or whose spare `git prune` removed, makes the
file there and then. Spares left by a process that ended are removed by
`remove_stale_spares` (called by housekeeping). They are empty "tmp_obj_"
files, which `git prune` also removes once they are two weeks old.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import logging
import os
import secrets
import struct
import threading
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import pygit2

log = logging.getLogger(__name__)

SPARES = 6  # empty files ready per process and repository
SPARE_PREFIX = "tmp_obj_spare_"
FAN_OUT = tuple(f"{n:02x}" for n in range(256))
BEST_SPEED = 1  # git's and libgit2's zlib level for loose objects
# Objects this large (a folder of 1,500 pages) go into spares made at their size already.
LARGE_BYTES = 64 * 1024
Piece = bytes | memoryview  # what writev takes
ZLIB_STORED_HEADER = b"\x78\x01"  # deflate, 32 KB window, level 0; a multiple of 31
STORED_BLOCK = 0xFFFF  # the most a stored block holds
MAX_PIECES = 512  # writev takes at most IOV_MAX (1,024) pieces
LARGE_SPARES = 2
ZEROS = memoryview(bytes(LARGE_BYTES))


def object_id(header: bytes, raw: bytes) -> str:
    """The id git gives an object: the SHA-1 of its header ("blob 12\\0") and bytes."""
    digest = hashlib.sha1(header, usedforsecurity=False)
    digest.update(raw)
    return digest.hexdigest()


def blob_id_of(data: bytes) -> str:
    """The id `data` has as a blob, written or not."""
    return object_id(b"blob %d\0" % len(data), data)


def stored_zlib(data: bytes) -> list[Piece]:
    """`data` as a zlib stream of stored (uncompressed) blocks, as zlib's level 0 writes
    it, in pieces for one `writev`. zlib's own level 0 sets up a deflate state first,
    which costs more than the copy: a 20 KB tree took 60 µs there (170 µs at level 1)
    and takes 7 µs here."""
    view = memoryview(data)
    parts: list[Piece] = [ZLIB_STORED_HEADER]
    for start in range(0, len(data) or 1, STORED_BLOCK):  # no data: one empty block
        block = view[start:start + STORED_BLOCK]
        final = start + STORED_BLOCK >= len(data)
        parts += [bytes((final,)) + struct.pack("<HH", len(block), len(block) ^ 0xFFFF), block]
    parts.append(struct.pack(">I", zlib.adler32(data)))
    return parts if len(parts) <= MAX_PIECES else [b"".join(parts)]


def _room_for(size: int) -> int:
    """A large spare's size for objects of about `size` bytes: an eighth more, in pages."""
    return -(-(size + size // 8) // 4096) * 4096


class LooseObjects:
    """Writes loose objects into one repository's `objects/` folder."""

    def __init__(self, objects: Path, fsync: bool = False) -> None:
        self.objects = objects
        self._fsync = fsync

    def blob(self, data: bytes) -> pygit2.Oid:
        return self.write(b"blob", data)

    def commit(self, data: bytes) -> pygit2.Oid:
        return self.write(b"commit", data)

    def make_spares(self) -> None:
        """Make the files the next writes will fill (after a web save's answer)."""
        _spares_for(self.objects).fill()

    def write(self, kind: bytes, raw: bytes, level: int = BEST_SPEED) -> pygit2.Oid:
        """Store an object of `kind` ("blob", "tree", "commit") and return its id.

        Level 0 writes stored zlib blocks, which every git reads (see storage/treesplice.py).
        """
        header = b"%s %d\0" % (kind, len(raw))
        hexid = object_id(header, raw)
        target = self.objects / hexid[:2] / hexid[2:]
        if not _freshened(target):
            if level == 0:
                parts = stored_zlib(header + raw)
            else:
                deflate = zlib.compressobj(level)
                parts = [deflate.compress(header), deflate.compress(raw), deflate.flush()]
            self._store(target, parts)
        return pygit2.Oid(hex=hexid)

    def _store(self, target: Path, parts: Sequence[Piece]) -> None:
        """Fill a spare (or a new temporary file) and rename it to `target`."""
        spares = _spares_for(self.objects)
        size = sum(map(len, parts))
        spare = spares.take(size)
        if not self._filled(spare or _new_file(self.objects, "tmp_obj_"), parts, size, target):
            # `git prune` removed the spare while it waited: a new file after all.
            self._filled(_new_file(self.objects, "tmp_obj_"), parts, size, target)

    def _filled(self, spare: Spare, parts: Sequence[Piece], size: int, target: Path) -> bool:
        """Write `parts` into `spare` and rename it to `target`; False when the spare's
        file is gone (nothing was stored)."""
        handle, temporary, room = spare
        try:
            try:
                _write_all(handle, parts, size)
                if room > size:
                    os.ftruncate(handle, size)  # a large spare made with room to spare
                if self._fsync:
                    os.fsync(handle)
            finally:
                os.close(handle)
            for _attempt in range(3):
                try:
                    os.replace(temporary, target)
                    return True
                except FileNotFoundError:
                    if not os.path.exists(temporary):
                        return False
                    # No fan-out folder: `git gc` removed the empty ones (or prune-packed
                    # took this one just now). Made here, and all of them at the next fill.
                    target.parent.mkdir(exist_ok=True)
                    _spares_for(self.objects).folders_missing()
            raise FileNotFoundError(f"could not make {target.parent}")
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


class Spare(NamedTuple):
    """A file kept open for writing at its start, its path, and the bytes it holds."""

    handle: int
    path: str
    size: int = 0


def _new_file(objects: Path, prefix: str, mode: int = 0o444) -> Spare:
    """A new temporary file in `objects/` (read-only, as git's own), open for writing."""
    while True:
        path = os.path.join(objects, prefix + secrets.token_hex(8))
        with contextlib.suppress(FileExistsError):  # 2^64 names: never twice in practice
            return Spare(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC,
                                 mode), path)


def _write_all(handle: int, parts: Sequence[Piece], size: int) -> None:
    """All of `parts`, in one system call when the disk takes them at once."""
    written = os.writev(handle, parts)
    if written < size:  # a signal or a nearly full disk: the rest one write at a time
        rest = memoryview(b"".join(parts))[written:]
        while rest:
            rest = rest[os.write(handle, rest):]


def _freshened(target: Path) -> bool:
    """True when the loose object is there; its time is renewed, as git does, so that
    `git gc` cannot prune it as unreachable while the commit that uses it is being made."""
    try:
        os.utime(target)
    except FileNotFoundError:
        return False
    except PermissionError:
        return True  # there, but another user's: it still holds the same bytes
    return True


class Spares:
    """One process's ready files in one `objects/` folder."""

    def __init__(self, objects: Path) -> None:
        self.objects = objects
        self.pid = os.getpid()
        self._ready: list[Spare] = []  # empty files
        self._large: list[Spare] = []  # files of _large_bytes zero bytes
        self._large_bytes = 0  # room for the largest object written lately
        self._locks: list[Spare] = []  # for a ref's lock file (storage/mainref.py): 0644
        self._locks_wanted = False
        self._lock = threading.Lock()
        self._folders_made = False
        atexit.register(self.discard)

    def take(self, size: int) -> Spare | None:
        """A file to write `size` bytes into, at its start: a spare with room for them
        already for a large object, an empty one otherwise. None when none is ready."""
        with self._lock:
            if size >= LARGE_BYTES:
                self._large_bytes = max(self._large_bytes, _room_for(size))
            pool = self._large if size >= LARGE_BYTES and self._large else self._ready
            return pool.pop() if pool else None

    def take_lock_file(self) -> Spare | None:
        """An empty file, readable by all, to link as a ref's lock (storage/mainref.py)."""
        with self._lock:
            self._locks_wanted = True
            return self._locks.pop() if self._locks else None

    def fill(self) -> None:
        """Make the fan-out folders and the spares that writes took (the caller's time)."""
        try:
            self._make_folders()
            while len(self._ready) < SPARES:
                self._add(self._ready, 0)
            while len(self._large) < (LARGE_SPARES if self._large_bytes else 0):
                self._add(self._large, self._large_bytes)
            while self._locks_wanted and not self._locks:
                self._add(self._locks, 0, mode=0o644)
        except OSError as exc:  # a full disk, a removed repository: writes make their own
            log.info("no spare object files in %s: %s", self.objects, exc)

    def folders_missing(self) -> None:
        """A write found a fan-out folder gone (`git gc`): make them all at the next fill."""
        self._folders_made = False

    def discard(self) -> None:
        """Close and remove this process's spares (at exit; never a parent's, after a fork)."""
        if os.getpid() != self.pid:
            return
        self.close()
        with contextlib.suppress(OSError):  # the repository is gone already
            _remove_spares(self.objects, lambda pid: pid == self.pid)

    def close(self) -> None:
        """Close the spares' handles, leaving their files (a forked child's copies)."""
        with self._lock:
            spares = self._ready + self._large + self._locks
            self._ready, self._large, self._locks = [], [], []
        for spare in spares:
            with contextlib.suppress(OSError):
                os.close(spare.handle)

    def _add(self, pool: list[Spare], size: int, mode: int = 0o444) -> None:
        """Make a spare of `size` zero bytes: the pages an object will be written into
        are the kernel's already (new ones cost the most on a virtual machine)."""
        handle, path, _empty = _new_file(self.objects, f"{SPARE_PREFIX}{self.pid}_", mode)
        try:
            for start in range(0, size, len(ZEROS)):
                os.write(handle, ZEROS[:size - start])
            os.lseek(handle, 0, os.SEEK_SET)
        except BaseException:
            os.close(handle)
            os.unlink(path)
            raise
        with self._lock:
            pool.append(Spare(handle, path, size))

    def _make_folders(self) -> None:
        if self._folders_made:
            return
        present = set(os.listdir(self.objects))
        for name in FAN_OUT:
            if name not in present:
                (self.objects / name).mkdir(exist_ok=True)
        self._folders_made = True


_SPARES: dict[Path, Spares] = {}
_SPARES_LOCK = threading.Lock()


def _spares_for(objects: Path) -> Spares:
    """This process's spares for `objects` (a forked child starts its own)."""
    with _SPARES_LOCK:
        spares = _SPARES.get(objects)
        if spares is None or spares.pid != os.getpid():
            if spares is not None:
                spares.close()  # the parent's handles, copied by the fork; its files stay
            spares = _SPARES[objects] = Spares(objects)
        return spares


def spare_lock_file(objects: Path) -> Spare | None:
    """An empty file made ahead, readable by all, to link as a ref's lock; None when this
    process has none ready (it will from its next `make_spares`)."""
    return _spares_for(objects).take_lock_file()


def remove_stale_spares(objects: Path) -> int:
    """Remove the spares of processes that have ended; returns how many."""
    return _remove_spares(objects, lambda pid: not _alive(pid))


def _remove_spares(objects: Path, whose: Callable[[int], bool]) -> int:
    removed = 0
    for name in os.listdir(objects):
        pid = name[len(SPARE_PREFIX):].split("_", 1)[0]
        if name.startswith(SPARE_PREFIX) and pid.isdigit() and whose(int(pid)):
            (objects / name).unlink(missing_ok=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
