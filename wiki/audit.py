"""The audit trail: one JSON line per save, push, export and failed login.

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
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import IO, Any

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


def configure(stream: IO[str] | None = None) -> logging.Handler:
    """Write audit events as JSON lines to `stream` (stderr); idempotent per process.

    The audit logger stops propagating, so an event is one line and not also
    repeated by the root logger's plain-text handler.
    """
    logger = logging.getLogger(LOGGER)
    for handler in logger.handlers:
        if isinstance(handler.formatter, JsonLineFormatter):
            return handler
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return handler


def record(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one audit event with its fields (values must be JSON-friendly or str()-able)."""
    logger = logging.getLogger(f"{LOGGER}.{event}")
    logger.log(level, event, extra={_FIELDS: fields})


def save(user: str, page: str, revision: str, *, base: str | None, created: bool,
         changed: bool, merged_with: Sequence[str] = (), via: str = "web") -> None:
    """A page save that was acknowledged to the user (also a save that changed nothing)."""
    record("save", user=user, page=page, revision=revision, base=base, created=created,
           changed=changed, merged_with=list(merged_with), via=via)


def save_conflict(user: str, page: str, base: str | None, head: str | None,
                  via: str = "web") -> None:
    """A save refused with a conflict (nothing was written)."""
    record("save_conflict", level=logging.WARNING, user=user, page=page, base=base,
           head=head, via=via)


def login_failure(name: str, address: str | None, via: str) -> None:
    """A failed login (form, or HTTP Basic on the API or git)."""
    record("login_failure", level=logging.WARNING, user=name, address=address, via=via)


def push(user: str | None, old: str, new: str, commits: Sequence[str]) -> None:
    """An accepted git push to main; `user` is None for a push on the server's disk."""
    record("push", user=user, old=old, new=new, commits=len(commits),
           revisions=list(commits[:50]))


def export(user: str | None, fmt: str, commit: str, job: str, via: str = "web") -> None:
    """An export started (or reused) for `commit` in format `fmt`."""
    record("export", user=user, format=fmt, commit=commit, job=job, via=via)
