"""Suggested changes in the browser and the API: propose, look at the word diff, decide.

The editor's Suggest button posts the editor's form here (the live editor keeps
the form's textarea in sync, so the same text is sent); a suggestion's page
shows its word diff against the text it was made on, its discussion (a page
comment and its replies) and, to those who may decide, accept and reject.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from storage.names import normalize_page_name
from wiki import diffs
from wiki.errors import N_, EditConflict, PageNotFound
from wiki.suggestions import Suggestion, Suggestions, Texts
from wiki.views import me, services
from wiki.views.access import allow
from wiki.views.api import body, text_field
from wiki.views.degraded import or_else
from wiki.views.errors import STATUS
from wiki.views.i18n import error_text
from wiki.views.security import rate_limited
from wiki.views.workshop import page_workshop, viewer

bp = Blueprint("suggestions", __name__)
api = Blueprint("suggestions_api", __name__, url_prefix="/api/v1")
CONTEXT = 2  # unchanged lines shown around each change of a suggestion's diff
REFUSALS = tuple(kind for kind in STATUS if kind is not EditConflict)


def store() -> Suggestions:
    """The suggestion store."""
    return services().suggestions


def open_count(name: str) -> int:
    """How many suggestions on page `name` wait for a decision (for the page's tabs)."""
    try:
        return or_else(lambda: store().count(name), 0)
    except (ValueError, LookupError):
        return 0


bp.add_app_template_global(open_count, "suggestion_count")


def link(found: Suggestion) -> str:
    """The suggestion's page."""
    return url_for("suggestions.show", path=found.page, number=found.id)


def found_on(path: str, number: int) -> Suggestion:
    """Suggestion `number`, which must belong to page `path`."""
    found = store().get(number)
    if found.page.casefold() != normalize_page_name(path).casefold():
        raise PageNotFound(N_("suggestion {id}"), id=number)
    return found


def changed_lines(texts: Texts) -> list[diffs.Line | None]:
    """The inline word diff of base → suggested, changes with CONTEXT lines around them;
    None stands for a run of unchanged lines left out."""
    lines = diffs.inline(texts.base, texts.suggested)
    near = {i for i, line in enumerate(lines) if line.kind != "equal"}
    keep = {j for i in near for j in range(i - CONTEXT, i + CONTEXT + 1)}
    shown: list[diffs.Line | None] = []
    for i, line in enumerate(lines):
        if i in keep:
            shown.append(line)
        elif shown and shown[-1] is not None:
            shown.append(None)
    return shown


# -- browser -------------------------------------------------------------------


@bp.route("/p/<path:path>/suggestions", methods=["GET", "POST"])
@allow("reader", POST="participant")
@rate_limited("saves")
def page_suggestions(path: str) -> str | Response | tuple[str, int]:
    if request.method == "POST":
        return propose(path)
    name = normalize_page_name(path)
    return render_template("suggestions/list.html", name=name,
                           suggestions=store().for_page(name, undecided_only=False))


def propose(path: str) -> Response | tuple[str, int]:
    form = request.form
    text, note = form.get("markdown", ""), form.get("message", "")
    base = form.get("base_revision") or None
    try:
        made = store().propose(path, text, base, me(), note, link)
    except REFUSALS as refused:  # the editor stays open with the text and the reason
        status = STATUS[type(refused)][0]
        return render_template("pages/edit.html", name=path, text=text, base=base or "",
                               message=note, error=error_text(refused),
                               pages=[p.name for p in services().pages.all_pages()]), status
    flash(gettext("Your suggestion is waiting for the page's authors."))
    if request.headers.get("X-Requested-With") == "fetch":  # static/suggestions.js
        return jsonify(url=link(made))
    return redirect(link(made))


@bp.get("/p/<path:path>/suggestions/<int:number>")
@allow("reader")
def show(path: str, number: int) -> str:
    found = found_on(path, number)
    texts = store().texts(found)
    w = page_workshop(found.page, full=True)
    thread = [c for c in w.comments if c.id == found.comment_id]
    return render_template("suggestions/show.html", name=found.page, s=found, texts=texts,
                           lines=changed_lines(texts), stats=diffs.stats(texts.base,
                                                                         texts.suggested),
                           may_decide=store().may_decide(found, viewer()),
                           w=replace(w, comments=thread),
                           exists=texts.current is not None)


@bp.post("/p/<path:path>/suggestions/<int:number>/accept")
@allow("participant")
@rate_limited("saves")
def accept(path: str, number: int) -> Response:
    found = found_on(path, number)
    try:
        _done, saved = store().accept(number, me(), request.form.get("reason", ""), link(found))
    except EditConflict:
        flash(gettext("The page changed since this suggestion was made, in the same place."
                      " It no longer applies; its author can redo it on the current text."))
        return redirect(link(found))
    if saved.merged:
        flash(gettext("Accepted and merged with changes by %(names)s.",
                      names=", ".join(saved.merged_with)))
    else:
        flash(gettext("Accepted: the page now has the suggested text."))
    return redirect(link(found))


@bp.post("/p/<path:path>/suggestions/<int:number>/reject")
@allow("participant")
def reject(path: str, number: int) -> Response:
    found = found_on(path, number)
    store().reject(number, me(), request.form.get("reason", ""), link(found))
    flash(gettext("Suggestion turned down."))
    return redirect(link(found))


@bp.route("/p/<path:path>/suggestions/<int:number>/redo", methods=["GET", "POST"])
@allow("participant")
@rate_limited("saves")
def redo(path: str, number: int) -> str | Response:
    found = found_on(path, number)
    if request.method == "POST":
        store().redo(number, me(), request.form.get("markdown", ""),
                     request.form.get("base_revision") or None)
        flash(gettext("Your suggestion now starts from the current text."))
        return redirect(link(found))
    texts = store().texts(found)
    return render_template("suggestions/redo.html", name=found.page, s=found,
                           text=texts.redone, base=services().repo.head() or "")


# -- API -----------------------------------------------------------------------


def as_json(found: Suggestion, texts: Texts | None = None) -> dict[str, Any]:
    """A suggestion for API clients (with its texts' diff when given)."""
    data: dict[str, Any] = {
        "id": found.id, "path": found.page, "base_revision": found.base,
        "commit": found.commit, "ref": f"refs/suggestions/{found.id}",
        "suggester": found.suggester, "note": found.note, "state": found.state,
        "comment": found.comment_id, "decided_by": found.decided_by or None,
        "reason": found.reason, "revision": found.revision or None,
        "created": found.created, "decided": found.decided, "url": link(found)}
    if texts is not None:
        data["markdown"] = texts.suggested
        data["applies"] = texts.applies
        data["diff"] = diffs.unified(texts.base, texts.suggested, f"a/{found.page}.md",
                                     f"b/{found.page}.md")
    return data


@api.route("/pages/<path:path>/suggestions", methods=["GET", "POST"])
@allow("reader", POST="participant")
@rate_limited("saves")
def api_page_suggestions(path: str) -> tuple[Response, int]:
    if request.method == "GET":
        undecided = request.args.get("all", "") not in ("1", "true")
        return jsonify([as_json(s) for s in store().for_page(path, undecided)]), 200
    data = body()
    made = store().propose(path, text_field(data, "markdown", required=True),
                           text_field(data, "base_revision") or None, me(),
                           text_field(data, "note"), link)
    return jsonify(as_json(made)), 201


@api.route("/suggestions/<int:number>", methods=["GET", "PUT"])
@allow("reader", PUT="participant")
@rate_limited("saves")
def api_suggestion(number: int) -> Response:
    if request.method == "PUT":
        data = body()
        store().redo(number, me(), text_field(data, "markdown", required=True),
                     text_field(data, "base_revision") or None)
    found = store().get(number)
    return jsonify(as_json(found, store().texts(found)))


@api.post("/suggestions/<int:number>/accept")
@allow("participant")
@rate_limited("saves")
def api_accept(number: int) -> tuple[Response, int]:
    found = store().get(number)
    data = body() if request.content_length else {}
    try:
        done, saved = store().accept(number, me(), text_field(data, "reason"), link(found))
    except EditConflict:
        return jsonify(error="conflict", suggestion=as_json(store().get(number))), 409
    return jsonify({**as_json(done), "merged_with": list(saved.merged_with)}), 200


@api.post("/suggestions/<int:number>/reject")
@allow("participant")
def api_reject(number: int) -> Response:
    found = store().get(number)
    data = body()
    return jsonify(as_json(store().reject(number, me(), text_field(data, "reason", True),
                                          link(found))))
