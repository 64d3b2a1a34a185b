"""JSON API for comments and reactions (DESIGN.md's public contract)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from storage.names import whole_number
from wiki.comments import Comment
from wiki.errors import N_, InvalidInput
from wiki.reactions import Tally, comment_target, page_target
from wiki.views import me, services
from wiki.views.access import allow
from wiki.views.api import body, text_field
from wiki.views.security import rate_limited
from wiki.views.workshop import comment_ids, comments, reactions, viewer

bp = Blueprint("discussion_api", __name__, url_prefix="/api/v1")


def existing_page(path: str) -> str:
    """The page's name as stored (PageNotFound if there is no such page)."""
    return services().pages.get(services().pages.find(path) or path).name


def tally_json(tally: Tally) -> dict[str, Any]:
    """Counts per kind and the caller's own reactions."""
    return {"counts": tally.counts, "mine": sorted(tally.mine), "total": tally.total}


def comment_json(comment: Comment, tallies: dict[str, Tally]) -> dict[str, Any]:
    """A comment as the API shows it."""
    tally = tallies.get(comment_target(comment.id)) or reactions().tally(
        comment_target(comment.id), viewer())
    data: dict[str, Any] = {
        "id": comment.id, "page": comment.page, "parent": comment.parent,
        "author": comment.author, "body": comment.body, "html": comment.html,
        "created": comment.created, "edited": comment.edited, "deleted": comment.deleted,
        "hidden": comment.hidden or comment.withheld, "reactions": tally.counts,
    }
    if comment.hidden:
        data.update(hidden_reason=comment.hidden_reason, hidden_by=comment.hidden_by)
    if comment.replies:
        data["replies"] = [comment_json(r, tallies) for r in comment.replies]
    return data


def parent_id(data: dict[str, Any]) -> int | None:
    """The optional 'parent' comment id of a new comment."""
    raw = data.get("parent")
    if raw in (None, ""):
        return None
    number = whole_number(raw)
    if number is None:
        raise InvalidInput(N_("'parent' must be a comment id"))
    return number


@bp.route("/pages/<path:path>/comments", methods=["GET", "POST"])
@allow("reader", POST="participant")
@rate_limited("comments")
def page_comments(path: str) -> Response | tuple[Response, int]:
    if request.method == "POST":
        data = body()
        made = comments().add(existing_page(path), me(), text_field(data, "body", True),
                              parent_id(data))
        return jsonify(comment_json(made, {})), 201
    threads = comments().for_page(path, viewer())
    tallies = reactions().tallies((comment_target(i) for i in comment_ids(threads)), viewer())
    return jsonify([comment_json(c, tallies) for c in threads])


@bp.route("/comments/<int:comment_id>", methods=["PATCH", "DELETE"])
@allow("participant")
def comment(comment_id: int) -> Response:
    if request.method == "DELETE":
        comments().delete(comment_id, me())
        return Response(status=204)
    changed = comments().edit(comment_id, me(), text_field(body(), "body", True))
    return jsonify(comment_json(changed, {}))


@bp.post("/comments/<int:comment_id>/hide")
@allow("facilitator")
def hide(comment_id: int) -> Response:
    hidden = comments().hide(comment_id, me(), text_field(body(), "reason", True))
    return jsonify(comment_json(hidden, {}))


@bp.post("/comments/<int:comment_id>/unhide")
@allow("facilitator")
def unhide(comment_id: int) -> Response:
    return jsonify(comment_json(comments().unhide(comment_id, me()), {}))


@bp.post("/comments/<int:comment_id>/report")
@allow("participant")
def report(comment_id: int) -> Response:
    comments().report(comment_id, me(), text_field(body(), "reason", True))
    return jsonify(reported=True)


@bp.route("/pages/<path:path>/reactions", methods=["GET", "POST"])
@allow("reader", POST="participant")
@rate_limited("reactions")
def page_reactions(path: str) -> Response:
    target = page_target(existing_page(path))
    if request.method == "GET":
        return jsonify(tally_json(reactions().tally(target, viewer())))
    kind = text_field(body(), "kind", True)
    return jsonify(tally_json(reactions().toggle(target, me(), kind)))


@bp.post("/comments/<int:comment_id>/reactions")
@allow("participant")
@rate_limited("reactions")
def comment_reactions(comment_id: int) -> Response:
    found = comments().get(comment_id)
    if found.deleted or (found.hidden and not me().can("facilitator")):
        raise InvalidInput(N_("this comment cannot take reactions"))
    kind = text_field(body(), "kind", True)
    return jsonify(tally_json(reactions().toggle(comment_target(found.id), me(), kind)))
