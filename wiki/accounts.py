"""Accounts: users with roles, scrypt password hashes, hashed personal tokens, login sessions
and the login throttle.

An account (who someone is, how they log in, their tokens) is the wiki's own, or
shared by every wiki of a --root on one PostgreSQL database (docs/design.md, "The
shared database"); a role and deactivation are always per wiki (`members`), and only
members count here: an account that is not a member of this wiki cannot log in to it.

The throttle locks an account, not a network: a workshop room shares one address,
so ten wrong passwords lock only the account they were typed for (until the
failures age out or a facilitator unlocks it); an address is stopped only at a
ceiling no room of typing people reaches.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Connection, RowMapping, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from storage.repository import Person
from wiki.db import Database
from wiki.dbdialect import insert_ignore, shares_accounts
from wiki.dbschema import members, sessions, tokens, users
from wiki.errors import N_, InvalidInput, PermissionDenied, TooManyRequests
from wiki.passwords import (
    DUMMY_HASH,
    check_identity,
    check_password,
    check_password_strength,
    hash_password,
    name_key,
    secret_hash,
)
from wiki.ratelimit import Limit, RateLimits

ROLES = ("reader", "participant", "facilitator")
LANGUAGES = ("en", "nl")  # interface languages; English is the source language
TOKEN_PREFIX = "cw_"  # noqa: S105 (a prefix, not a secret)
THROTTLE_WINDOW = 15 * 60
ACCOUNT_FAILURES = Limit(10, THROTTLE_WINDOW)  # then the account is locked
ADDRESS_FAILURES = Limit(200, THROTTLE_WINDOW)  # against scripts; a room shares an address
LOCK_PREFIX = "login:account:"
TOUCH_EVERY = 60  # seconds between 'last used' updates of a token
SESSION_SECONDS = 14 * 86400  # a login lasts this long after its last use
SESSION_TOUCH_EVERY = 86400  # seconds between extensions of a session's expiry


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


class LoginRefused(TooManyRequests):
    """Too many failed logins for this account, or from this address (HTTP 429)."""


class NotAMember(PermissionDenied):
    """The right name and password, of an account another wiki of the server knows."""

    def __init__(self) -> None:
        super().__init__(N_("Your account is not part of this wiki yet. Open the invite"
                            " link a facilitator of this wiki gave you and log in there."))


# An account with its role here (None: a shared account that is not a member here).
_ACCOUNT = select(users.c.id, users.c.name, users.c.email, users.c.password_hash,
                  users.c.language, users.c.session_generation, members.c.role,
                  members.c.active).outerjoin(members, members.c.user_id == users.c.id)
_MEMBER = _ACCOUNT.where(members.c.role.is_not(None))
_MEMBERS = _MEMBER.order_by(users.c.name)
_BY_TOKEN = _MEMBER.add_columns(tokens.c.id.label("token_id"), tokens.c.last_used) \
    .join(tokens, users.c.id == tokens.c.user_id).where(tokens.c.token_hash == bindparam("hash"))


def check_new_account(name: str, email: str, role: str, password: str) -> tuple[str, str]:
    """The name and email as an account keeps them; InvalidInput for a bad name, email,
    role or password (whether they are taken is the database's answer)."""
    check_role(role)
    return check_identity(name, email, password)


def check_role(role: str) -> None:
    """InvalidInput unless `role` is one of ROLES."""
    if role not in ROLES:
        raise InvalidInput(N_("role must be one of {roles}"), roles=", ".join(ROLES))


class Accounts:
    """Users, tokens, sessions and login throttling in the shared database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.limits = RateLimits(db)

    @cached_property
    def shared(self) -> bool:
        """True when the accounts are shared by the wikis of the server."""
        return shares_accounts(self.db.connect())

    def add_user(self, name: str, email: str, role: str, password: str) -> User:
        """Create an account; InvalidInput for a bad or taken name, email, role or password."""
        name, email = check_new_account(name, email, role, password)
        hashed = hash_password(password)  # slow on purpose: not while holding the database
        try:
            with self.db.transaction() as conn:
                # The unique name, name_key and email decide, also between two workers
                # adding the same person at once.
                now = time.time()
                user_id = conn.execute(insert(users).values(
                    name=name, name_key=name_key(name), email=email, password_hash=hashed,
                    created=now).returning(users.c.id)).scalar_one()
                conn.execute(insert(members).values(user_id=user_id, role=role, joined=now))
        except IntegrityError:
            raise InvalidInput(N_("that name or email is already in use")) from None
        return User(int(user_id), name, email, role, True)

    def admit(self, user_id: int, role: str) -> User:
        """Make an existing account (one the wikis of the server share) a member of this
        wiki with at least `role`: a member keeps a higher role, and a deactivated one
        stays deactivated."""
        check_role(role)
        with self.db.transaction() as conn:
            conn.execute(insert_ignore(self.db.dialect, members, {
                "user_id": user_id, "role": role, "joined": time.time()}))
            current = conn.execute(select(members.c.role).where(
                members.c.user_id == user_id)).scalar_one()
            if ROLES.index(current) < ROLES.index(role):
                conn.execute(update(members).where(members.c.user_id == user_id)
                             .values(role=role))
        user = self.get(user_id)
        assert user is not None
        return user

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
        """Change a user's role; this ends the user's sessions in this wiki."""
        check_role(role)
        with self.db.transaction() as conn:
            conn.execute(update(members).where(members.c.user_id == user.id)
                         .values(role=role))
            _end_sessions(conn, user.id, everywhere=not self.shared)

    def set_language(self, user: User, language: str) -> None:
        """Set the user's interface language ('' follows the browser's Accept-Language)."""
        if language and language not in LANGUAGES:
            raise InvalidInput(N_("language must be one of {languages}"),
                               languages=", ".join(LANGUAGES))
        with self.db.transaction() as conn:
            conn.execute(update(users).where(users.c.id == user.id).values(language=language))

    def set_active(self, user: User, active: bool) -> None:
        """Deactivate (no login, no tokens; history and attribution stay) or reactivate.
        Either way the user's sessions in this wiki end."""
        with self.db.transaction() as conn:
            conn.execute(update(members).where(members.c.user_id == user.id)
                         .values(active=int(active)))
            _end_sessions(conn, user.id, everywhere=not self.shared)

    def get(self, user_id: int) -> User | None:
        """The user with this id, or None."""
        row = self.db.connect().execute(
            _MEMBER.where(users.c.id == user_id)).mappings().first()
        return None if row is None else _user(row)

    def by_name(self, name: str) -> User | None:
        """The member with this name (NFKC, case-insensitive), or None."""
        row = self._row_by_name(name)
        return None if row is None or row["role"] is None else _user(row)

    def _row_by_name(self, name: str) -> RowMapping | None:
        # An exact match first: two accounts from before names were folded may share a key.
        exact = users.c.name == name.strip()
        return self.db.connect().execute(
            _ACCOUNT.where(or_(exact, users.c.name_key == name_key(name)))
            .order_by(exact.desc()).limit(1)).mappings().first()

    def has_account(self, name: str) -> bool:
        """True when `name` has an account (a member here or, shared, of another wiki)."""
        return self._row_by_name(name) is not None

    def all_users(self) -> list[User]:
        """All members by name."""
        rows = self.db.connect().execute(_MEMBERS).mappings().all()
        return [_user(row) for row in rows]

    def count(self) -> int:
        """Number of members."""
        return int(self.db.connect().execute(
            select(func.count()).select_from(members)).scalar_one())

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
            _BY_TOKEN, {"hash": secret_hash(token)}).mappings().first()
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
            _MEMBER.add_columns(sessions.c.expires)
            .join(sessions, users.c.id == sessions.c.user_id)
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

    def log_in(self, name: str, password: str, address: str | None,
               joining: str | None = None) -> User | None:
        """The active member with this name and password, counting a failure against the
        account and the address; LoginRefused while either is locked (nothing is checked
        then). A success forgets the account's failures, not the address's. With
        `joining` (a role, from an invite) the account becomes a member first; without,
        the right password of an account that is not a member raises NotAMember."""
        row = self._row_by_name(name)
        account, ip = _throttle_keys(row, name, address)
        self._refuse_when_locked(account, ip)
        stored = row["password_hash"] if row is not None else DUMMY_HASH
        if row is None or not check_password(stored, password):
            self.limits.record((account, ip), forget_before=THROTTLE_WINDOW)
            return None
        self.limits.clear((account,))
        if joining is not None:
            user = self.admit(row["id"], joining)
            return user if user.active else None
        if row["role"] is None:
            raise NotAMember()
        return _member(row)

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
    stored = row["password_hash"] if row is not None else DUMMY_HASH
    return _member(row) if check_password(stored, password) else None


def _member(row: RowMapping | None) -> User | None:
    """The active member `row` names, or None (no row, not a member, deactivated)."""
    return None if row is None or row["role"] is None or not row["active"] else _user(row)


def _end_sessions(conn: Connection, user_id: int, everywhere: bool = True) -> None:
    """End the user's sessions: in this wiki (its `sessions` rows), and `everywhere` also
    in the other wikis sharing the account (its generation, which every cookie carries)."""
    if everywhere:  # one statement: concurrent bumps each count
        conn.execute(update(users).where(users.c.id == user_id)
                     .values(session_generation=users.c.session_generation + 1))
    conn.execute(delete(sessions).where(sessions.c.user_id == user_id))


def _user(r: RowMapping) -> User:
    return User(r["id"], r["name"], r["email"], r["role"], bool(r["active"]), r["language"],
                r["session_generation"])
