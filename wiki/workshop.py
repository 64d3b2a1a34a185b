"""Page lists sorted by discussion: comments and agree/disagree reactions per page.

(The freeze check and comments following a rename are wired in wiki/wiring.py.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wiki.comments import Comments
from wiki.pagelist import PageSummary
from wiki.reactions import Reactions

SORTS = ("name", "discussed", "agreed")
ALL = slice(None)


@dataclass(frozen=True)
class RankedPage:
    """A page in the list with its number of comments and agree/disagree reactions."""

    page: PageSummary
    comments: int
    agree: int
    disagree: int


def rank_pages(comments: Comments, reactions: Reactions, pages: Sequence[PageSummary],
               sort: str, window: slice = ALL) -> list[RankedPage]:
    """The pages in `window` of the list by name (`pages` is sorted by name), most
    discussed or most agreed, with their activity. By name only the window is
    counted, so a page of a 10,000-page list costs what a page of a small one does."""
    if sort not in SORTS:
        sort = "name"
    talk = comments.counts()
    agree, disagree = reactions.page_totals("agree"), reactions.page_totals("disagree")

    def ranked(page: PageSummary) -> RankedPage:
        key = page.name.casefold()
        return RankedPage(page, talk.get(key, 0), agree.get(key, 0), disagree.get(key, 0))

    if sort == "name":
        return [ranked(page) for page in pages[window]]
    everything = [ranked(page) for page in pages]
    if sort == "discussed":
        everything.sort(key=lambda r: -r.comments)
    else:
        everything.sort(key=lambda r: (-r.agree, r.disagree))
    return everything[window]
