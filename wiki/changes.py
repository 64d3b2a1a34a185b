"""The front door for every change: checks before a write, listeners after the commit.

Every write of the wiki (a page saved, created, deleted, renamed or reverted,
an upload, the outline, an import, an accepted push, a freeze or a frozen
version) is described by one `Change`. The domain asks `ChangeDoor.check`
before it writes, so a check (the freeze guard, the case-twin guard) can
refuse it, and calls `ChangeDoor.publish` once the change is in git, so the
listeners (search index, housekeeping, audit, drafts, outline, links,
comments) follow it. `wiki/wiring.py` lists every check and listener in one
place.

A listener never turns a change that reached git into an error: a listener
that raises is logged and tried again in the background a few times. A
listener that only keeps a cache of git (page metadata) may run after the
answer: the web layer sets `ChangeDoor.later` so that it runs once the
response has gone out, and the cache catches up by itself should it miss one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Any

from storage.repository import Person

log = logging.getLogger(__name__)
RETRY_DELAYS = (0.5, 2.0, 10.0, 30.0)  # seconds before each new try of a failed listener


class Kind(StrEnum):
    """What kind of change happened."""

    CREATED = "created"
    SAVED = "saved"
    DELETED = "deleted"
    RENAMED = "renamed"
    REVERTED = "reverted"
    UPLOADED = "uploaded"
    OUTLINE = "outline"
    IMPORTED = "imported"
    PUSHED = "pushed"
    FROZEN = "frozen"


PAGE_EDITS = frozenset({Kind.CREATED, Kind.SAVED, Kind.REVERTED})


@dataclass(frozen=True)
class Change:
    """One change to the wiki, as checks see it before and listeners after the commit.

    Attributes:
        kind: what happened.
        pages: the page names (or repository paths, for uploads) it touches;
            for a rename `(old, new)`.
        author: the person the commit is credited to.
        account: the account id of the person who made the change, when known.
        revision: the commit that holds the change (empty before the commit,
            and for changes that make none, such as freezing a scope).
        via: the entry point: "web", "api", "cli", "git", "server", "live" (a live
            room's folded edits) or "suggestion" (an accepted suggestion).
        details: kind-specific facts for the audit line (merged authors, base...).
    """

    kind: Kind
    pages: tuple[str, ...]
    author: Person
    account: int | None = None
    revision: str = ""
    via: str = "web"
    details: Mapping[str, Any] = field(default_factory=dict)

    def committed(self, revision: str, **details: Any) -> Change:
        """The same change after its commit, with more details for the listeners."""
        return Change(self.kind, self.pages, self.author, self.account, revision, self.via,
                      {**self.details, **details})


@dataclass(frozen=True)
class Origin:
    """Who makes a change and through which entry point (the caller of a domain write)."""

    account: int | None = None
    via: str = "web"


SERVER = Origin(None, "server")
Check = Callable[[Change], None]
Listener = Callable[[Change], None]
Later = Callable[[Callable[[], None]], None]


def at_once(work: Callable[[], None]) -> None:
    """Run `work` now: outside a web request nobody waits for an answer."""
    work()


class ChangeDoor:
    """The checks that may refuse a change and the listeners that follow a committed one."""

    def __init__(self) -> None:
        self.checks: list[tuple[str, Check]] = []
        self.listeners: list[tuple[str, Listener]] = []
        self.after_answer: set[str] = set()  # names of listeners `later` may put off
        self.later: Later = at_once
        self._retries = 0
        self._lock = threading.Lock()

    def add_check(self, name: str, check: Check) -> None:
        """Run `check` before every write; it refuses a change by raising a WikiError."""
        self.checks.append((name, check))

    def add_listener(self, name: str, listener: Listener, after_answer: bool = False) -> None:
        """Run `listener` after every committed change, in the order they were added.

        With `after_answer` it is handed to `later`: a listener whose work the answer
        does not depend on and that is caught up by itself when it misses a change (a
        cache of git, a process that also looks at the head), so the person who made
        the change need not wait for it.
        """
        self.listeners.append((name, listener))
        if after_answer:
            self.after_answer.add(name)

    @property
    def answers_first(self) -> bool:
        """True in a server, where `later` work waits until the answer has been sent."""
        return self.later is not at_once

    def check(self, change: Change) -> None:
        """Run every check; the first that refuses raises and nothing is written."""
        for _name, check in self.checks:
            check(change)

    def publish(self, change: Change) -> None:
        """Tell every listener of a change that is in git; failures are retried, not raised."""
        for name, listener in self.listeners:
            if name in self.after_answer:
                self.later(partial(self._tell, name, listener, change))
            else:
                self._tell(name, listener, change)

    def _tell(self, name: str, listener: Listener, change: Change) -> None:
        try:
            listener(change)
        except Exception:
            log.exception("%s after a %s change failed; trying again later", name,
                          change.kind)
            self._retry_later(name, listener, change)

    @property
    def pending_retries(self) -> int:
        """How many failed listener calls are still waiting for another try."""
        return self._retries

    def _retry_later(self, name: str, listener: Listener, change: Change) -> None:
        with self._lock:
            self._retries += 1
        threading.Thread(target=self._retry, args=(name, listener, change), daemon=True,
                         name=f"cowiki-retry-{name}").start()

    def _retry(self, name: str, listener: Listener, change: Change) -> None:
        try:
            for delay in RETRY_DELAYS:
                time.sleep(delay)
                try:
                    listener(change)
                    return
                except Exception:
                    log.warning("%s after a %s change failed again", name, change.kind,
                                exc_info=True)
            log.error("%s after the %s change %s gave up after %d tries", name, change.kind,
                      change.revision, len(RETRY_DELAYS) + 1)
        finally:
            with self._lock:
                self._retries -= 1
