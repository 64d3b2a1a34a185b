"""One-time password reset links, for people who forgot their password.

A facilitator (admin page or API) or the operator (`cowiki passwd NAME
--reset-link`) makes a link (only the operator for accounts the wikis of a server
share); only a hash of its secret is stored. The link works
once, for a day, and only the newest one of an account works. Opening it changes
nothing (link previews in chat apps open links too); setting a password through
it ends every other session of the account and lifts a lockout.
"""

from __future__ import annotations

import secrets
import time

from sqlalchemy import delete, insert, select, update

from wiki.accounts import Accounts, User
from wiki.dbdialect import lock_key
from wiki.dbschema import password_resets as resets
from wiki.errors import N_, InvalidInput, PageNotFound, PermissionDenied
from wiki.passwords import check_password_strength, secret_hash

RESET_SECONDS = 24 * 3600
KEEP_SECONDS = 7 * 86400  # used and expired links stay this long, to say why they fail
MAX_TOKEN = 100


class ResetInvalid(PageNotFound):
    """The reset link is unknown, used, replaced or expired (HTTP 404)."""


class PasswordResets:
    """Reset links in the shared database; passwords are set through `Accounts`."""

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts
        self.db = accounts.db

    def issue(self, user: User, by: User | None = None) -> str:
        """A new link secret for `user` (the URL's last part); earlier links stop working."""
        if not user.active:
            raise InvalidInput(N_("{name} is deactivated; reactivate them first"),
                               name=user.name)
        if by is not None and self.accounts.shared:
            # A facilitator of one workshop must not take over an account that other
            # workshops of the server trust too.
            raise PermissionDenied(N_("{name} uses one account for all workshops on this"
                                      " server, so only they (on their account page) or the"
                                      " server's administrator can change its password."),
                                   name=user.name)
        secret, now = secrets.token_urlsafe(32), time.time()
        with self.db.transaction() as conn:
            lock_key(conn, f"reset:{user.id}")  # two links made at once: the later one works
            conn.execute(delete(resets).where(resets.c.expires < now - KEEP_SECONDS))
            conn.execute(update(resets).where(resets.c.user_id == user.id,
                                              resets.c.used.is_(None)).values(used=now))
            conn.execute(insert(resets).values(
                secret_hash=secret_hash(secret), user_id=user.id,
                created_by=by.id if by else None, created=now, expires=now + RESET_SECONDS))
        return secret

    def user_for(self, secret: str) -> User:
        """The account a still-valid link resets; ResetInvalid saying why it is not."""
        row = None
        if isinstance(secret, str) and len(secret) <= MAX_TOKEN:
            row = self.db.connect().execute(
                select(resets.c.user_id, resets.c.expires, resets.c.used)
                .where(resets.c.secret_hash == secret_hash(secret))).mappings().first()
        user = self.accounts.get(row["user_id"]) if row is not None else None
        if row is None or user is None or not user.active:
            raise ResetInvalid(N_("This password reset link is unknown. Check that you copied"
                                  " all of it, or ask a facilitator for a new one."))
        if row["used"] is not None:
            raise _used()
        if row["expires"] <= time.time():
            raise ResetInvalid(N_("This password reset link has expired (links work for a"
                                  " day). Ask a facilitator for a new one."))
        return user

    def redeem(self, secret: str, password: str) -> User:
        """Set the account's new password and use up the link; the account as it is now.
        A refused password (InvalidInput) leaves the link working, to try another."""
        user = self.user_for(secret)
        check_password_strength(password, user.name, user.email)
        now = time.time()
        with self.db.transaction() as conn:
            # One statement marks it used: of two tabs at once, one claims the link.
            claimed = conn.execute(
                update(resets).where(resets.c.secret_hash == secret_hash(secret),
                                     resets.c.used.is_(None), resets.c.expires > now)
                .values(used=now)).rowcount
        if claimed != 1:  # a second tab was a moment faster
            raise _used()
        self.accounts.set_password(user, password)  # ends sessions, lifts a lockout
        return self.accounts.get(user.id) or user  # with its new session generation


def _used() -> ResetInvalid:
    return ResetInvalid(N_("This password reset link was already used, or a newer one was"
                           " made. Ask a facilitator for a new one."))

