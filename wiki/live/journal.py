"""The journal of a live room: every accepted edit, on disk before anyone sees it.

One file per page, `DATA/live/<sha1(page)>.journal`. Its first record names the
room (page, seed revision, room id); after it come, in the order the room
applied them, the Yjs updates people sent (tagged with their account), the
outside changes the room took in from git, and fold marks (what reached git).
A room rebuilt from its seed text plus these records is byte-identical to the
one that wrote them, so browsers that reconnect after a restart carry on.

A record is a 4-byte big-endian length, a JSON head, a newline and the update
bytes. Every append is fsynced before it returns; a record cut short by a
crash (kill -9 mid-write) was never acknowledged and is ignored on reading.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FOLDER = "live"
_LENGTH = struct.Struct(">I")
MAX_RECORD = 64 * 1024 * 1024  # a longer length is damage, not a record

# Kinds of record.
OPENED = "opened"    # head: page, revision, room
UPDATE = "update"    # a writer's Yjs update; head: account
OUTSIDE = "outside"  # a change from git applied as an edit; head: account, revision
FOLDED = "folded"    # steps up to head["upto"] reached git; head: revision, text


@dataclass(frozen=True)
class Record:
    """One journal entry: its kind, its JSON head and the Yjs update it carries (if any)."""

    kind: str
    head: dict[str, Any] = field(default_factory=dict)
    update: bytes = b""


def journal_path(data_dir: Path, page: str) -> Path:
    """Where the journal of `page`'s room lives."""
    digest = hashlib.sha1(page.encode("utf-8"), usedforsecurity=False).hexdigest()
    return Path(data_dir) / FOLDER / f"{digest}.journal"


def journals(data_dir: Path) -> list[Path]:
    """Every journal in the data dir (rooms that were open when the process stopped)."""
    folder = Path(data_dir) / FOLDER
    return sorted(folder.glob("*.journal")) if folder.is_dir() else []


def current_room(data_dir: Path, page: str) -> str | None:
    """The id of `page`'s open room as its journal names it, or None when no room is open."""
    path = journal_path(data_dir, page)
    try:
        first = next(read_records(path), None)
    except OSError:
        return None
    return str(first.head.get("room")) if first and first.kind == OPENED else None


def encode(record: Record) -> bytes:
    """A record as it is written to disk."""
    head = json.dumps({"k": record.kind, **record.head}, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")
    body = head + b"\n" + record.update
    return _LENGTH.pack(len(body)) + body


def read_records(path: Path) -> Iterator[Record]:
    """The complete records of a journal, in order; a torn last record is left out."""
    for record, _end in _scan(path):
        yield record


def _scan(path: Path) -> Iterator[tuple[Record, int]]:
    with open(path, "rb") as stream:
        while True:
            prefix = stream.read(_LENGTH.size)
            if len(prefix) < _LENGTH.size:
                return
            (length,) = _LENGTH.unpack(prefix)
            body = stream.read(length) if length <= MAX_RECORD else b""
            if len(body) < length or length == 0:
                return
            head_bytes, _nl, update = body.partition(b"\n")
            try:
                head = json.loads(head_bytes)
            except ValueError:
                return
            kind = str(head.pop("k", ""))
            yield Record(kind, head, update), stream.tell()


class Journal:
    """The append-only journal of one room; each append is on disk when it returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        new = not path.exists()
        self._file = open(path, "ab")  # noqa: SIM115 (open as long as the room)
        if new:  # the file's name is on disk too, not only its records
            folder = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)

    def append(self, kind: str, update: bytes = b"", **head: Any) -> None:
        """Write one record and fsync it; it is on disk when this returns."""
        self.write(kind, update, **head)
        self.flush()
        os.fsync(self._file.fileno())

    def write(self, kind: str, update: bytes = b"", **head: Any) -> None:
        """Buffer one record; `flush` and `fsync` (or `append`) put it on disk."""
        head.setdefault("t", round(time.time(), 3))
        self._file.write(encode(Record(kind, head, update)))

    def flush(self) -> None:
        """Hand the buffered records to the operating system."""
        self._file.flush()

    def fsync(self) -> None:
        """Wait until the flushed records are on disk (safe to call from a worker thread)."""
        os.fsync(self._file.fileno())

    def cut_torn_tail(self) -> None:
        """Drop a record a crash left half-written, so new records follow complete ones."""
        good = 0
        for _record, end in _scan(self.path):
            good = end
        if good != self._file.tell():
            self._file.truncate(good)
            self._file.seek(good)
            os.fsync(self._file.fileno())

    def close(self) -> None:
        """Close the file (the journal stays on disk)."""
        self._file.close()

    def remove(self) -> None:
        """Close and delete the journal: everything in it is in git."""
        self._file.close()
        self.path.unlink(missing_ok=True)
