"""Workshop phases: a facilitator freezes a page, a folder (chapter) or the whole wiki.

A frozen scope is read-only for participants; facilitators may still edit.
The check runs in the domain: `install` hangs `guard` in front of every page
save, delete, rename and upload, so web, API and CLI writes all obey it.
Git pushes are checked by the pre-receive hook, which calls `is_frozen`.

Scopes are stored by name: `WIKI` for everything, else a page name that also
covers every page below it (`Chapter 1` freezes `Chapter 1/Market`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from storage.names import normalize_page_name
from storage.repository import Person, Repository
from storage.versions import Version, freeze
from wiki.accounts import User
from wiki.changes import Change, ChangeDoor, Check, Kind
from wiki.db import Database
from wiki.dbdialect import insert_ignore
from wiki.dbschema import frozen as frozen_table
from wiki.dbschema import members, users
from wiki.errors import N_, Frozen, InvalidInput

WIKI = "wiki"  # "wiki" is a reserved first page segment, so no page can be called that


@dataclass(frozen=True)
class FrozenScope:
    """One frozen scope: WIKI, a folder or a page, who froze it and when."""

    scope: str
    by: str
    at: float

    @property
    def whole_wiki(self) -> bool:
        """True when the whole wiki is frozen."""
        return self.scope == WIKI


def normalize_scope(scope: str) -> str:
    """'wiki' (any case) or a valid page/folder name; InvalidInput otherwise."""
    if not isinstance(scope, str) or not scope.strip():
        raise InvalidInput(N_("give a scope: 'wiki', a folder or a page"))
    if scope.strip().strip("/").casefold() == WIKI:
        return WIKI
    return normalize_page_name(scope)


def covers(scope: str, name: str) -> bool:
    """True when `scope` freezes page (or attachment path) `name`."""
    if scope == WIKI:
        return True
    folded, wanted = name.casefold(), scope.casefold()
    return folded == wanted or folded.startswith(wanted + "/")


# Built once (every page view asks): building costs more than SQLite's answer.
_SCOPES = select(frozen_table.c.scope, frozen_table.c.at,
                 func.coalesce(users.c.name, "").label("by")) \
    .outerjoin(users, users.c.id == frozen_table.c.user_id) \
    .order_by(frozen_table.c.scope != WIKI, frozen_table.c.scope)


def frozen_scopes(db: Database) -> list[FrozenScope]:
    """Every frozen scope, the whole wiki first."""
    rows = db.connect().execute(_SCOPES).mappings().all()
    return [FrozenScope(r["scope"], r["by"], r["at"]) for r in rows]


def is_frozen(db: Database, name: str) -> FrozenScope | None:
    """The scope that freezes page `name` (a page name or repository path), or None.

    For the git pre-receive hook: pass the page name (`Chapter 1/Market`) or a
    file path; a `.md` suffix is ignored.
    """
    return covering(frozen_scopes(db), name)


def covering(scopes: list[FrozenScope], name: str) -> FrozenScope | None:
    """The first of `scopes` that freezes `name` (a `.md` suffix is ignored), or None."""
    name = name.removesuffix(".md")
    return next((s for s in scopes if covers(s.scope, name)), None)


def set_frozen(db: Database, scope: str, frozen: bool, by_user_id: int | None) -> str:
    """Freeze or unfreeze `scope` (idempotent); returns the normalised scope."""
    scope = normalize_scope(scope)
    with db.transaction() as conn:
        if frozen:
            conn.execute(insert_ignore(db.dialect, frozen_table, {
                "scope": scope, "user_id": by_user_id, "at": time.time()}))
        else:
            conn.execute(delete(frozen_table).where(frozen_table.c.scope == scope))
    return scope


def is_facilitator(db: Database, person: Person) -> bool:
    """True when `person` (a commit author) is an active facilitator of this wiki."""
    # Commit authors carry the account's email, which is unique per account.
    found = db.connect().execute(
        select(users.c.id).join(members, members.c.user_id == users.c.id).where(
            users.c.email == person.email, members.c.role == "facilitator",
            members.c.active == 1).limit(1)).first()
    return found is not None


GUARDED = frozenset({Kind.CREATED, Kind.SAVED, Kind.DELETED, Kind.RENAMED, Kind.REVERTED,
                     Kind.UPLOADED, Kind.IMPORTED})


def guard(db: Database) -> Check:
    """The freeze check of the change door: Frozen when a non-facilitator writes a frozen page.

    Pushes are checked by the pre-receive hook; the outline and freezing are
    facilitators' work anyway.
    """

    def check(change: Change) -> None:
        if change.kind not in GUARDED:
            return
        for name in change.pages:
            check_page(name, change.author)

    def check_page(name: str, author: Person) -> None:
        scope = is_frozen(db, name)
        if scope is None or is_facilitator(db, author):
            return
        if scope.whole_wiki:
            raise Frozen(N_("The whole wiki is frozen by a facilitator: it is read-only for now."))
        raise Frozen(N_("“{scope}” is frozen by a facilitator: it is read-only for now."),
                     scope=scope.scope)

    return check


class Phases:
    """Freezing scopes and versions, each published as a `frozen` change."""

    def __init__(self, db: Database, repo: Repository, door: ChangeDoor) -> None:
        self.db = db
        self.repo = repo
        self.door = door

    def set_frozen(self, scope: str, frozen: bool, by: User, via: str = "web") -> str:
        """Freeze or unfreeze `scope` for participants (idempotent); the normalised scope."""
        change = Change(Kind.FROZEN, (normalize_scope(scope),), by.person, by.id, via=via,
                        details={"frozen": frozen})
        self.door.check(change)
        scope = set_frozen(self.db, scope, frozen, by.id)
        self.door.publish(change)
        return scope

    def freeze_version(self, commit: str, by: User, message: str = "",
                       via: str = "web") -> tuple[Version, bool]:
        """Tag `commit` as the next whitepaper version (whitepaper-vN).

        Returns:
            The version and True when it is new; the commit's existing version
            and False when it was frozen before (nothing changes then).
        """
        change = Change(Kind.FROZEN, (), by.person, by.id, commit, via)
        self.door.check(change)
        version, created = freeze(self.repo, commit, by.person, message)
        if created:
            self.door.publish(change.committed(version.commit, version=version.name))
        return version, created
