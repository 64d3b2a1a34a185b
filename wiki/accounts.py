"""Accounts: users with roles, scrypt password hashes, hashed personal tokens, login sessions
and the login throttle.

The throttle locks an account, not a network: a workshop room shares one address,
so ten wrong passwords lock only the account they were typed for (until the
failures age out or a facilitator unlocks it); an address is stopped only at a
ceiling no room of typing people reaches.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import time
import unicodedata
from dataclasses import dataclass

from storage.repository import Person
from wiki.db import Database
from wiki.errors import N_, InvalidInput, PermissionDenied, TooManyRequests
from wiki.passwords import check_password_strength, name_key
from wiki.ratelimit import Limit, RateLimits

ROLES = ("reader", "participant", "facilitator")
LANGUAGES = ("en", "nl")  # interface languages; English is the source language
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
TOKEN_PREFIX = "cw_"  # noqa: S105 (a prefix, not a secret)
THROTTLE_WINDOW = 15 * 60
ACCOUNT_FAILURES = Limit(10, THROTTLE_WINDOW)  # then the account is locked
ADDRESS_FAILURES = Limit(200, THROTTLE_WINDOW)  # against scripts; a room shares an address
LOCK_PREFIX = "login:account:"
TOUCH_EVERY = 60  # seconds between 'last used' updates of a token
SESSION_SECONDS = 14 * 86400  # a login lasts this long after its last use
SESSION_TOUCH_EVERY = 86400  # seconds between extensions of a session's expiry
_NAME = re.compile(r"[^\W_][\w .\-]{0,39}", re.UNICODE)
_EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")


@dataclass(frozen=True)
class User:
    """An account. `role` is one of ROLES."""

    id: int
    name: str
    email: str
    role: str
    active: bool
    language: str = ""  # one of LANGUAGES, or "" to follow the browser
    generation: int = 0  # sessions started under an older generation are over

    def can(self, role: str) -> bool:
        """True when this user's role is at least `role`."""
        return self.active and ROLES.index(self.role) >= ROLES.index(role)

    @property
    def person(self) -> Person:
        """The git identity commits by this user carry."""
        return Person(self.name, self.email)


@dataclass(frozen=True)
class Token:
    """A personal access token as listed to its owner (never the secret)."""

    id: int
    label: str
    created: float
    last_used: float | None


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


_DUMMY_HASH = hash_password(secrets.token_hex(8))


class LoginRefused(TooManyRequests):
    """Too many failed logins for this account, or from this address (HTTP 429)."""


def secret_hash(token: str) -> str:
    """How a random secret (token, session id, reset link) is stored."""
    # Such secrets are 256 random bits, so a fast hash is enough to make a stolen
    # database useless; passwords get scrypt.
    return hashlib.sha256(token.encode()).hexdigest()



def check_new_account(name: str, email: str, role: str, password: str) -> tuple[str, str]:
    """The name and email as an account keeps them; InvalidInput for a bad name, email,
    role or password (whether they are taken is the database's answer)."""
    name, email = unicodedata.normalize("NFKC", name).strip(), email.strip()
    if not _NAME.fullmatch(name):
        raise InvalidInput(N_("names are 1-40 letters, digits, spaces, '.', '-' or '_'"))
    if not _EMAIL.fullmatch(email) or len(email) > 200:
        raise InvalidInput(N_("that is not an email address"))
    if role not in ROLES:
        raise InvalidInput(N_("role must be one of {roles}"), roles=", ".join(ROLES))
    check_password_strength(password, name, email)
    return name, email

