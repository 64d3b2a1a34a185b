"""JSON API under /api/v1, as listed in DESIGN.md's public contract."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask_babel import gettext
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response as BaseResponse

from storage.names import validate_revision, whole_number
from wiki import diffs, revisions
from wiki.errors import N_, EditConflict, InvalidInput
from wiki.health import quick_report
from wiki.people import display_names
from wiki.views import author, origin, services
from wiki.views.access import PUBLIC, allow
from wiki.views.security import rate_limited
from wiki.views.templates_admin import template_text

bp = Blueprint("api", __name__, url_prefix="/api/v1")
health = Blueprint("health", __name__)


def body() -> dict[str, Any]:
    """The request's JSON object, or InvalidInput."""
    try:
        data = request.get_json(force=True, silent=False)
    except BadRequest as exc:
        raise InvalidInput(N_("the body must be a JSON object")) from exc
    if not isinstance(data, dict):
        raise InvalidInput(N_("the body must be a JSON object"))
    return data


def text_field(data: dict[str, Any], key: str, required: bool = False) -> str:
    """A string field of the body ('' when absent and optional)."""
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(N_("'{key}' must be a string"), key=key)
    return value


def base_revision(data: dict[str, Any]) -> str | None:
    """The base revision from the body or an If-Match header."""
    raw = data.get("base_revision")
    if raw in (None, "") and request.if_match and not request.if_match.star_tag:
        raw = next(iter(request.if_match.as_set()), None)
    return validate_revision(raw) if raw not in (None, "") else None


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """A bounded integer query argument."""
    number = whole_number(request.args.get(name, str(default)), low, high)
    if number is None:
        raise InvalidInput(gettext("'%(name)s' must be a number from %(low)s to %(high)s",
                                   name=name, low=low, high=high))
    return number


@health.get("/healthz")
@allow(PUBLIC)
def healthz() -> tuple[Response, int]:
    s = services()
    report = quick_report(s.repo, s.db, s.indexer.index, live=s.settings.live)
    head = report.findings[0].facts.get("head")
    return jsonify(head=head, **report.to_json()), 200 if report.serving else 503


@bp.get("")
@allow(PUBLIC)
def index() -> Response:
    endpoints = sorted(
        {f"{method} {rule.rule}" for rule in current_app.url_map.iter_rules()
         if rule.rule.startswith(("/api/v1", "/healthz"))
         for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}},
        key=lambda e: (e.split(" ")[1], e),
    )
    return jsonify(endpoints=endpoints)


@bp.get("/pages")
@allow("reader")
def list_pages() -> Response:
    wiki = services().pages
    head = wiki.head()
    return jsonify([{"path": p.name, "title": p.title, "revision": head}
                    for p in wiki.all_pages()])


@bp.route("/pages/<path:path>", methods=["GET", "PUT", "DELETE"])
@allow("reader", PUT="participant", DELETE="participant")
@rate_limited("saves")
def page(path: str) -> BaseResponse | tuple[Response, int]:
    if request.method == "PUT":
        return put_page(path)
    if request.method == "DELETE":
        revision = base_revision(body() if request.content_length else {})
        if revision is None:
            raise InvalidInput(N_("give base_revision or If-Match"))
        services().pages.delete(path, revision, author(), origin=origin("api"))
        return Response(status=204)
    rev = request.args.get("rev")
    found = services().pages.get(path, validate_revision(rev) if rev else None)
    html = services().renderer.render_blob(found.blob, found.markdown)
    response = jsonify(path=found.name, title=found.title, markdown=found.markdown,
                       html=html, revision=found.revision)
    response.set_etag(found.revision)
    return response.make_conditional(request)


def put_page(path: str) -> tuple[Response, int]:
    data = body()
    # A new page may start from a chapter template instead of a text.
    text = (template_text(data, path) if "template" in data
            else text_field(data, "markdown", required=True))
    try:
        result = services().pages.save(path, text, base_revision(data), author(),
                                      text_field(data, "message"), origin("api"))
    except EditConflict as conflict:
        return jsonify(
            error="conflict", theirs=conflict.theirs, ours=conflict.ours,
            revision=conflict.head, merged=conflict.merged,
            conflicts=[{"line": h.line, "base": h.base, "ours": h.ours, "theirs": h.theirs}
                       for h in conflict.conflicts],
        ), 409
    response = jsonify(path=result.name, revision=result.revision, merged=result.merged,
                       merged_with=list(result.merged_with), changed=result.changed)
    response.set_etag(result.revision)
    return response, 201 if result.created else 200


@bp.post("/pages/<path:path>/rename")
@allow("participant")
def rename(path: str) -> Response:
    data = body()
    target = text_field(data, "to", required=True)
    revision = services().pages.rename(path, target, author(), text_field(data, "message"),
                                      base_revision(data), origin("api"))
    return jsonify(path=services().pages.find(target), revision=revision)


@bp.get("/pages/<path:path>/history")
@allow("reader")
def history(path: str) -> Response:
    limit = int_arg("limit", 100, 1, 1000)
    entries = revisions.history(services().pages, path, limit=limit,
                                skip=int_arg("skip", 0, 0, 10**7),
                                names=display_names(services().accounts))
    pushed_by = services().pushlog.pusher_names(e.revision for e in entries)
    return jsonify([{"revision": e.revision, "author": e.author, "email": e.email,
                     "date": e.date.isoformat(), "message": e.message, "path": e.name,
                     "kind": e.kind, "pushed_by": pushed_by.get(e.revision)} for e in entries])


@bp.get("/pages/<path:path>/blame")
@allow("reader")
def blame(path: str) -> Response:
    rev = request.args.get("rev")
    lines = revisions.blame(services().pages, path, validate_revision(rev) if rev else None,
                            names=display_names(services().accounts))
    return jsonify([{"line": b.line, "text": b.text, "revision": b.revision,
                     "author": b.author} for b in lines])


@bp.get("/pages/<path:path>/diff")
@allow("reader")
def diff(path: str) -> Response:
    raw_from, raw_to = request.args.get("from"), request.args.get("to")
    if not raw_from or not raw_to:
        raise InvalidInput(N_("give both 'from' and 'to' revisions"))
    old, new = revisions.texts(services().pages, path, raw_from, raw_to)
    text = diffs.unified(old, new, f"a/{path}.md@{raw_from}", f"b/{path}.md@{raw_to}")
    return Response(text, mimetype="text/plain")


@bp.get("/changes")
@allow("reader")
def changes() -> Response:
    entries = revisions.recent_changes(services().pages, limit=int_arg("limit", 50, 1, 500),
                                       names=display_names(services().accounts))
    pushed_by = services().pushlog.pusher_names(c.revision for c in entries)
    return jsonify([{"revision": c.revision, "author": c.author, "email": c.email,
                     "date": c.date.isoformat(), "message": c.message,
                     "pushed_by": pushed_by.get(c.revision),
                     "pages": [{"path": p.name, "kind": p.kind, "from": p.old_name}
                               for p in c.pages]} for c in entries])


@bp.get("/contributors")
@allow("reader")
def contributors() -> Response:
    return jsonify([{"name": c.name, "commits": c.commits, "lines": c.lines_added,
                     "lines_removed": c.lines_removed}
                    for c in revisions.contributors(services().pages, services().accounts)])
