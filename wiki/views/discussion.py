"""Browser forms for comments and reactions: plain posts with CSRF, no JavaScript needed."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from storage.names import normalize_page_name, whole_number
from wiki.comments import Comment
from wiki.errors import InvalidInput
from wiki.reactions import comment_target, page_target
from wiki.views import me, services
from wiki.views.access import allow
from wiki.views.discussion_api import existing_page, passage_anchor
from wiki.views.security import rate_limited
from wiki.views.workshop import comments, page_workshop, reactions

bp = Blueprint("discussion", __name__)


def back_to(comment: Comment) -> Response:
    """Redirect to the comment on its page (or on the comments page of a deleted page)."""
    if services().pages.find(comment.page):
        target = url_for("pages.view", path=comment.page)
    else:
        target = url_for("discussion.page_comments", path=comment.page)
    return redirect(f"{target}#comment-{comment.id}")


def form_parent() -> int | None:
    """The optional parent comment id of a reply form."""
    raw = request.form.get("parent", "")
    if not raw:
        return None
    number = whole_number(raw)
    if number is None:
        raise InvalidInput(gettext("that is not a comment to reply to"))
    return number


@bp.route("/p/<path:path>/comments", methods=["GET", "POST"])
@allow("reader", POST="participant")
@rate_limited("comments")
def page_comments(path: str) -> str | Response:
    if request.method == "POST":
        name = existing_page(path)
        fields = {key[len("anchor_"):]: value for key, value in request.form.items()
                  if key.startswith("anchor_")}
        made = comments().add(name, me(), request.form.get("body", ""), form_parent(),
                              passage_anchor(name, fields) if fields else None)
        return back_to(made)
    name = normalize_page_name(path)
    return render_template("discussion/comments.html", name=name, w=page_workshop(name, True),
                           exists=services().pages.find(name) is not None)


@bp.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@allow("participant")
def edit(comment_id: int) -> str | Response:
    if request.method == "POST":
        return back_to(comments().edit(comment_id, me(), request.form.get("body", "")))
    found = comments().get(comment_id)
    if found.author_id != me().id or found.deleted:
        flash(gettext("You can only edit your own comments."))
        return back_to(found)
    return render_template("discussion/edit.html", comment=found)


@bp.post("/comments/<int:comment_id>/delete")
@allow("participant")
def delete(comment_id: int) -> Response:
    gone = comments().delete(comment_id, me())
    flash(gettext("Comment deleted."))
    return back_to(gone)


@bp.post("/comments/<int:comment_id>/resolve")
@allow("participant")
def resolve(comment_id: int) -> Response:
    return back_to(comments().resolve(comment_id, me(), request.form.get("reopen") != "1"))


@bp.post("/comments/<int:comment_id>/hide")
@allow("facilitator")
def hide(comment_id: int) -> Response:
    return back_to(comments().hide(comment_id, me(), request.form.get("reason", "")))


@bp.post("/comments/<int:comment_id>/unhide")
@allow("facilitator")
def unhide(comment_id: int) -> Response:
    return back_to(comments().unhide(comment_id, me()))


@bp.post("/comments/<int:comment_id>/report")
@allow("participant")
def report(comment_id: int) -> Response:
    comments().report(comment_id, me(), request.form.get("reason", ""))
    flash(gettext("Thank you. A facilitator will look at the comment."))
    return back_to(comments().get(comment_id))


@bp.post("/comments/<int:comment_id>/react")
@allow("participant")
@rate_limited("reactions")
def react_to_comment(comment_id: int) -> Response:
    found = comments().get(comment_id)
    if found.deleted or (found.hidden and not me().can("facilitator")):
        raise InvalidInput(gettext("this comment cannot take reactions"))
    reactions().toggle(comment_target(found.id), me(), request.form.get("kind", ""))
    return back_to(found)


@bp.post("/p/<path:path>/reactions")
@allow("participant")
@rate_limited("reactions")
def react_to_page(path: str) -> Response:
    name = existing_page(path)
    reactions().toggle(page_target(name), me(), request.form.get("kind", ""))
    return redirect(url_for("pages.view", path=name) + "#reactions")
