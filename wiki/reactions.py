"""One-click reactions on pages and comments: agree, disagree and a few emoji.

Each person has at most one reaction of each kind per target; reacting
again takes it back (a toggle). Targets are `page:<name>` or `comment:<id>`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, bindparam, case, delete, exists, func, select, update

from storage.names import normalize_page_name
from wiki import dbdialect
from wiki.accounts import User
from wiki.db import Database
from wiki.dbschema import reactions
from wiki.errors import N_, InvalidInput

KINDS = ("agree", "disagree", "thumbsup", "heart", "idea", "question")


@dataclass(frozen=True)
class Tally:
    """Counts per kind (every kind, zeros included) and the kinds the viewer chose."""

    counts: dict[str, int]
    mine: frozenset[str]

    @property
    def total(self) -> int:
        """All reactions together."""
        return sum(self.counts.values())


def page_target(name: str) -> str:
    """The reaction target of a page."""
    return "page:" + normalize_page_name(name)


def comment_target(comment_id: int) -> str:
    """The reaction target of a comment."""
    return f"comment:{int(comment_id)}"


def _one(target: str, user_id: int, kind: str) -> ColumnElement[bool]:
    return and_(reactions.c.target == target, reactions.c.user_id == user_id,
                reactions.c.kind == kind)


# Built once (every page view tallies): building costs more than SQLite's answer.
_TALLIES = select(
    reactions.c.target, reactions.c.kind, func.count(),
    func.sum(case((reactions.c.user_id == bindparam("viewer"), 1), else_=0)),
).where(reactions.c.target.in_(bindparam("targets", expanding=True))) \
    .group_by(reactions.c.target, reactions.c.kind)


class Reactions:
    """Reactions in the shared database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def toggle(self, target: str, user: User, kind: str) -> Tally:
        """Add the user's reaction of `kind`, or take it back if it was there."""
        if kind not in KINDS:
            raise InvalidInput(N_("kind must be one of {kinds}"), kinds=", ".join(KINDS))
        mine = _one(target, user.id, kind)
        with self.db.transaction() as conn:
            # Clicks at the same moment (PostgreSQL runs them side by side) take turns, so
            # each one toggles, as on SQLite; without the lock two would both insert.
            dbdialect.lock_key(conn, f"reaction {user.id} {kind} {target.casefold()}")
            if not conn.execute(delete(reactions).where(mine)).rowcount:
                conn.execute(dbdialect.insert_ignore(self.db.dialect, reactions, {
                    "target": target, "user_id": user.id, "kind": kind,
                    "created": time.time()}))
        return self.tally(target, user)

    def tally(self, target: str, viewer: User | None = None) -> Tally:
        """Counts for one target and the viewer's own reactions."""
        return self.tallies([target], viewer)[target]

    def tallies(self, targets: Iterable[str], viewer: User | None = None) -> dict[str, Tally]:
        """Counts for many targets in one query."""
        wanted = list(dict.fromkeys(targets))
        counts = {t: dict.fromkeys(KINDS, 0) for t in wanted}
        mine: dict[str, set[str]] = {t: set() for t in wanted}
        if wanted:
            rows = self.db.connect().execute(_TALLIES, {
                "targets": wanted, "viewer": viewer.id if viewer else -1}).all()
            for target, kind, number, own in rows:
                key = next((t for t in wanted if t.casefold() == str(target).casefold()), None)
                if key is not None and kind in KINDS:
                    counts[key][kind] = int(number)
                    if own:
                        mine[key].add(kind)
        return {t: Tally(counts[t], frozenset(mine[t])) for t in wanted}

    def page_totals(self, kind: str) -> dict[str, int]:
        """Reactions of `kind` per page name, case-folded (for 'most agreed')."""
        rows = self.db.connect().execute(
            select(reactions.c.target, func.count())
            .where(dbdialect.starts_with(reactions.c.target, "page:"), reactions.c.kind == kind)
            .group_by(reactions.c.target)).all()
        return {str(target)[5:].casefold(): int(number) for target, number in rows}

    def move_page(self, old: str, new: str) -> None:
        """Follow a page rename; a reaction the new name already has from the same person
        stays, the old one goes."""
        before, after = "page:" + old, "page:" + new
        there = reactions.alias("there")
        clash = exists().where(there.c.target == after, there.c.target != before,  # case only:
                               there.c.user_id == reactions.c.user_id,  # the same rows
                               there.c.kind == reactions.c.kind)
        with self.db.transaction() as conn:
            conn.execute(delete(reactions).where(reactions.c.target == before, clash))
            conn.execute(update(reactions).where(reactions.c.target == before)
                         .values(target=after))
