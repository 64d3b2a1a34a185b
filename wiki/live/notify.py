"""Tell the live process about changes that reached git some other way.

A classic save, an API save, a revert, a rename or a delete of a page that has
a live room must show up in that room as an edit by its author. The change
door's "live rooms" listener (wiki/wiring.py) posts each such change to the
live process (`POST /rooms/<page>/changed`), best effort with a short timeout:
the live process also watches refs/heads/main by itself every second (that is
how pushes reach it), so a missed message costs a second, never an edit.
Changes the live process made itself (via "live") are not sent back to it.
"""

from __future__ import annotations

import logging

from wiki.changes import Change, Kind, Listener
from wiki.config import Settings
from wiki.live import livesock
from wiki.live.journal import journal_path

log = logging.getLogger(__name__)
LIVE_VIA = "live"
TIMEOUT = 0.5
PAGE_KINDS = frozenset({Kind.CREATED, Kind.SAVED, Kind.DELETED, Kind.RENAMED, Kind.REVERTED,
                        Kind.IMPORTED})


def changed_pages(change: Change) -> tuple[str, ...]:
    """The pages whose live rooms a change concerns.

    A push names no pages (its commits do); the live process's own watch of the
    head picks pushes up within a second.
    """
    if change.via == LIVE_VIA or not change.revision or change.kind not in PAGE_KINDS:
        return ()
    return change.pages


def live_rooms(settings: Settings) -> Listener:
    """The listener: post each outside page change to the live process, never raising."""
    data_dir = settings.data_dir

    def listener(change: Change) -> None:
        pages = changed_pages(change)
        if not pages or not settings.live or not livesock.socket_path(data_dir).exists():
            return
        for page in pages:
            if not journal_path(data_dir, page).exists():
                continue  # no room open on it: nobody to tell (a room opening now reads git)
            try:
                livesock.ask(data_dir, "POST", livesock.page_url("/rooms", page, "/changed"),
                             {"revision": change.revision}, timeout=TIMEOUT)
            except livesock.LiveUnavailable as exc:
                log.info("live process not told about %s (it polls git): %s", page, exc)

    return listener
