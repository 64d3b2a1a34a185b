"""The bell: notifications list and mark-read, following pages, the e-mail choice, and the
JSON for @name completion and the notifications API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from storage.names import whole_number
from wiki.errors import N_, InvalidInput
from wiki.mentions import MentionIndex
from wiki.notifications import (
    EMAIL_CHOICES,
    QUOTED_KINDS,
    Notification,
    Notifications,
    sentence,
)
from wiki.views import me, services
from wiki.views.access import ROWID, allow, login_required_response
from wiki.views.api import body
from wiki.views.i18n import current_language

bp = Blueprint("notifications", __name__)
api = Blueprint("notifications_api", __name__, url_prefix="/api/v1")
MAX_PREFIX = 40
MAX_IDS = 500


def notes() -> Notifications:
    return services().notifications


def names() -> MentionIndex:
    """The comment store's index of people (so completion and links agree)."""
    index = services().comments.names
    return index if index is not None else MentionIndex(services().accounts)


def shown(note: Notification) -> dict[str, Any]:
    """A notification as the list and the API show it, in the reader's language."""
    return {"id": note.id, "kind": note.kind, "page": note.page, "actor": note.actor,
            "text": sentence(current_language(), note.kind, note.actor, note.page),
            "quote": note.summary if note.kind in QUOTED_KINDS else "",
            "link": request.script_root + note.link, "created": note.created,
            "read": note.read}


@bp.app_template_global()
def unread_notifications() -> int:
    """The bell's count for the logged-in person (one indexed query), else 0."""
    if not current_user.is_authenticated:
        return 0
    return notes().unread_count(me().id)


@bp.app_template_global()
def following(page: str) -> bool:
    """True when the logged-in person follows `page`."""
    return current_user.is_authenticated and notes().follows(me().id, page)


@bp.app_template_global()
def email_choices() -> tuple[str, ...]:
    """What a person may choose for e-mail (none, immediate, digest)."""
    return EMAIL_CHOICES


@bp.app_template_global()
def digest_minutes() -> int:
    """How long a digest collects notifications (COWIKI_DIGEST_MINUTES)."""
    return max(1, services().settings.digest_minutes)


@bp.app_template_global()
def email_choice() -> str:
    """The logged-in person's e-mail choice, or '' when this wiki sends no e-mail."""
    if not current_user.is_authenticated or services().mailer is None:
        return ""
    return notes().email_choice(me().id)


@bp.get("/notifications")
@allow("reader")
def index() -> str | Response:
    if not current_user.is_authenticated:  # a public wiki's anonymous reader has none
        return login_required_response()
    listed = [shown(n) for n in notes().recent(me().id)]
    return render_template("notifications/list.html", notifications=listed,
                           unread=sum(not n["read"] for n in listed))


@bp.post("/notifications/<int:notification_id>/read")
@allow("reader")
def mark_read(notification_id: int) -> Response:
    notes().mark_read(me().id, notification_id)
    return redirect(url_for("notifications.index"))


@bp.post("/notifications/read-all")
@allow("reader")
def mark_all_read() -> Response:
    notes().mark_all_read(me().id)
    return redirect(url_for("notifications.index"))


@bp.post("/p/<path:path>/follow")
@allow("reader")
def follow(path: str) -> Response:
    page = services().pages.get(services().pages.find(path) or path).name
    if request.form.get("follow") == "1":
        notes().follow(me().id, page)
        flash(gettext("You follow %(page)s: its changes show under the bell.", page=page))
    else:
        notes().unfollow(me().id, page)
        flash(gettext("You no longer follow %(page)s.", page=page))
    return redirect(url_for("pages.view", path=page))


@bp.post("/account/notifications")
@allow("reader")
def choose_email() -> Response:
    notes().set_email_choice(me().id, request.form.get("email", ""))
    flash(gettext("Your e-mail choice is saved."))
    return redirect(url_for("auth.account") + "#notifications")


@api.get("/people")
@allow("reader")
def people() -> Response:
    prefix = request.args.get("prefix", "")
    if len(prefix) > MAX_PREFIX:
        raise InvalidInput(N_("'prefix' is at most {count} characters"), count=MAX_PREFIX)
    return jsonify(people=names().completions(prefix.lstrip("@")))


@api.get("/notifications")
@allow("reader")
def api_list() -> Response:
    if not current_user.is_authenticated:
        return login_required_response()
    return jsonify(unread=notes().unread_count(me().id),
                   notifications=[shown(n) for n in notes().recent(me().id)])


@api.post("/notifications/read")
@allow("reader")
def api_read() -> Response:
    data = body()
    if data.get("all") is True:
        notes().mark_all_read(me().id)
    else:
        ids = data.get("ids")
        numbers = [whole_number(i, 1, ROWID) for i in ids] if isinstance(ids, list) else [None]
        if not numbers or len(numbers) > MAX_IDS or None in numbers:
            raise InvalidInput(N_("give 'ids' (a list of notification ids) or 'all': true"))
        for number in numbers:
            notes().mark_read(me().id, int(number or 0))
    return jsonify(unread=notes().unread_count(me().id))

