"""Every check and listener of the change front door, in one list (see wiki/changes.py).

`open_data_dir` calls `wire` once per data directory. To follow a write
through the wiki, read this file top to bottom: checks run in order before
the commit and may refuse it; listeners run in order after it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wiki import audit
from wiki.changes import PAGE_EDITS, SERVER, Change, Check, Kind, Listener
from wiki.errors import N_, PageExists, PermissionDenied
from wiki.followups import follow_renames_and_deletes, new_pages_join_the_outline
from wiki.live.notify import live_rooms
from wiki.notifications import followed_pages
from wiki.phases import guard, is_facilitator

if TYPE_CHECKING:
    from wiki.datadir import Services

COMMITTING = frozenset(Kind) - {Kind.FROZEN}
HOME = "Home"


def wire(services: Services) -> None:
    """Hang the checks and listeners on the services' change door."""
    audit.configure()  # audit lines on stderr, from the web, the CLI and hooks alike
    door = services.changes
    door.add_check("freeze guard", guard(services.db))
    door.add_check("case-twin guard", case_twin_guard(services))
    door.add_check("home guard", home_guard(services))
    # Follow-up commits first, so the listeners after them see the final head.
    door.add_listener("links and outline", follow_renames_and_deletes(services.repo,
                                                                   services.language))
    door.add_listener("new pages in the outline", new_pages_join_the_outline(services.repo,
                                                                          services.language))
    door.add_listener("comments and reactions", comments_follow(services))
    door.add_listener("followed pages", followed_pages(services.notifications))
    door.add_listener("drafts", forget_drafts(services))
    door.add_listener("audit", audit.change)
    door.add_listener("housekeeping", housekeeping(services))
    # What follows once the answer is out (wiki/views/followups.py), first things first:
    # the rings of the processes that show the change to others (both also look at the
    # head by themselves), then a cache of git and the files the next save writes into.
    door.add_listener("search index", search_index(services), after_answer=True)
    door.add_listener("live rooms", live_rooms(services.settings), after_answer=True)
    door.add_listener("page metadata", services.pagemeta.follow, after_answer=True)
    door.add_listener("spare object files", spare_object_files(services), after_answer=True)


def case_twin_guard(services: Services) -> Check:
    """Refuse a new page whose name differs from another page's only in case."""
    wiki = services.pages

    def check(change: Change) -> None:
        if change.kind is Kind.CREATED:
            wiki.refuse_case_twin(change.pages[0])
        elif change.kind is Kind.RENAMED:
            old, new = change.pages
            twin = wiki.find(new)
            if twin not in (None, old, new):
                raise PageExists(N_("a page called “{name}” already exists"), name=twin)
        elif change.kind is Kind.IMPORTED:
            seen: dict[str, str] = {}
            for name in change.pages:
                other = seen.setdefault(name.casefold(), name)
                if other != name:
                    raise PageExists(N_("“{name}” and “{other}” differ only in upper and lower"
                                        " case; keep one of them"), name=name, other=other)
                wiki.refuse_case_twin(name)

    return check


def home_guard(services: Services) -> Check:
    """Only facilitators delete or rename Home, the page everyone lands on."""

    def check(change: Change) -> None:
        if (change.kind in (Kind.DELETED, Kind.RENAMED) and change.via != SERVER.via
                and change.pages[0].casefold() == HOME.casefold()
                and not is_facilitator(services.db, change.author)):
            raise PermissionDenied(N_("only facilitators may delete or rename {name}"),
                                   name=HOME)

    return check


def comments_follow(services: Services) -> Listener:
    """Comments, page reactions and suggestions move with a renamed page."""

    def listener(change: Change) -> None:
        if change.kind is Kind.RENAMED:
            old, new = change.pages
            services.comments.move(old, new)
            services.reactions.move_page(old, new)
            services.suggestions.move(old, new)

    return listener


def forget_drafts(services: Services) -> Listener:
    """A page saved for real no longer needs its author's autosaved draft."""

    def listener(change: Change) -> None:
        # Accepting someone's suggestion saves their text, not the accepter's draft.
        if (change.kind in PAGE_EDITS and change.account is not None
                and change.via != "suggestion"):
            services.drafts.forget(change.pages[0], change.account)

    return listener


def housekeeping(services: Services) -> Listener:
    """Commit-graph and `git gc --auto` every few commits, and at once after bulk changes."""

    def listener(change: Change) -> None:
        if change.kind in (Kind.IMPORTED, Kind.PUSHED):
            services.housekeeper.due()
        elif change.kind in COMMITTING and change.details.get("changed", True):
            services.housekeeper.saved()

    return listener


def spare_object_files(services: Services) -> Listener:
    """Make the files the next saves write their objects into (storage/loose.py), in a
    server after the answer. A one-shot command would make them only to remove them
    at exit (and 256 fan-out folders in a new wiki): it writes into new files."""

    def listener(_change: Change) -> None:
        if services.changes.answers_first:
            services.repo.after_answer()

    return listener


def search_index(services: Services) -> Listener:
    """The index catches up: the index process is rung, or this process does it."""

    def listener(_change: Change) -> None:
        services.indexer.notify()

    return listener
