"""A person's contributions (commits from git, comments from SQLite) and the Atom feed."""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask_babel import gettext

from wiki import revisions
from wiki.errors import PageNotFound
from wiki.feed import Feed, FeedEntry, atom
from wiki.people import display_names
from wiki.revisions import RecentChange
from wiki.views import services
from wiki.views.access import allow
from wiki.views.i18n import change_kind
from wiki.views.security import external_url
from wiki.views.workshop import comments, viewer

bp = Blueprint("people", __name__)
FEED_SIZE = 50


def identity(name: str) -> tuple[str, str, int | None]:
    """(name, email, account id) of an account, else of a git author; PageNotFound if neither.

    A name some commit was made with leads to its account when the commit's
    email belongs to one, so an old link to "B. de Vries" shows Bert's page.
    """
    accounts = services().accounts
    account = accounts.by_name(name)
    wanted = name.strip().casefold()
    if account is None:
        person = next((p for p in revisions.contributors(services().pages)
                       if p.name.casefold() == wanted), None)
        if person is None:
            raise PageNotFound(gettext("nobody called %(name)s", name=name))
        account = next((u for u in accounts.all_users()
                        if u.email.casefold() == person.email.casefold()), None)
        if account is None:
            return person.name, person.email, None
    return account.name, account.email, account.id


@bp.get("/people/<name>")
@allow("reader")
def person(name: str) -> str:
    shown, email, account_id = identity(name)
    changes = revisions.recent_changes(services().pages, limit=100, author_email=email,
                                       names=display_names(services().accounts))
    stats = next((c for c in revisions.contributors(services().pages, services().accounts)
                  if c.email.casefold() == email.casefold()), None)
    said = comments().by_user(account_id, viewer()) if account_id is not None else []
    account = services().accounts.get(account_id) if account_id is not None else None
    return render_template("people/person.html", name=shown, changes=changes, stats=stats,
                           comments=said, account=account)


def feed_entry(change: RecentChange) -> FeedEntry:
    """A commit as a feed entry linking to its change (or the wiki's changes)."""
    page = change.pages[0] if len(change.pages) == 1 else None
    if page is not None and page.kind != "deleted":
        link = external_url("history.diff", path=page.name, to=change.revision)
    else:
        link = external_url("history.changes")
    title = (gettext("%(page)s %(kind)s by %(author)s", page=page.name,
                     kind=change_kind(page.kind), author=change.author) if page is not None
             else f"{change.message.splitlines()[0] if change.message else change.revision[:10]}")
    return FeedEntry(id=f"urn:cowiki:commit:{change.revision}", title=title, link=link,
                     updated=change.date, author=change.author, summary=change.message)


@bp.get("/changes.atom")
@allow("reader")
def changes_feed() -> Response:
    entries = revisions.recent_changes(services().pages, limit=FEED_SIZE,
                                       names=display_names(services().accounts))
    feed = Feed(title=gettext("%(site)s: recent changes", site=services().settings.site_name),
                self_url=external_url("people.changes_feed"),
                site_url=external_url("history.changes"),
                entries=[feed_entry(c) for c in entries])
    return Response(atom(feed), mimetype="application/atom+xml")
