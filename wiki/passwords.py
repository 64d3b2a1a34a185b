"""What makes a password acceptable, and the one canonical form of an account name.

Names are compared by `name_key` (NFKC, case-folded, stripped), so `Ａｎｎａ` in
full width and `anna` are the same account. Passwords are refused when short,
very common (wiki/data/common-passwords.txt) or just the person's name or email.
They are kept as salted scrypt hashes; random secrets (tokens, session ids, reset
links) as SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from functools import cache
from importlib import resources

from wiki.errors import N_, InvalidInput

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
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


_NAME = re.compile(r"[^\W_][\w .\-]{0,39}", re.UNICODE)
_EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")


def check_identity(name: str, email: str, password: str) -> tuple[str, str]:
    """The name and email as a new account keeps them; InvalidInput for a bad name,
    email or password."""
    name, email = unicodedata.normalize("NFKC", name).strip(), email.strip()
    if not _NAME.fullmatch(name):
        raise InvalidInput(N_("names are 1-40 letters, digits, spaces, '.', '-' or '_'"))
    if not _EMAIL.fullmatch(email) or len(email) > 200:
        raise InvalidInput(N_("that is not an email address"))
    check_password_strength(password, name, email)
    return name, email


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


def hash_password(password: str) -> str:
    """A salted scrypt hash in the form scrypt$n$r$p$salt$hash."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(stored: str, password: str) -> bool:
    """Constant-time comparison of `password` with a stored scrypt hash."""
    try:
        _, n, r, p, salt, digest = stored.split("$")
        candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt),
                                   n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate.hex(), digest)


DUMMY_HASH = hash_password(secrets.token_hex(8))


def secret_hash(token: str) -> str:
    """How a random secret (token, session id, reset link) is stored."""
    # Such secrets are 256 random bits, so a fast hash is enough to make a stolen
    # database useless; passwords get scrypt.
    return hashlib.sha256(token.encode()).hexdigest()
