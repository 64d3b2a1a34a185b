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
import time
import unicodedata
from dataclasses import dataclass

from sqlalchemy import Connection, RowMapping, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from storage.repository import Person
from wiki.db import Database
from wiki.dbschema import sessions, tokens, users
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
    """Users, tokens, sessions and login throttling in the shared database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.limits = RateLimits(db)

    def add_user(self, name: str, email: str, role: str, password: str) -> User:
        """Create an account; InvalidInput for a bad or taken name, email, role or password."""
        name, email = check_new_account(name, email, role, password)
        hashed = hash_password(password)  # slow on purpose: not while holding the database
        try:
            with self.db.transaction() as conn:
                # The unique name, name_key and email decide, also between two workers
                # adding the same person at once.
                user_id = conn.execute(insert(users).values(
                    name=name, name_key=name_key(name), email=email, role=role,
                    password_hash=hashed, created=time.time()).returning(users.c.id)).scalar_one()
        except IntegrityError:
            raise InvalidInput(N_("that name or email is already in use")) from None
        return User(int(user_id), name, email, role, True)

    def set_password(self, user: User, password: str) -> None:
        """Replace a user's password; this ends all of the user's sessions and lifts a
        lockout (the guesses were at the old password)."""
        check_password_strength(password, user.name, user.email)
        hashed = hash_password(password)
        with self.db.transaction() as conn:
            conn.execute(update(users).where(users.c.id == user.id)
                         .values(password_hash=hashed))
            _end_sessions(conn, user.id)
        self.unlock(user)

    def set_role(self, user: User, role: str) -> None:
        """Change a user's role; this ends the user's sessions."""
        if role not in ROLES:
            raise InvalidInput(N_("role must be one of {roles}"), roles=", ".join(ROLES))
        with self.db.transaction() as conn:
            conn.execute(update(users).where(users.c.id == user.id).values(role=role))
            _end_sessions(conn, user.id)

    def set_language(self, user: User, language: str) -> None:
        """Set the user's interface language ('' follows the browser's Accept-Language)."""
        if language and language not in LANGUAGES:
            raise InvalidInput(N_("language must be one of {languages}"),
                               languages=", ".join(LANGUAGES))
        with self.db.transaction() as conn:
            conn.execute(update(users).where(users.c.id == user.id).values(language=language))

    def set_active(self, user: User, active: bool) -> None:
        """Deactivate (no login, no tokens; history and attribution stay) or reactivate.
        Either way the user's sessions end."""
        with self.db.transaction() as conn:
            conn.execute(update(users).where(users.c.id == user.id).values(active=int(active)))
            _end_sessions(conn, user.id)

    def get(self, user_id: int) -> User | None:
        """The user with this id, or None."""
        row = self.db.connect().execute(
            select(users).where(users.c.id == user_id)).mappings().first()
        return None if row is None else _user(row)

    def by_name(self, name: str) -> User | None:
        """The user with this name (NFKC, case-insensitive), or None."""
        row = self._row_by_name(name)
        return None if row is None else _user(row)

    def _row_by_name(self, name: str) -> RowMapping | None:
        # An exact match first: two accounts from before names were folded may share a key.
        exact = users.c.name == name.strip()
        return self.db.connect().execute(
            select(users).where(or_(exact, users.c.name_key == name_key(name)))
            .order_by(exact.desc()).limit(1)).mappings().first()

    def all_users(self) -> list[User]:
        """All users by name."""
        rows = self.db.connect().execute(select(users).order_by(users.c.name)).mappings().all()
        return [_user(row) for row in rows]

    def count(self) -> int:
        """Number of accounts."""
        return int(self.db.connect().execute(
            select(func.count()).select_from(users)).scalar_one())

    def authenticate(self, name: str, password: str) -> User | None:
        """The active user with this name and password, else None (same work either way).
        Not throttled: people logging in go through `log_in`."""
        return _checked(self._row_by_name(name), password)

    def create_token(self, user: User, label: str = "token") -> str:
        """A new personal access token for `user`; the secret is returned only now."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.db.transaction() as conn:
            conn.execute(insert(tokens).values(
                user_id=user.id, token_hash=secret_hash(token),
                label=label.strip()[:80] or "token", created=time.time()))
        return token

    def user_for_token(self, name: str, token: str) -> User | None:
        """The active user owning `token`, if `name` matches its owner."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        row = self.db.connect().execute(
            select(users, tokens.c.id.label("token_id"), tokens.c.last_used)
            .join(tokens, users.c.id == tokens.c.user_id)
            .where(tokens.c.token_hash == secret_hash(token))).mappings().first()
        if row is None or not row["active"] or name_key(row["name"]) != name_key(name):
            return None
        now = time.time()
        if (row["last_used"] or 0) < now - TOUCH_EVERY:
            with self.db.transaction() as conn:
                conn.execute(update(tokens).where(tokens.c.id == row["token_id"])
                             .values(last_used=now))
        return _user(row)

    def tokens(self, user: User) -> list[Token]:
        """The user's tokens, newest first."""
        rows = self.db.connect().execute(
            select(tokens.c.id, tokens.c.label, tokens.c.created, tokens.c.last_used)
            .where(tokens.c.user_id == user.id).order_by(tokens.c.created.desc())).all()
        return [Token(*row) for row in rows]

    def revoke_token(self, user: User, token_id: int) -> None:
        """Delete one of the user's tokens."""
        with self.db.transaction() as conn:
            conn.execute(delete(tokens).where(tokens.c.id == token_id,
                                              tokens.c.user_id == user.id))

    # -- sessions --------------------------------------------------------------

    def start_session(self, user: User) -> str:
        """A new login session for `user`: its secret id, for the session cookie only."""
        sid, now = secrets.token_urlsafe(32), time.time()
        with self.db.transaction() as conn:
            conn.execute(delete(sessions).where(sessions.c.expires < now))
            conn.execute(insert(sessions).values(sid_hash=secret_hash(sid), user_id=user.id,
                                                 created=now, expires=now + SESSION_SECONDS))
        return sid

    def session_user(self, user_id: int, generation: int, sid: str) -> User | None:
        """The active user of a live session, or None once it ended (logout, new password,
        role change, deactivation, 'log out everywhere', or two weeks unused)."""
        now = time.time()
        sid_hash = secret_hash(sid)
        row = self.db.connect().execute(
            select(users, sessions.c.expires).join(sessions, users.c.id == sessions.c.user_id)
            .where(sessions.c.sid_hash == sid_hash, users.c.id == user_id,
                   users.c.session_generation == generation, sessions.c.expires > now)
        ).mappings().first()
        if row is None or not row["active"]:
            return None
        if row["expires"] < now + SESSION_SECONDS - SESSION_TOUCH_EVERY:
            with self.db.transaction() as conn:
                conn.execute(update(sessions).where(sessions.c.sid_hash == sid_hash)
                             .values(expires=now + SESSION_SECONDS))
        return _user(row)

    def end_session(self, sid: str) -> None:
        """End one session (logging out): every copy of its cookie stops working."""
        with self.db.transaction() as conn:
            conn.execute(delete(sessions).where(sessions.c.sid_hash == secret_hash(sid)))

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


def _throttle_keys(row: RowMapping | None, name: str, address: str | None) -> tuple[str, str]:
    # The account as the wiki finds it, so ' bob' and 'BOB' (and a look-alike name kept
    # from before names were folded) count against the account they log in to. A name
    # without an account counts by its folded form: it locks like a real one, so the
    # lock tells nothing about who has an account.
    account = (f"{LOCK_PREFIX}{row['id']}" if row is not None
               else f"login:name:{name_key(name)}")
    return account, f"login:ip:{address}"


def _checked(row: RowMapping | None, password: str) -> User | None:
    stored = row["password_hash"] if row is not None else _DUMMY_HASH
    ok = check_password(stored, password)
    return _user(row) if ok and row is not None and row["active"] else None


def _end_sessions(conn: Connection, user_id: int) -> None:
    # One statement: concurrent bumps each count, and a session cookie signed with the
    # generation before any of them fails.
    conn.execute(update(users).where(users.c.id == user_id)
                 .values(session_generation=users.c.session_generation + 1))
    conn.execute(delete(sessions).where(sessions.c.user_id == user_id))


def _user(r: RowMapping) -> User:
    return User(r["id"], r["name"], r["email"], r["role"], bool(r["active"]), r["language"],
                r["session_generation"])
