"""Reading on while the database cannot answer.

Pages, history and search come from git on this node; accounts, sessions and the
discussion live in the database. When the database is busy, full, read-only or
unreachable, a read shows what git has and leaves out what only the database
knows, instead of answering 503 for all of it.

A logged-in person whose session cannot be checked reads on as an anonymous
visitor would (so only on a public-read wiki: wiki/views/access.py), keeps their
cookie, and is themselves again on the first request after the database returns.
Whatever needs the person (a save, a comment, their settings) answers the plain
503 of wiki/views/errors.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, g, request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from wiki.dbdialect import Fault, fault

T = TypeVar("T")
log = logging.getLogger("cowiki.web")


def database_fault(exc: BaseException) -> Fault | None:
    """What passing trouble `exc` is (busy, full, read-only, unreachable), or None when it
    is no database trouble at all (a bug, which must not be read past)."""
    if isinstance(exc, PoolTimeout):
        return "busy"  # the pool waited database_timeout for a free connection
    return fault(exc) if isinstance(exc, DBAPIError) else None


def note(exc: BaseException) -> bool:
    """Remember for this request that the database failed with `exc`; False (nothing
    remembered) when `exc` is no database trouble."""
    kind = database_fault(exc)
    if kind is None:
        return False
    if g.get("database_down") is None:
        log.warning("database %s on %s %s, reading on without it: %s", kind, request.method,
                    request.path, exc)
    g.database_down = exc
    return True


def or_else(read: Callable[[], T], fallback: T) -> T:
    """What `read` returns, or `fallback` while the database cannot answer.

    After one failure the request asks the database no more: an unreachable server
    costs its timeout once per request, not once per part of the page.
    """
    if g.get("database_down") is not None:
        return fallback
    try:
        return read()
    except (DBAPIError, PoolTimeout) as exc:
        if not note(exc):
            raise
        return fallback


def unchecked_session() -> BaseException | None:
    """The database error that kept this request's session from being checked, if any."""
    found: BaseException | None = g.get("session_unchecked")
    return found


def session_not_checked(exc: BaseException) -> bool:
    """Called by the user loader when looking up the session failed with `exc`: True when
    the request may go on as an anonymous reader (a database fault, remembered)."""
    if not note(exc):
        return False
    g.session_unchecked = exc
    return True


def install(app: Flask) -> None:
    """Tell every template whether the person's session could not be checked (the notice
    in base.html)."""

    @app.context_processor
    def notice() -> dict[str, Any]:
        return {"session_unchecked": unchecked_session() is not None}
