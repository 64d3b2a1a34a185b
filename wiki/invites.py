"""Invite links: a facilitator invites people with a role; they pick a name and password.

An invite has a role, an expiry and a number of uses. Redeeming takes one
use atomically before the account is made (and gives it back if the name or
email is refused), so a link for 30 people admits 30, even under load.
Failed attempts are counted per invite and, with a far higher ceiling, per
client address (a workshop room shares one); a successful join counts nothing,
the invite's uses limit those.
An invite dies with its creator's role: it admits people only while whoever
made it is active and still holds a role at least as high as the invite's.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import segno
from sqlalchemy import ColumnElement, RowMapping, case, exists, insert, select, update

from wiki.accounts import ROLES, Accounts, User
from wiki.dbschema import invites, members, users
from wiki.errors import N_, InvalidInput, PageNotFound, TooManyRequests
from wiki.ratelimit import Limit

DAY = 86400
MAX_DAYS = 365
MAX_USES = 1000
MAX_CODE = 100
JOIN_WINDOW = 15 * 60
# Failed joins (a weak password, a taken name) per invite: some for each of a room of
# 35; a script probing which emails have accounts stops here.
INVITE_FAILURES = Limit(100, JOIN_WINDOW)
ADDRESS_FAILURES = Limit(200, JOIN_WINDOW)  # per address: only scripts get this far


@dataclass(frozen=True)
class Invite:
    """An invite link's code and limits."""

    code: str
    role: str
    created_by: str
    created: float
    expires: float
    max_uses: int
    uses: int
    revoked: bool
    creator_may_invite: bool = True  # False once its creator lost the role or left

    def usable(self, now: float | None = None) -> bool:
        """True when the link still admits someone."""
        moment = time.time() if now is None else now
        return (not self.revoked and self.creator_may_invite and self.uses < self.max_uses
                and moment < self.expires)


class InviteInvalid(PageNotFound):
    """The invite code is unknown, used up, expired or revoked (HTTP 404)."""


def _rank(role: ColumnElement[str]) -> ColumnElement[int]:
    return case({name: rank for rank, name in enumerate(ROLES)}, value=role)


_creator = members.alias("creator")
# The invite's creator is active and holds a role at least as high as the invite's.
_CREATOR_MAY_INVITE = exists().where(_creator.c.user_id == invites.c.created_by,
                                     _creator.c.active != 0,
                                     _rank(_creator.c.role) >= _rank(invites.c.role))
_SELECT = (select(invites, users.c.name.label("by"),
                  _CREATOR_MAY_INVITE.label("creator_may_invite"))
           .outerjoin(users, users.c.id == invites.c.created_by))


