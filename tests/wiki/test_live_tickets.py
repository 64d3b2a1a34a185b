"""Live editing tickets: signed, bound to one page, short-lived, and refused when touched."""

from __future__ import annotations

import base64
import json
import string
import time
from pathlib import Path

import pytest

from wiki.config import Settings
from wiki.errors import WikiError
from wiki.live.tickets import Ticket, TicketError, issue_ticket, read_ticket, ticket_key

KEY = b"k" * 32


def test_a_fresh_ticket_reads_back_what_was_issued() -> None:
    before = time.time()
    token = issue_ticket(KEY, "Notes/Day één", 7, "write")
    ticket = read_ticket(KEY, token, "Notes/Day één")
    assert ticket == Ticket("Notes/Day één", 7, "write", ticket.expires)
    assert before + 59 < ticket.expires < time.time() + 61


def test_tickets_are_url_safe_and_never_repeat() -> None:
    tokens = {issue_ticket(KEY, "Home", 1, "read") for _ in range(50)}
    assert len(tokens) == 50
    url_safe = set(string.ascii_letters + string.digits + "-_.")
    for token in tokens:
        assert set(token) <= url_safe


def test_an_expired_ticket_is_refused() -> None:
    token = issue_ticket(KEY, "Home", 1, "write", ttl=60)
    read_ticket(KEY, token, "Home", now=time.time() + 59)
    with pytest.raises(TicketError, match="expired"):
        read_ticket(KEY, token, "Home", now=time.time() + 61)


def test_a_ticket_for_another_page_is_refused() -> None:
    token = issue_ticket(KEY, "Home", 1, "write")
    with pytest.raises(TicketError, match="another page"):
        read_ticket(KEY, token, "home")


def test_a_ticket_signed_with_another_key_is_refused() -> None:
    token = issue_ticket(b"x" * 32, "Home", 1, "write")
    with pytest.raises(TicketError, match="not valid"):
        read_ticket(KEY, token, "Home")


def test_a_tampered_ticket_is_refused() -> None:
    token = issue_ticket(KEY, "Home", 1, "read")
    payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["m"] = "write"
    body["a"] = 2
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    with pytest.raises(TicketError):
        read_ticket(KEY, forged + "." + signature, "Home")


@pytest.mark.parametrize("token", ["", ".", "abc", "abc.def", "a.b.c", "é.é", "x" * 5000,
                                   "e30." + "A" * 43])
def test_forged_and_damaged_tickets_are_refused_as_user_errors(token: str) -> None:
    with pytest.raises(TicketError) as caught:
        read_ticket(KEY, token, "Home")
    assert isinstance(caught.value, WikiError)


def test_a_changed_last_signature_letter_is_refused() -> None:
    # The last base64 letter of a 32-byte signature carries two spare bits: a decoder
    # ignores them, so only a text comparison refuses every one of these changes.
    token = issue_ticket(KEY, "Home", 1, "write")
    letters = string.ascii_letters + string.digits + "-_"
    for other in letters.replace(token[-1], ""):
        with pytest.raises(TicketError):
            read_ticket(KEY, token[:-1] + other, "Home")


def test_the_key_comes_from_the_wiki_secret_and_is_not_the_secret(tmp_path: Path) -> None:
    one = Settings.load({"data_dir": str(tmp_path / "a"), "secret_key": "s1"}, environ={})
    two = Settings.load({"data_dir": str(tmp_path / "b"), "secret_key": "s2"}, environ={})
    assert ticket_key(one) == ticket_key(one)
    assert ticket_key(one) != ticket_key(two)
    assert b"s1" not in ticket_key(one)
    token = issue_ticket(ticket_key(one), "Home", 1, "write")
    with pytest.raises(TicketError):
        read_ticket(ticket_key(two), token, "Home")


def test_an_unknown_mode_is_not_issued() -> None:
    with pytest.raises(ValueError):
        issue_ticket(KEY, "Home", 1, "admin")
