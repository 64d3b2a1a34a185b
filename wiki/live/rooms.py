"""A live room: one page's shared Yjs document, its journal and who wrote what.

The room's `Doc` holds one `Text` named "markdown": the page's `.md` text. It
is seeded from the page at one git revision by a client id derived from the
room id, so a room rebuilt from git plus its journal has the very same items
and a browser that reconnects after a restart does not get the text twice.

Every edit reaches the document as a Yjs update applied under an `Author`
origin: a writer's update (journalled first), or an outside change from git
(made on a scratch copy, journalled, then applied the same way). The text
observer turns each applied update into Steps tagged with that author, which
`wiki.live.folding.fold` later turns into per-author commits. No git here: the
keeper (wiki/live/keeper.py) commits and reads git.
"""

from __future__ import annotations

import difflib
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import anyio
from pycrdt import Doc, Text, TextEvent, create_update_message, merge_updates
from pycrdt.websocket import YRoom

from wiki.live.folding import Step
from wiki.live.journal import FOLDED, OPENED, OUTSIDE, UPDATE, Journal, read_records
from wiki.live.positions import cp_to_utf8, delta_steps, event_delta

TEXT = "markdown"
EMPTY_UPDATE = b"\x00\x00"
MAX_INNER_DIFF = 4_000_000  # characters old x new inside one changed block


@dataclass(frozen=True)
class Author:
    """The origin an update is applied under: whose edit it is, and whether git has it."""

    account: int
    in_git: bool = False


def room_id(page: str, revision: str) -> str:
    """The id of the room seeded from `page` at `revision` (its "epoch")."""
    return f"{page}@{revision}"


def derived_client_id(label: str) -> int:
    """A Yjs client id (uint32, not 0) that only depends on `label`."""
    number = int.from_bytes(hashlib.sha256(label.encode("utf-8")).digest()[:4], "big")
    return number & 0x7FFFFFFF or 1


def seed_update(room: str, text: str) -> bytes:
    """The Yjs update that puts `text` into an empty document, identical for the same room."""
    doc: Doc[Any] = Doc(client_id=derived_client_id(room))
    doc.get(TEXT, type=Text).insert(0, text)
    return doc.get_update()


def apply_steps(text: str, steps: Sequence[Step]) -> str:
    """`text` with `steps` applied one after the other."""
    for step in steps:
        text = text[:step.start] + step.insert + text[step.end:]
    return text


@dataclass
class Pending:
    """What the next fold takes: the text at the last fold and the steps since."""

    base: str
    steps: list[tuple[int, Step]] = field(default_factory=list)  # (journal record number, step)