class Invites:
    """Invites in the shared database; accounts are created through `Accounts`."""

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts
        self.db = accounts.db

    def create(self, by: User, role: str, expires_days: int, max_uses: int) -> Invite:
        """A new invite link; InvalidInput for a bad role, expiry or number of uses."""
        if role not in ROLES:
            raise InvalidInput(N_("role must be one of {roles}"), roles=", ".join(ROLES))
        if not by.can(role):
            raise InvalidInput(N_("you can only invite people to a role you have yourself"))
        if not _whole(expires_days) or not 1 <= expires_days <= MAX_DAYS:
            raise InvalidInput(N_("expires_days must be 1-{most}"), most=MAX_DAYS)
        if not _whole(max_uses) or not 1 <= max_uses <= MAX_USES:
            raise InvalidInput(N_("max_uses must be 1-{most}"), most=MAX_USES)
        code = secrets.token_urlsafe(18)
        now = time.time()
        with self.db.transaction() as conn:
            conn.execute(insert(invites).values(
                code=code, role=role, created_by=by.id, created=now,
                expires=now + expires_days * DAY, max_uses=max_uses))
        return Invite(code, role, by.name, now, now + expires_days * DAY, max_uses, 0, False)

    def get(self, code: str) -> Invite | None:
        """The invite with this code (usable or not), or None."""
        row = self.db.connect().execute(
            _SELECT.where(invites.c.code == code)).mappings().first()
        return None if row is None else _invite(row)

    def usable(self, code: str) -> Invite:
        """The invite if it still admits someone; InviteInvalid otherwise."""
        invite = self.get(code) if isinstance(code, str) and len(code) < MAX_CODE else None
        if invite is None or not invite.usable():
            raise InviteInvalid(N_("This invite link is unknown, expired or used up."
                                   " Ask a facilitator for a new one."))
        return invite

    def all(self) -> list[Invite]:
        """Every invite, newest first."""
        rows = self.db.connect().execute(
            _SELECT.order_by(invites.c.created.desc())).mappings().all()
        return [_invite(r) for r in rows]

    def revoke(self, code: str) -> None:
        """Stop an invite from admitting anyone else."""
        with self.db.transaction() as conn:
            conn.execute(update(invites).where(invites.c.code == code).values(revoked=1))

    def register(self, code: str, name: str, email: str, password: str,
                 address: str | None = None) -> User:
        """Create an account with the invite's role, using one of its uses. A refused
        attempt counts against the invite and the client's address; TooManyRequests once
        either had too many."""
        keys = (f"join:invite:{code[:MAX_CODE]}", f"join:ip:{address}")
        limits = self.accounts.limits
        wait = max(limits.wait(keys[0], INVITE_FAILURES), limits.wait(keys[1], ADDRESS_FAILURES))
        if wait:
            raise TooManyRequests(N_("Too many attempts. Wait a few minutes."),
                                  retry_after=int(wait))
        try:
            return self._register(code, name, email, password)
        except (InvalidInput, InviteInvalid):
            limits.record(keys, forget_before=JOIN_WINDOW)
            raise

    def join(self, code: str, name: str, password: str, address: str | None = None) -> User:
        """Make the existing account `name` (shared by the wikis of the server) a member
        with the invite's role, using one of its uses, after checking its password
        through the login throttle (LoginRefused); InvalidInput when they do not match."""
        invite = self._take_use(code)
        try:
            user = self.accounts.log_in(name, password, address, joining=invite.role)
        except BaseException:
            self._give_back(code)
            raise
        if user is None:
            self._give_back(code)
            raise InvalidInput(N_("That name and password do not match an account here."))
        return user

    def _register(self, code: str, name: str, email: str, password: str) -> User:
        invite = self._take_use(code)
        try:
            return self.accounts.add_user(name, email, invite.role, password)
        except InvalidInput:
            self._give_back(code)
            raise

    def _take_use(self, code: str) -> Invite:
        invite = self.usable(code)
        with self.db.transaction() as conn:
            # One statement: PostgreSQL re-checks `uses < max_uses` on the row a
            # concurrent join just counted, so the last use is taken once.
            taken = conn.execute(
                update(invites).where(invites.c.code == code, invites.c.revoked == 0,
                                      invites.c.uses < invites.c.max_uses,
                                      invites.c.expires > time.time(),
                                      _CREATOR_MAY_INVITE)
                .values(uses=invites.c.uses + 1)).rowcount
        if taken != 1:
            raise InviteInvalid(N_("This invite link was used up a moment ago."))
        return invite

    def _give_back(self, code: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(update(invites).where(invites.c.code == code)
                         .values(uses=invites.c.uses - 1))


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _invite(r: RowMapping) -> Invite:
    return Invite(r["code"], r["role"], r["by"] or "", r["created"], r["expires"], r["max_uses"],
                  r["uses"], bool(r["revoked"]), bool(r["creator_may_invite"]))


def qr_svg(text: str) -> str:
    """`text` (an invite link) as a QR code in inline SVG that CSS can size, for a
    projector or a phone screen; made here, so no outside service sees the link."""
    code = segno.make(text, error="m", micro=False)
    return code.svg_inline(border=4, omitsize=True, svgclass="qr", lineclass=None,
                           light="#fff")
