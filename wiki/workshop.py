"""Page lists sorted by discussion: comments and agree/disagree reactions per page.

(The freeze check and comments following a rename are wired in wiki/wiring.py.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wiki.comments import Comments
from wiki.pages import PageSummary
from wiki.reactions import Reactions

SORTS = ("name", "discussed", "agreed")


@dataclass(frozen=True)
class RankedPage:
    """A page in the list with its number of comments and agree/disagree reactions."""

    page: PageSummary
    comments: int
    agree: int
    disagree: int


def rank_pages(comments: Comments, reactions: Reactions, pages: Sequence[PageSummary],
               sort: str) -> list[RankedPage]:
    """Pages with their activity, by name, most discussed or most agreed."""
    if sort not in SORTS:
        sort = "name"
    talk = comments.counts()
    agree, disagree = reactions.page_totals("agree"), reactions.page_totals("disagree")
    ranked = [RankedPage(p, talk.get(p.name.casefold(), 0), agree.get(p.name.casefold(), 0),
                         disagree.get(p.name.casefold(), 0)) for p in pages]
    if sort == "discussed":
        ranked.sort(key=lambda r: -r.comments)
    elif sort == "agreed":
        ranked.sort(key=lambda r: (-r.agree, r.disagree))
    return ranked
