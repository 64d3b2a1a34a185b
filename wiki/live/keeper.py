"""The room keeper: opens and closes live rooms, folds them into commits, follows git.

One keeper per live process holds every live page of the wiki. It decides when
a room's edits become commits (after `live_idle_seconds` without typing, at
least every `live_max_seconds`, when the last writer leaves, on "Save
version"), commits each `Folded` through the change front door as its author
(via "live"), and brings changes made outside the room (pushes, API and
classic saves) into it as edits. Everything that touches git or SQLite runs in
a worker thread, one at a time, so the event loop keeps relaying keystrokes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import anyio
from anyio.abc import TaskGroup

from storage.names import normalize_page_name
from wiki.changes import Origin
from wiki.datadir import Services
from wiki.errors import N_, PageNotFound, WikiError
from wiki.live.folding import Folded, fold
from wiki.live.journal import journal_path, journals
from wiki.live.messages import live_commit_message
from wiki.live.outside import (
    CHANGED,
    DELETED,
    RENAMED,
    SAME,
    PageFate,
    merged_live_text,
    page_fate,
    page_text,
)
from wiki.live.rooms import LiveRoom

log = logging.getLogger(__name__)
T = TypeVar("T")
POLL_SECONDS = 1.0
CLOSE_DELETED, CLOSE_RENAMED = 4404, 4301


class Connection(Protocol):
    """What the keeper needs of a connection: its mode and a way to close it."""

    account: int
    mode: str

    async def close(self, code: int, reason: str = "") -> None: ...


class Keeper:
    """Every live room of one wiki."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.data_dir = Path(services.settings.data_dir)
        self.idle = float(services.settings.live_idle_seconds)
        self.longest = float(services.settings.live_max_seconds)
        self.rooms: dict[str, LiveRoom] = {}
        self._git = anyio.Lock()       # one thread at a time on git and SQLite
        self._opening = anyio.Lock()
        self._folding: dict[str, anyio.Lock] = {}
        self._tasks: TaskGroup | None = None
        self._head: str | None = None

    # -- lifetime ------------------------------------------------------------

    async def run(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        """Rebuild rooms left by a stopped process, then keep every room until cancelled."""
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            for path in journals(self.data_dir):
                await self._rebuild(path)
            task_status.started()
            tasks.start_soon(self._watch_git)
            tasks.start_soon(self._watch_rooms)

    async def shut_down(self) -> None:
        """Fold every room; journals stay so browsers find the same rooms after a restart."""
        for room in list(self.rooms.values()):
            await self.fold(room)
            room.close(remove_journal=False)
        self.rooms.clear()
        if self._tasks is not None:
            self._tasks.cancel_scope.cancel()

    async def blocking(self, call: Callable[..., T], *args: Any) -> T:
        """Run `call` (git, SQLite) in a worker thread, one at a time."""
        async with self._git:
            return await anyio.to_thread.run_sync(call, *args)

    # -- rooms ---------------------------------------------------------------

    async def room(self, page: str) -> LiveRoom:
        """The open room of `page`, opened from the head when there is none."""
        page = normalize_page_name(page)
        async with self._opening:
            room = self.rooms.get(page)
            if room is not None:
                return room
            head = await self.blocking(self.services.repo.head)
            text = None if head is None else await self.blocking(page_text, self.services,
                                                                 page, head)
            if head is None or text is None:
                raise PageNotFound(N_("page “{name}”"), name=page)
            room = LiveRoom.open(page, head, text, journal_path(self.data_dir, page))
            return await self._start(room, text)

    async def _rebuild(self, path: Path) -> None:
        def seed(page: str, revision: str) -> str:
            return page_text(self.services, page, revision) or ""

        try:
            room = await self.blocking(LiveRoom.rebuild, path, seed)
        except (OSError, ValueError, KeyError, WikiError):
            log.exception("could not rebuild the live room of %s; its journal stays", path)
            return
        if room is None:
            path.unlink(missing_ok=True)
            return
        git_text = await self.blocking(page_text, self.services, room.page, room.git_revision)
        await self._start(room, git_text or "")
        await self.sync(room)

    async def _start(self, room: LiveRoom, git_text: str) -> LiveRoom:
        assert self._tasks is not None, "the keeper is not running"
        room.git_text = git_text
        room.spawn = self._tasks.start_soon
        await self._tasks.start(room.yroom.start)
        self.rooms[room.page] = room
        self._folding[room.page] = anyio.Lock()
        return room

    def join(self, room: LiveRoom, connection: Connection) -> None:
        """A connection entered the room."""
        room.connections.add(connection)
        room.last_seen = time.monotonic()

    async def leave(self, room: LiveRoom, connection: Connection) -> None:
        """A connection left; when it was the last writer, the room's edits are committed."""
        room.connections.discard(connection)
        room.last_seen = time.monotonic()
        if connection.mode == "write" and room.writers == 0 and room.has_unfolded():
            await self.fold(room)

    async def _close(self, room: LiveRoom, code: int = 0, reason: str = "") -> None:
        self.rooms.pop(room.page, None)
        for connection in list(room.connections):
            await connection.close(code or 1001, reason)
        room.close(remove_journal=not room.has_unfolded())
        await room.yroom.stop()

    # -- folding -------------------------------------------------------------

    async def fold(self, room: LiveRoom) -> str:
        """Commit the room's edits since the last fold, one commit per run of one person."""
        async with self._folding.setdefault(room.page, anyio.Lock()):
            await self.sync(room)
            base, steps, upto = room.to_fold()
            if self.rooms.get(room.page) is not room or not room.has_unfolded():
                return room.git_revision
            # Pure but not free with many people's steps: off the event loop.
            folds = await anyio.to_thread.run_sync(fold, base, room.git_text, steps)
            try:
                revision = await self.blocking(self._commit, room, folds)
            except WikiError:
                log.exception("live edits of %s could not be committed; kept in the journal",
                              room.page)
                return room.git_revision
            async with room.lock:
                room.folded(upto, revision)
            if folds:
                room.git_text = folds[-1].text
            await self.sync(room)  # git may have tidied the text (final newline...)
            return room.git_revision

    def _commit(self, room: LiveRoom, folds: list[Folded]) -> str:
        revision = room.git_revision
        language = self.services.language
        for folded in folds:
            user = self.services.accounts.get(folded.author)
            author = user.person if user else self.services.server
            coauthors = [co.person for co in
                         (self.services.accounts.get(a) for a in folded.coauthors) if co]
            message = live_commit_message(language, room.page, author, coauthors)
            saved = self.services.pages.save(room.page, folded.text, revision, author, message,
                                             Origin(folded.author if user else None, "live"))
            revision = saved.revision
        return revision

    # -- outside changes -----------------------------------------------------

    async def sync(self, room: LiveRoom) -> None:
        """Bring what git did to the page since the room last looked into the room."""
        fate = await self.blocking(page_fate, self.services, room.page, room.git_revision,
                                   room.git_text)
        if self.rooms.get(room.page) is not room:
            return
        if fate.kind == SAME:
            room.git_revision = fate.revision
        elif fate.kind == CHANGED:
            async with room.lock:
                self._take(room, fate)
        elif fate.kind in (DELETED, RENAMED):
            await self._page_gone(room, fate)

    def _take(self, room: LiveRoom, fate: PageFate) -> None:
        # Merged and applied under the room's lock, so no keystroke lands in between.
        merged = merged_live_text(room.git_text, room.live, fate.text)
        room.take_from_git(merged, fate.account, fate.revision)
        room.git_text = fate.text

    async def _page_gone(self, room: LiveRoom, fate: PageFate) -> None:
        """Deleted or renamed: commit what is not in git yet, then send everyone away."""
        self.rooms.pop(room.page, None)
        if room.has_unfolded():
            # A rename moved the text unchanged: the edits follow it. After a delete they
            # bring the page back, so that nothing typed is lost; history shows both.
            base, steps, _upto = room.to_fold()
            head = room.git_text if fate.kind == RENAMED else ""
            old_page, room.page, room.git_revision = room.page, fate.to or room.page, fate.revision
            try:
                await self.blocking(self._commit, room, fold(base, head, steps))
            except WikiError:
                log.exception("live edits of %s could not be committed after it went away",
                              old_page)
            room.page = old_page
        code = CLOSE_RENAMED if fate.kind == RENAMED else CLOSE_DELETED
        room.pending.steps.clear()
        self.rooms[room.page] = room  # _close takes it out again
        await self._close(room, code, fate.to)

    async def _watch_git(self) -> None:
        """Poll refs/heads/main: the web tells us of changes, this catches what it missed."""
        while True:
            await anyio.sleep(POLL_SECONDS)
            head = await self.blocking(self.services.repo.head)
            if head != self._head:
                self._head = head
                for room in list(self.rooms.values()):
                    await self.sync(room)

    async def _watch_rooms(self) -> None:
        """Fold rooms whose people paused or typed long enough; close empty rooms."""
        tick = max(0.05, min(1.0, self.idle / 4))
        while True:
            await anyio.sleep(tick)
            now = time.monotonic()
            for room in list(self.rooms.values()):
                if room.has_unfolded() and (now - room.last_edit >= self.idle
                                            or now - room.dirty_since >= self.longest):
                    await self.fold(room)
                elif (not room.connections and not room.has_unfolded()
                      and now - room.last_seen >= self.idle):
                    await self._close(room)

    def counts(self) -> dict[str, int]:
        """How many rooms and connections are open (for /healthz)."""
        return {"rooms": len(self.rooms),
                "connections": sum(len(r.connections) for r in self.rooms.values())}