class Accounts:
    """Users, tokens and login throttling in SQLite."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.limits = RateLimits(db)

    def add_user(self, name: str, email: str, role: str, password: str) -> User:
        """Create an account; InvalidInput for a bad or taken name, email, role or password."""
        name, email = check_new_account(name, email, role, password)
        with self.db.transaction() as conn:
            taken = conn.execute("SELECT 1 FROM users WHERE name = ? OR name_key = ? OR email = ?",
                                 (name, name_key(name), email)).fetchone()
            if taken:
                raise InvalidInput(N_("that name or email is already in use"))
            cur = conn.execute(
                "INSERT INTO users (name, name_key, email, role, password_hash, created)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (name, name_key(name), email, role, hash_password(password), time.time()),
            )
        return User(int(cur.lastrowid or 0), name, email, role, True)

    def set_password(self, user: User, password: str) -> None:
        """Replace a user's password; this ends all of the user's sessions and lifts a
        lockout (the guesses were at the old password)."""
        check_password_strength(password, user.name, user.email)
        with self.db.transaction() as conn:
            conn.execute("UPDATE users SET password_hash = ? WHERE id = ?",
                         (hash_password(password), user.id))
            _end_sessions(conn, user.id)
        self.unlock(user)

    def set_role(self, user: User, role: str) -> None:
        """Change a user's role; this ends the user's sessions."""
        if role not in ROLES:
            raise InvalidInput(N_("role must be one of {roles}"), roles=", ".join(ROLES))
        with self.db.transaction() as conn:
            conn.execute("UPDATE users SET role = ? WHERE id = ?", (role, user.id))
            _end_sessions(conn, user.id)

    def set_language(self, user: User, language: str) -> None:
        """Set the user's interface language ('' follows the browser's Accept-Language)."""
        if language and language not in LANGUAGES:
            raise InvalidInput(N_("language must be one of {languages}"),
                               languages=", ".join(LANGUAGES))
        with self.db.transaction() as conn:
            conn.execute("UPDATE users SET language = ? WHERE id = ?", (language, user.id))

    def set_active(self, user: User, active: bool) -> None:
        """Deactivate (no login, no tokens; history and attribution stay) or reactivate.
        Either way the user's sessions end."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE users SET active = ? WHERE id = ?", (int(active), user.id))
            _end_sessions(conn, user.id)

    def get(self, user_id: int) -> User | None:
        """The user with this id, or None."""
        row = self.db.connect().execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        return _user(row)

    def by_name(self, name: str) -> User | None:
        """The user with this name (NFKC, case-insensitive), or None."""
        return _user(self._row_by_name(name))

    def _row_by_name(self, name: str) -> object:
        # An exact match first: two accounts from before names were folded may share a key.
        return self.db.connect().execute(
            "SELECT * FROM users WHERE name = ? OR name_key = ? ORDER BY name = ? DESC LIMIT 1",
            (name.strip(), name_key(name), name.strip())).fetchone()

    def all_users(self) -> list[User]:
        """All users by name."""
        rows = self.db.connect().execute("SELECT * FROM users ORDER BY name").fetchall()
        return [u for u in map(_user, rows) if u is not None]

    def count(self) -> int:
        """Number of accounts."""
        return int(self.db.connect().execute("SELECT count(*) FROM users").fetchone()[0])

    def authenticate(self, name: str, password: str) -> User | None:
        """The active user with this name and password, else None (same work either way).
        Not throttled: people logging in go through `log_in`."""
        return _checked(self._row_by_name(name), password)

    def create_token(self, user: User, label: str = "token") -> str:
        """A new personal access token for `user`; the secret is returned only now."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO tokens (user_id, token_hash, label, created) VALUES (?, ?, ?, ?)",
                (user.id, secret_hash(token), label.strip()[:80] or "token", time.time()),
            )
        return token

    def user_for_token(self, name: str, token: str) -> User | None:
        """The active user owning `token`, if `name` matches its owner."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        conn = self.db.connect()
        row = conn.execute(
            "SELECT users.*, tokens.id AS token_id, tokens.last_used FROM tokens JOIN users"
            " ON users.id = tokens.user_id WHERE token_hash = ?",
            (secret_hash(token),),
        ).fetchone()
        user = _user(row)
        if user is None or not user.active or name_key(user.name) != name_key(name):
            return None
        now = time.time()
        if (row["last_used"] or 0) < now - TOUCH_EVERY:
            with self.db.transaction() as write:
                write.execute("UPDATE tokens SET last_used = ? WHERE id = ?",
                              (now, row["token_id"]))
        return user

    def tokens(self, user: User) -> list[Token]:
        """The user's tokens, newest first."""
        rows = self.db.connect().execute(
            "SELECT id, label, created, last_used FROM tokens WHERE user_id = ?"
            " ORDER BY created DESC", (user.id,)).fetchall()
        return [Token(r["id"], r["label"], r["created"], r["last_used"]) for r in rows]

    def revoke_token(self, user: User, token_id: int) -> None:
        """Delete one of the user's tokens."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM tokens WHERE id = ? AND user_id = ?", (token_id, user.id))

    # -- sessions --------------------------------------------------------------

    def start_session(self, user: User) -> str:
        """A new login session for `user`: its secret id, for the session cookie only."""
        sid, now = secrets.token_urlsafe(32), time.time()
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE expires < ?", (now,))
            conn.execute("INSERT INTO sessions (sid_hash, user_id, created, expires)"
                         " VALUES (?, ?, ?, ?)",
                         (secret_hash(sid), user.id, now, now + SESSION_SECONDS))
        return sid

    def session_user(self, user_id: int, generation: int, sid: str) -> User | None:
        """The active user of a live session, or None once it ended (logout, new password,
        role change, deactivation, 'log out everywhere', or two weeks unused)."""
        now = time.time()
        row = self.db.connect().execute(
            "SELECT users.*, sessions.expires FROM sessions JOIN users ON users.id = user_id"
            " WHERE sid_hash = ? AND user_id = ? AND session_generation = ? AND expires > ?",
            (secret_hash(sid), user_id, generation, now)).fetchone()
        user = _user(row)
        if user is None or not user.active:
            return None
        if row["expires"] < now + SESSION_SECONDS - SESSION_TOUCH_EVERY:
            with self.db.transaction() as conn:
                conn.execute("UPDATE sessions SET expires = ? WHERE sid_hash = ?",
                             (now + SESSION_SECONDS, secret_hash(sid)))
        return user

    def end_session(self, sid: str) -> None:
        """End one session (logging out): every copy of its cookie stops working."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE sid_hash = ?", (secret_hash(sid),))

    def end_all_sessions(self, user: User) -> None:
        """Log the user out everywhere."""
        with self.db.transaction() as conn:
            _end_sessions(conn, user.id)

    # -- login throttling ------------------------------------------------------

    def log_in(self, name: str, password: str, address: str | None) -> User | None:
        """The active user with this name and password, counting a failure against the
        account and the address; LoginRefused while either is locked (nothing is checked
        then). A success forgets the account's failures, not the address's."""
        row = self._row_by_name(name)
        account, ip = _throttle_keys(row, name, address)
        self._refuse_when_locked(account, ip)
        user = _checked(row, password)
        if user is None:
            self.limits.record((account, ip), forget_before=THROTTLE_WINDOW)
        else:
            self.limits.clear((account,))
        return user

    def change_password(self, user: User, old: str, new: str, address: str | None) -> None:
        """Set a new password after checking the old one through the login throttle
        (PermissionDenied when wrong); ends all of the user's sessions."""
        if self.log_in(user.name, old, address) is None:
            raise PermissionDenied(N_("Your current password was not right; nothing changed."))
        self.set_password(user, new)

    def locked_ids(self) -> set[int]:
        """Ids of the accounts locked by failed logins right now."""
        keys = self.limits.keys_at_limit(LOCK_PREFIX, ACCOUNT_FAILURES)
        return {int(key.removeprefix(LOCK_PREFIX)) for key in keys}

    def unlock(self, user: User) -> None:
        """Forget the account's failed logins, so that it can log in again at once."""
        self.limits.clear((f"{LOCK_PREFIX}{user.id}",))

    def _refuse_when_locked(self, account: str, ip: str) -> None:
        wait = self.limits.wait(account, ACCOUNT_FAILURES)
        if wait:
            raise LoginRefused(N_("Too many failed logins for this account: it is locked. Try"
                                  " again in {minutes} min, or ask a facilitator to unlock"
                                  " it."),
                               retry_after=int(wait), minutes=-(-int(wait) // 60))
        wait = self.limits.wait(ip, ADDRESS_FAILURES)
        if wait:
            raise LoginRefused(N_("Too many failed logins from your network. Wait a few"
                                  " minutes."), retry_after=int(wait))


def _throttle_keys(row: object, name: str, address: str | None) -> tuple[str, str]:
    # The account as the wiki finds it, so ' bob' and 'BOB' (and a look-alike name kept
    # from before names were folded) count against the account they log in to. A name
    # without an account counts by its folded form: it locks like a real one, so the
    # lock tells nothing about who has an account.
    account = (f"{LOCK_PREFIX}{row['id']}" if row is not None  # type: ignore[index]
               else f"login:name:{name_key(name)}")
    return account, f"login:ip:{address}"


def _checked(row: object, password: str) -> User | None:
    stored = row["password_hash"] if row else _DUMMY_HASH  # type: ignore[index]
    ok = check_password(stored, password)
    user = _user(row)
    return user if ok and user is not None and user.active else None


def _end_sessions(conn: sqlite3.Connection, user_id: int) -> None:
    conn.execute("UPDATE users SET session_generation = session_generation + 1 WHERE id = ?",
                 (user_id,))
    conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))


def _user(row: object) -> User | None:
    if row is None:
        return None
    r = row  # sqlite3.Row
    return User(r["id"], r["name"], r["email"], r["role"], bool(r["active"]),  # type: ignore[index]
                r["language"], r["session_generation"])  # type: ignore[index]
