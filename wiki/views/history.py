"""Browser routes for the past: page history, diff, blame, recent changes, contributors."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint, render_template, request
from flask_babel import gettext

from storage.names import normalize_page_name, validate_revision, whole_number
from wiki import diffs, revisions
from wiki.errors import InvalidInput
from wiki.people import display_names
from wiki.revisions import RecentChange, Revision
from wiki.views import services
from wiki.views.access import allow
from wiki.views.degraded import or_else

bp = Blueprint("history", __name__)
PER_PAGE = 50


def page_number() -> int:
    """The ?page= argument, 1 or more."""
    number = whole_number(request.args.get("page", "1"), 1, 100000)
    if number is None:
        raise InvalidInput(gettext("page must be a positive number"))
    return number


def pushers(entries: Sequence[Revision | RecentChange]) -> dict[str, str]:
    """Who pushed each of `entries` where it is not its author (none while the database
    cannot say: the history itself comes from git)."""
    log = services().pushlog
    return or_else(lambda: log.pushed_by_others((e.revision, e.email) for e in entries), {})


@bp.get("/p/<path:path>/history")
@allow("reader")
def page_history(path: str) -> str:
    number = page_number()
    wiki = services().pages
    entries = revisions.history(wiki, path, limit=PER_PAGE + 1, skip=(number - 1) * PER_PAGE,
                                names=display_names(services().accounts))
    pushed_by = pushers(entries)
    return render_template("history/history.html", name=normalize_page_name(path),
                           entries=entries[:PER_PAGE], number=number,
                           more=len(entries) > PER_PAGE, pushed_by=pushed_by)


@bp.get("/p/<path:path>/diff")
@allow("reader")
def diff(path: str) -> str:
    wiki = services().pages
    name = normalize_page_name(path)
    raw_from, raw_to = request.args.get("from"), request.args.get("to")
    if not raw_from and not raw_to:
        # Without versions: the page's own last change, not the wiki's last commit.
        last = [e.revision for e in revisions.history(wiki, name, limit=2)]
        raw_to = last[0] if last else None
        raw_from = last[1] if len(last) > 1 else None
    to_rev = validate_revision(raw_to or wiki.head() or "")
    from_rev = validate_revision(raw_from) if raw_from else revisions.parent_of(wiki, to_rev)
    old, new = revisions.texts(wiki, name, from_rev, to_rev) if from_rev else (
        "", revisions.texts(wiki, name, to_rev, to_rev)[1])
    mode = "inline" if request.args.get("mode") == "inline" else "side"
    rows = diffs.side_by_side(old, new)
    return render_template("history/diff.html", name=name, from_rev=from_rev, to_rev=to_rev,
                           mode=mode, rows=rows,
                           lines=diffs.inline_rows(rows) if mode == "inline" else [],
                           stats=diffs.row_stats(rows))


@bp.get("/p/<path:path>/blame")
@allow("reader")
def blame(path: str) -> str:
    rev = request.args.get("rev")
    lines = revisions.blame(services().pages, path, validate_revision(rev) if rev else None,
                            names=display_names(services().accounts))
    return render_template("history/blame.html", name=normalize_page_name(path), lines=lines)


@bp.get("/changes")
@allow("reader")
def changes() -> str:
    number = page_number()
    entries = revisions.recent_changes(services().pages, limit=PER_PAGE + 1,
                                       skip=(number - 1) * PER_PAGE,
                                       names=display_names(services().accounts))
    pushed_by = pushers(entries)
    return render_template("history/changes.html", entries=entries[:PER_PAGE], number=number,
                           more=len(entries) > PER_PAGE, pushed_by=pushed_by)


@bp.get("/contributors")
@allow("reader")
def contributors() -> str:
    people = revisions.contributors(services().pages, services().accounts)
    return render_template("history/contributors.html", people=people)
