"""What makes a password acceptable, and the one canonical form of an account name.

Names are compared by `name_key` (NFKC, case-folded, stripped), so `Ａｎｎａ` in
full width and `anna` are the same account. Passwords are refused when short,
very common (wiki/data/common-passwords.txt) or just the person's name or email.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

from wiki.errors import N_, InvalidInput

MIN_PASSWORD = 8
MAX_PASSWORD = 1024


def name_key(name: str) -> str:
    """The form two names share when people would take them for the same name."""
    return unicodedata.normalize("NFKC", name).casefold().strip()


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, case-folded."""
    text = resources.files("wiki").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def _letters(text: str) -> str:
    return "".join(c for c in name_key(text) if c.isalpha())


def check_password_strength(password: object, name: str = "", email: str = "") -> None:
    """InvalidInput unless `password` is long enough, not common and not the person's name."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InvalidInput(N_("passwords have at least {count} characters"),
                           count=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(N_("password is too long"))
    if unicodedata.normalize("NFKC", password).casefold() in common_passwords():
        raise InvalidInput(N_("that password is one of the most common ones; pick another"))
    # 'Anna2024!' for Anna: the letters of the password are her name or email.
    own = {_letters(name), _letters(email), _letters(email.partition("@")[0])} - {""}
    if _letters(password) in own or name_key(password) in {name_key(name), name_key(email)}:
        raise InvalidInput(N_("a password cannot be your name or email"))
