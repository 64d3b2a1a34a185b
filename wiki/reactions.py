"""One-click reactions on pages and comments: agree, disagree and a few emoji.

Each person has at most one reaction of each kind per target; reacting
again takes it back (a toggle). Targets are `page:<name>` or `comment:<id>`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from storage.names import normalize_page_name
from wiki.accounts import User
from wiki.db import Database
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


class Reactions:
    """Reactions in SQLite."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def toggle(self, target: str, user: User, kind: str) -> Tally:
        """Add the user's reaction of `kind`, or take it back if it was there."""
        if kind not in KINDS:
            raise InvalidInput(N_("kind must be one of {kinds}"), kinds=", ".join(KINDS))
        with self.db.transaction() as conn:
            gone = conn.execute("DELETE FROM reactions WHERE target = ? AND user_id = ?"
                                " AND kind = ?", (target, user.id, kind)).rowcount
            if not gone:
                conn.execute("INSERT INTO reactions (target, user_id, kind, created)"
                             " VALUES (?, ?, ?, ?)", (target, user.id, kind, time.time()))
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
            marks = ",".join("?" * len(wanted))
            rows = self.db.connect().execute(
                f"SELECT target, kind, count(*), sum(user_id = ?) FROM reactions"  # noqa: S608
                f" WHERE target IN ({marks}) GROUP BY target, kind",
                (viewer.id if viewer else -1, *wanted)).fetchall()
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
            "SELECT substr(target, 6), count(*) FROM reactions WHERE target LIKE 'page:%'"
            " AND kind = ? GROUP BY target", (kind,)).fetchall()
        return {str(r[0]).casefold(): int(r[1]) for r in rows}

    def move_page(self, old: str, new: str) -> None:
        """Follow a page rename."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE OR IGNORE reactions SET target = ? WHERE target = ?",
                         ("page:" + new, "page:" + old))
            conn.execute("DELETE FROM reactions WHERE target = ?", ("page:" + old,))
