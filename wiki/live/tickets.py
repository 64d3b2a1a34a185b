"""Tickets: the web process's signed word that one account may join one page's live room.

The browser fetches a ticket (`GET /api/v1/pages/<path>/live`) and hands it to the
live process in the WebSocket URL. The live process cannot read Flask's session, so
the ticket carries what it needs: the page, the account, the mode ("write" or "read")
and an expiry a minute away, signed with HMAC-SHA256 under a key derived from the
wiki's secret key, which both processes read from the same data directory. A nonce
makes every ticket distinct. The live process still re-reads the account from the
database, so a ticket never outlives a deactivation by more than that check.

Pure: no Flask, no I/O apart from reading the secret key in `ticket_key`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wiki.errors import N_, PermissionDenied

if TYPE_CHECKING:
    from wiki.config import Settings

MODES = ("write", "read")
_KEY_LABEL = b"cowiki live ticket v1"
_MAX_TOKEN = 2048


class TicketError(PermissionDenied):
    """A ticket that is forged, damaged, expired or for another page."""


@dataclass(frozen=True)
class Ticket:
    """What a valid ticket says."""

    page: str
    account: int
    mode: str      # "write" | "read"
    expires: float  # unix time


def ticket_key(settings: Settings) -> bytes:
    """The signing key: derived from the wiki's secret key, used for nothing else."""
    from wiki.datadir import secret_key  # datadir opens git and SQLite; keep this module light
    return hmac.new(secret_key(settings).encode(), _KEY_LABEL, hashlib.sha256).digest()


def issue_ticket(key: bytes, page: str, account: int, mode: str, ttl: float = 60.0) -> str:
    """A URL-safe token saying `account` may join `page`'s room in `mode` for `ttl` seconds."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    body = {"p": page, "a": account, "m": mode, "e": round(time.time() + ttl, 3),
            "n": secrets.token_urlsafe(12)}
    payload = _b64(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
    return payload + "." + _b64(_sign(key, payload))


def read_ticket(key: bytes, token: str, page: str, now: float | None = None) -> Ticket:
    """The ticket in `token`, checked: signature, expiry and that it is for `page`.

    Raises:
        TicketError: forged, damaged, expired or for another page.
    """
    payload, dot, signature = token.partition(".")
    if not dot or len(token) > _MAX_TOKEN or not token.isascii():
        raise TicketError(N_("this live editing ticket is not valid"))
    # Compared as text: base64 has spare bits in its last letter, so comparing the decoded
    # bytes would take a token whose last letter was changed.
    if not hmac.compare_digest(signature, _b64(_sign(key, payload))):
        raise TicketError(N_("this live editing ticket is not valid"))
    ticket = _parse(payload)
    if ticket.expires < (time.time() if now is None else now):
        raise TicketError(N_("this live editing ticket has expired; open the page again"))
    if ticket.page != page:
        raise TicketError(N_("this live editing ticket is for another page"))
    return ticket


def _parse(payload: str) -> Ticket:
    # Only reached with a good signature, so a failure here is our own bug or a key leak.
    try:
        body = json.loads(_unb64(payload))
        ticket = Ticket(page=body["p"], account=body["a"], mode=body["m"], expires=body["e"])
    except (ValueError, KeyError, TypeError):
        raise TicketError(N_("this live editing ticket is not valid")) from None
    if (not isinstance(ticket.page, str) or type(ticket.account) is not int
            or ticket.mode not in MODES or not isinstance(ticket.expires, (int, float))):
        raise TicketError(N_("this live editing ticket is not valid"))
    return ticket


def _sign(key: bytes, payload: str) -> bytes:
    return hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