class LiveRoom:
    """One page's live document with its journal, its steps and its connections."""

    def __init__(self, page: str, revision: str, seed_text: str, journal: Journal) -> None:
        self.page = page
        self.revision = revision          # the seed revision: part of the room id
        self.id = room_id(page, revision)
        self.journal = journal
        self.doc: Doc[Any] = Doc()
        self.text = self.doc.get(TEXT, type=Text)
        self.doc.apply_update(seed_update(self.id, seed_text))
        self.live = seed_text             # the text's string after the last applied update
        self.pending = Pending(seed_text)
        self.git_revision = revision      # the newest commit the room knows the page at
        self.git_text = seed_text         # the page's text in git at git_revision
        self.records = 0                  # update and outside records applied so far
        self.connections: set[Any] = set()
        self._lock: anyio.Lock | None = None  # made on first use, inside the event loop
        self._queue: list[tuple[bytes, int]] = []
        self._next: anyio.Event | None = None
        self._draining = False
        self.last_edit = self.last_fold = self.last_seen = self.dirty_since = time.monotonic()
        # Not "ready": YRoom would send every single update to every client by itself. The
        # room sends one merged update per journal batch instead (`_broadcast`), so fifty
        # people typing cost fifty sends per fsync, not per keystroke.
        self.yroom = YRoom(ready=False, ydoc=self.doc)
        self.spawn: Callable[..., object] | None = None  # starts a task; set by the keeper
        self._subscription = self.text.observe(self._observe)

    @classmethod
    def open(cls, page: str, revision: str, seed_text: str, path: Path) -> LiveRoom:
        """A new room seeded from the page's text at `revision`, with a new journal."""
        path.unlink(missing_ok=True)
        journal = Journal(path)
        journal.append(OPENED, page=page, revision=revision, room=room_id(page, revision))
        return cls(page, revision, seed_text, journal)

    @classmethod
    def rebuild(cls, path: Path, seed_text_at: Any) -> LiveRoom | None:
        """The room a journal describes, replayed; None for a journal without its first record.

        `seed_text_at(page, revision)` gives the page's text at its seed revision.
        """
        records = iter(read_records(path))
        first = next(records, None)
        if first is None or first.kind != OPENED:
            return None
        page, revision = str(first.head["page"]), str(first.head["revision"])
        room = cls(page, revision, seed_text_at(page, revision), Journal(path))
        room.journal.cut_torn_tail()
        for record in records:
            if record.kind in (UPDATE, OUTSIDE):
                room._apply(record.update, Author(int(record.head["account"]),
                                                  record.kind == OUTSIDE))
            if record.kind in (OUTSIDE, FOLDED) and record.head.get("revision"):
                room.git_revision = str(record.head["revision"])
            if record.kind == FOLDED:
                room._folded(int(record.head["upto"]))
        return room

    # -- edits ---------------------------------------------------------------

    @property
    def lock(self) -> anyio.Lock:
        """Held while records are written to the journal and applied, and around outside edits
        and fold notes, so the journal's order is the order the document saw."""
        if self._lock is None:
            self._lock = anyio.Lock()
        return self._lock

    @property
    def _next_batch(self) -> anyio.Event:
        if self._next is None:
            self._next = anyio.Event()
        return self._next

    async def receive(self, update: bytes, account: int) -> None:
        """A writer's update: on disk first, then into the document (and so to everyone).

        Updates arriving together share one fsync (group commit): the first caller drains
        the queue in batches, the others wait for their batch. Journal order is apply order.
        """
        if update == EMPTY_UPDATE:
            return
        mine = self._next_batch
        self._queue.append((update, account))
        if self._draining:
            await mine.wait()
            return
        self._draining = True
        try:
            with anyio.CancelScope(shield=True):  # a caller who leaves must not strand others
                while self._queue:
                    await self._drain()
        finally:
            self._draining = False

    async def _drain(self) -> None:
        async with self.lock:
            batch, self._queue = self._queue, []
            done, self._next = self._next_batch, anyio.Event()
            for update, account in batch:
                self.journal.write(UPDATE, update, account=account)
            self.journal.flush()
            await anyio.to_thread.run_sync(self.journal.fsync)
            for update, account in batch:
                self._apply(update, Author(account))
            self._broadcast([update for update, _account in batch])
            done.set()

    def _broadcast(self, updates: list[bytes]) -> None:
        if not updates or self.spawn is None:
            return
        message = create_update_message(updates[0] if len(updates) == 1
                                        else merge_updates(*updates))
        for connection in list(self.connections):
            self.spawn(connection.send, message)

    def take_from_git(self, new_text: str, account: int, revision: str) -> None:
        """Bring the live text to `new_text` by edits credited to `account`, already in git.

        Only the changed spans are touched. The caller holds `lock`, so no update is
        written or applied between its reading the live text and this edit.
        """
        scratch: Doc[Any] = Doc(client_id=derived_client_id(self.id + "#git"))
        scratch.apply_update(self.doc.get_update())
        text = scratch.get(TEXT, type=Text)
        before = str(text)
        with scratch.transaction():
            for start, end, insert in reversed(edits(before, new_text)):
                first, last = cp_to_utf8(before, start), cp_to_utf8(before, end)
                if last > first:
                    del text[first:last]
                if insert:
                    text.insert(first, insert)
        update = scratch.get_update(self.doc.get_state())
        self.git_revision = revision
        if update == EMPTY_UPDATE:
            return
        self.journal.append(OUTSIDE, update, account=account, revision=revision)
        self._apply(update, Author(account, in_git=True))
        self._broadcast([update])

    def _apply(self, update: bytes, author: Author) -> None:
        self.records += 1
        with self.doc.transaction(origin=author):
            self.doc.apply_update(update)

    def _observe(self, event: TextEvent) -> None:
        author = event.transaction.origin
        after = str(self.text)
        if isinstance(author, Author):
            if not author.in_git and not self.has_unfolded():
                self.dirty_since = time.monotonic()
            steps = delta_steps(self.live, event_delta(event), author.account, "utf8")
            self.pending.steps += [(self.records, replace(s, in_git=author.in_git))
                                   for s in steps]
            if not author.in_git:
                self.last_edit = time.monotonic()
        self.live = after

    # -- folding -------------------------------------------------------------

    def to_fold(self) -> tuple[str, list[Step], int]:
        """The base text, the steps since the last fold, and the record they end at."""
        return (self.pending.base, [step for _n, step in self.pending.steps], self.records)

    def has_unfolded(self) -> bool:
        """True when some step since the last fold is not in git yet."""
        return any(not step.in_git for _n, step in self.pending.steps)

    def folded(self, upto: int, revision: str) -> None:
        """The steps up to record `upto` are in git at `revision`: note it in the journal.

        The caller holds `lock`, so the note follows exactly the records applied so far.
        """
        self.journal.append(FOLDED, upto=upto, revision=revision)
        self.git_revision = revision
        self._folded(upto)

    def _folded(self, upto: int) -> None:
        done = [step for n, step in self.pending.steps if n <= upto]
        rest = [(n, step) for n, step in self.pending.steps if n > upto]
        self.pending = Pending(apply_steps(self.pending.base, done), rest)
        self.last_fold = time.monotonic()

    # -- lifetime ------------------------------------------------------------

    @property
    def writers(self) -> int:
        """How many connections may write."""
        return sum(1 for c in self.connections if c.mode == "write")

    def close(self, remove_journal: bool) -> None:
        """Stop observing; delete the journal when everything in it is in git."""
        self.text.unobserve(self._subscription)
        if remove_journal:
            self.journal.remove()
        else:
            self.journal.close()


def edits(old: str, new: str) -> list[tuple[int, int, str]]:
    """The spans of `old` (code points, ascending) to replace to get `new`: line-wise, then
    character-wise inside changed lines, so untouched text keeps its items."""
    result: list[tuple[int, int, str]] = []
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    old_at = _offsets(old_lines)
    new_at = _offsets(new_lines)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        a, b = old[old_at[i1]:old_at[i2]], new[new_at[j1]:new_at[j2]]
        if len(a) * len(b) > MAX_INNER_DIFF:  # a big rewrite: one replacement, not quadratic
            result.append((old_at[i1], old_at[i2], b))
            continue
        inner = difflib.SequenceMatcher(None, a, b, autojunk=False)
        for itag, k1, k2, m1, m2 in inner.get_opcodes():
            if itag != "equal":
                result.append((old_at[i1] + k1, old_at[i1] + k2, b[m1:m2]))
    return result


def _offsets(lines: list[str]) -> list[int]:
    at = [0]
    for line in lines:
        at.append(at[-1] + len(line))
    return at
