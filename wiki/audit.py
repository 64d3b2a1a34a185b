"""The audit trail: one JSON line per change (wiki/changes.py), export and failed login.

Events go through the `logging` module under `cowiki.audit.<event>` (so an
operator can route or silence them like any other log) and are written by
their own handler as one JSON object per line, which log shippers read
without parsing rules:

    {"ts": "2024-05-01T09:30:12.345+00:00", "event": "save", "user": "anna",
     "page": "Home", "revision": "3f2a...", "via": "api", ...}

`configure` attaches that handler once per process (create_app calls it);
without it the records still reach whatever handlers the root logger has.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from wiki.changes import PAGE_EDITS, Change

LOGGER = "cowiki.audit"
_FIELDS = "audit_fields"


class JsonLineFormatter(logging.Formatter):
    """Formats an audit record as one line of JSON: time, event, then its fields."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, _FIELDS, {})
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": record.name.removeprefix(LOGGER + "."),
            **fields,
        }
        return json.dumps(line, ensure_ascii=False, default=str, separators=(",", ":"))


def configure(stream: IO[str] | None = None, path: Path | None = None) -> logging.Handler:
    """Write audit events as JSON lines to `path`, else `stream` (stderr); once per process.

    The server logs to stderr (the server log); the `cowiki` command appends to
    the data dir's `audit.log`, since its stderr is for its one-line errors.
    The audit logger stops propagating, so an event is one line and not also
    repeated by the root logger's plain-text handler.
    """
    logger = logging.getLogger(LOGGER)
    for handler in logger.handlers:
        if isinstance(handler.formatter, JsonLineFormatter):
            return handler
    handler = (logging.FileHandler(path, encoding="utf-8", delay=True) if path is not None
               else logging.StreamHandler(stream or sys.stderr))
    handler.setFormatter(JsonLineFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return handler


def record(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one audit event with its fields (values must be JSON-friendly or str()-able)."""
    logger = logging.getLogger(f"{LOGGER}.{event}")
    logger.log(level, event, extra={_FIELDS: fields})


def change(done: Change) -> None:
    """A change that reached git (a listener of the change front door, wiki/wiring.py).

    Page edits keep the event name "save"; every other kind is its own event.
    """
    event = "save" if done.kind in PAGE_EDITS else str(done.kind)
    record(event, user=done.author.name, account=done.account, kind=str(done.kind),
           pages=list(done.pages), page=done.pages[0] if done.pages else None,
           revision=done.revision, via=done.via, **done.details)


def save_conflict(user: str, page: str, base: str | None, head: str | None,
                  via: str = "web") -> None:
    """A save refused with a conflict (nothing was written)."""
    record("save_conflict", level=logging.WARNING, user=user, page=page, base=base,
           head=head, via=via)


def login_failure(name: str, address: str | None, via: str) -> None:
    """A failed login (form, or HTTP Basic on the API or git)."""
    record("login_failure", level=logging.WARNING, user=name, address=address, via=via)


def export(user: str | None, fmt: str, commit: str, job: str, via: str = "web") -> None:
    """An export started (or reused) for `commit` in format `fmt`."""
    record("export", user=user, format=fmt, commit=commit, job=job, via=via)
