"""JSON API for comments and reactions (DESIGN.md's public contract)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, request

from storage.names import validate_revision, whole_number
from wiki.comments import Comment
from wiki.errors import N_, InvalidInput
from wiki.passages import Anchor, Place, anchor_at, locate
from wiki.reactions import Tally, comment_target, page_target
from wiki.views import me, services
from wiki.views.access import allow
from wiki.views.api import body, text_field
from wiki.views.security import rate_limited
from wiki.views.workshop import comment_ids, comments, passage_places, reactions, viewer

bp = Blueprint("discussion_api", __name__, url_prefix="/api/v1")


def existing_page(path: str) -> str:
    """The page's name as stored (PageNotFound if there is no such page)."""
    return services().pages.get(services().pages.find(path) or path).name


def tally_json(tally: Tally) -> dict[str, Any]:
    """Counts per kind and the caller's own reactions."""
    return {"counts": tally.counts, "mine": sorted(tally.mine), "total": tally.total}


def passage_anchor(name: str, fields: Mapping[str, Any]) -> Anchor:
    """The anchor of a new passage comment on page `name`, from the revision the person
    saw and either code-point `start`/`end` in its Markdown (the editor) or the selected
    `quote` and its `occurrence` in the rendered page (the page view)."""
    page = services().pages.get(name, validate_revision(fields.get("revision")))
    if fields.get("start") not in (None, "") or fields.get("end") not in (None, ""):
        start, end = whole_number(fields.get("start")), whole_number(fields.get("end"))
        if start is None or end is None:
            raise InvalidInput(N_("'start' and 'end' must be whole numbers"))
    else:
        quote, occurrence = fields.get("quote"), whole_number(fields.get("occurrence") or 0)
        if not isinstance(quote, str) or occurrence is None:
            raise InvalidInput(N_("a passage needs its 'quote' and 'occurrence'"))
        start, end = locate(page.markdown, quote, occurrence)
    return anchor_at(page.markdown, page.revision, start, end)


def anchor_json(anchor: Anchor, place: Place | None) -> dict[str, Any]:
    """A passage anchor and where it sits now (`place` null: on an earlier version)."""
    now = None if place is None or place.earlier else {"start": place.start, "end": place.end}
    return {"quote": anchor.quote, "revision": anchor.revision, "start": anchor.start,
            "end": anchor.end, "before": anchor.before, "after": anchor.after, "place": now}


def comment_json(comment: Comment, tallies: dict[str, Tally],
                 places: Mapping[int, Place] | None = None) -> dict[str, Any]:
    """A comment as the API shows it."""
    tally = tallies.get(comment_target(comment.id)) or reactions().tally(
        comment_target(comment.id), viewer())
    data: dict[str, Any] = {
        "id": comment.id, "page": comment.page, "parent": comment.parent,
        "author": comment.author, "body": comment.body, "html": comment.html,
        "created": comment.created, "edited": comment.edited, "deleted": comment.deleted,
        "hidden": comment.hidden or comment.withheld, "reactions": tally.counts,
    }
    if comment.parent is None:
        data.update(resolved=comment.resolved_at is not None, resolved_by=comment.resolved_by)
    if comment.anchor is not None:
        places = places if places is not None else passage_places(comment.page, [comment])
        data["anchor"] = anchor_json(comment.anchor, places.get(comment.id))
    if comment.hidden:
        data.update(hidden_reason=comment.hidden_reason, hidden_by=comment.hidden_by)
    if comment.replies:
        data["replies"] = [comment_json(r, tallies, places) for r in comment.replies]
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
        data, name = body(), existing_page(path)
        fields = data.get("anchor")
        if fields is not None and not isinstance(fields, dict):
            raise InvalidInput(N_("'anchor' must be an object"))
        made = comments().add(name, me(), text_field(data, "body", True), parent_id(data),
                              passage_anchor(name, fields) if fields is not None else None)
        return jsonify(comment_json(made, {})), 201
    threads = comments().for_page(path, viewer())
    tallies = reactions().tallies((comment_target(i) for i in comment_ids(threads)), viewer())
    places = passage_places(path, threads)
    return jsonify([comment_json(c, tallies, places) for c in threads])


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


@bp.post("/comments/<int:comment_id>/resolve")
@allow("participant")
def resolve(comment_id: int) -> Response:
    return jsonify(comment_json(comments().resolve(comment_id, me()), {}))


@bp.post("/comments/<int:comment_id>/reopen")
@allow("participant")
def reopen(comment_id: int) -> Response:
    return jsonify(comment_json(comments().resolve(comment_id, me(), resolved=False), {}))


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
