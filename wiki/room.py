"""What the facilitator's control room shows besides presence, reports and changes.

Pages the whitepaper's outline leaves out, and pages nobody has touched since
the wiki made them (every commit on them is the server's own).
"""

from __future__ import annotations

from storage.names import page_name_from_file
from wiki.export.outline import Outline
from wiki.pagelist import PageSummary
from wiki.pages import PageStore

LOG_BATCH = 500
MAX_COMMITS = 20_000  # a workshop day makes a few thousand; beyond this, stop looking


def outside_outline(pages: list[PageSummary], outline: Outline) -> list[PageSummary]:
    """Existing pages the outline does not list ('not in the whitepaper yet')."""
    listed = {name.casefold() for name in outline.pages}
    return [p for p in pages if p.name.casefold() not in listed]


def touched_by_people(store: PageStore) -> set[str]:
    """Case-folded names of pages some person (not the server) created, edited or renamed.

    One walk over the history in batches, rather than a log per page.
    """
    server = store.repo.committer
    touched: set[str] = set()
    for skip in range(0, MAX_COMMITS, LOG_BATCH):
        entries = store.history.log(limit=LOG_BATCH, skip=skip)
        for entry in entries:
            if (entry.author, entry.email) == (server.name, server.email):
                continue
            for change in entry.changes:
                for path in (change.path, change.old_path):
                    name = page_name_from_file(path) if path else None
                    if name:
                        touched.add(name.casefold())
        if len(entries) < LOG_BATCH:
            break
    return touched


def untouched(store: PageStore) -> list[PageSummary]:
    """Pages that only the server's own commits (the wiki's start) ever changed."""
    touched = touched_by_people(store)
    return [p for p in store.all_pages() if p.name.casefold() not in touched]
