"""The facilitator's control room: one screen for the workshop afternoon.

Who is editing what, reports waiting, pages outside the whitepaper, pages
nobody touched, the latest changes and a freeze switch per phase. It reloads
itself (static/room.js) and works without JavaScript. The menu's report
badge is computed here too, for facilitators only.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from storage.names import normalize_page_name
from wiki import revisions, room
from wiki.export import outline as outlines
from wiki.phases import WIKI, frozen_scopes
from wiki.views import author, origin, services
from wiki.views.access import allow

bp = Blueprint("room", __name__, url_prefix="/admin")
RECENT = 12  # changes shown


@bp.get("/room")
@allow("facilitator")
def index() -> str:
    s = services()
    pages = s.pages.all_pages()
    current = outlines.load(s.repo, s.repo.head(), s.settings.site_name)
    folders = sorted({p.name.rsplit("/", 1)[0] for p in pages if "/" in p.name},
                     key=str.casefold)
    frozen = {scope.scope.casefold(): scope for scope in frozen_scopes(s.db)}
    return render_template(
        "admin/room.html", editors=s.presence.everyone(), reported=s.comments.reported(),
        outside=room.outside_outline(pages, current), untouched=room.untouched(s.pages),
        changes=revisions.recent_changes(s.pages, limit=RECENT),
        scopes=[WIKI, *folders], frozen=frozen, WIKI=WIKI)


@bp.post("/room/outline")
@allow("facilitator")
def add_to_outline() -> Response:
    s = services()
    name = normalize_page_name(request.form.get("page", ""))
    current = outlines.load(s.repo, s.repo.head(), s.settings.site_name)
    if name.casefold() not in (p.casefold() for p in current.pages):
        changed = outlines.parse({**current.to_json(), "pages": [*current.pages, name]})
        outlines.save(s.repo, changed, author(), s.changes, origin())
    flash(gettext("Added %(page)s to the whitepaper.", page=name))
    return redirect(url_for("room.index") + "#outside")


@bp.app_context_processor
def report_badge() -> dict[str, Any]:
    """The number of reports waiting, for the menu; one count query, facilitators only."""
    if not current_user.is_authenticated or not current_user.user.can("facilitator"):
        return {"reports_waiting": 0}
    return {"reports_waiting": services().comments.reported_count()}
