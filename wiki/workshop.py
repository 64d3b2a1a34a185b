"""Wiring the workshop into the page store, and page lists sorted by discussion.

`install` hangs the freeze check in front of every page and attachment
write and lets comments and page reactions follow a rename.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wiki.attachments import Attachments
from wiki.comments import Comments
from wiki.db import Database
from wiki.pages import PageSummary, Wiki
from wiki.phases import guard
from wiki.reactions import Reactions
from wiki.render import Renderer

SORTS = ("name", "discussed", "agreed")


@dataclass(frozen=True)
class RankedPage:
    """A page in the list with its number of comments and agree/disagree reactions."""

    page: PageSummary
    comments: int
    agree: int
    disagree: int


def install(wiki: Wiki, attachments: Attachments, db: Database) -> None:
    """Enforce frozen scopes on writes and move comments and reactions with a renamed page."""
    check = guard(db)
    wiki.write_checks.append(check)
    attachments.write_checks.append(check)
    comments, reactions = Comments(db, Renderer()), Reactions(db)

    def follow(old: str, new: str) -> None:
        comments.move(old, new)
        reactions.move_page(old, new)

    wiki.rename_listeners.append(follow)


def rank_pages(db: Database, pages: Sequence[PageSummary], sort: str) -> list[RankedPage]:
    """Pages with their activity, by name, most discussed or most agreed."""
    if sort not in SORTS:
        sort = "name"
    talk = Comments(db, Renderer()).counts()
    reactions = Reactions(db)
    agree, disagree = reactions.page_totals("agree"), reactions.page_totals("disagree")
    ranked = [RankedPage(p, talk.get(p.name.casefold(), 0), agree.get(p.name.casefold(), 0),
                         disagree.get(p.name.casefold(), 0)) for p in pages]
    if sort == "discussed":
        ranked.sort(key=lambda r: -r.comments)
    elif sort == "agreed":
        ranked.sort(key=lambda r: (-r.agree, r.disagree))
    return ranked
