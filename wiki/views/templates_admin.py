"""Chapter templates: facilitators keep them on /admin/templates; participants start pages
from them (the New page form, and `GET /api/v1/templates`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response as BaseResponse

from storage.names import normalize_page_name, whole_number
from wiki.chapter_templates import PLACEHOLDERS, ChapterTemplate
from wiki.errors import N_, InvalidInput, PageExists, PageNotFound
from wiki.views import author, origin, services
from wiki.views.access import allow
from wiki.views.errors import STATUS
from wiki.views.i18n import error_text

bp = Blueprint("templates_admin", __name__, url_prefix="/admin/templates")
api = Blueprint("templates_api", __name__, url_prefix="/api/v1")
REFUSALS = tuple(STATUS)


def status_of(refused: Exception) -> int:
    """The HTTP status of a domain error (as the error handler maps it)."""
    return next(status for kind, (status, _code) in STATUS.items() if isinstance(refused, kind))


def chosen_template(raw: str | None) -> int | None:
    """The template number of a form or query field; None for "no template"."""
    return whole_number(raw or "", 1) if raw else None


def starting_text(name: str, title: str, raw_template: str | None) -> str:
    """What the editor of a new page starts with: a template filled in, else its title."""
    number = chosen_template(raw_template)
    if number is not None:
        try:
            return services().templates.start(number, name, title)
        except PageNotFound:
            flash(gettext("That template no longer exists; the page starts empty."))
    return f"# {title}\n\n"


def template_text(data: dict[str, Any], path: str) -> str:
    """The text of a page made through the API with `"template": <id>`: a new page only."""
    number = whole_number(data.get("template"), 1)
    if number is None:
        raise InvalidInput(N_("'template' must be the number of a template"))
    if "markdown" in data:
        raise InvalidInput(N_("give 'markdown' or 'template', not both"))
    name = normalize_page_name(path)
    existing = services().pages.find(name)
    if existing is not None:
        raise PageExists(N_("a page called “{name}” already exists"), name=existing)
    return services().templates.start(number, name, name.rsplit("/", 1)[-1])


def choices() -> list[ChapterTemplate]:
    """The templates the New page form offers."""
    return services().templates.all()


@bp.get("")
@allow("facilitator")
def index() -> str:
    return render_template("admin/templates.html", templates=choices(), edited=None,
                           placeholders=PLACEHOLDERS)


@bp.post("")
@allow("facilitator")
def create() -> str | BaseResponse | tuple[str, int]:
    name, markdown = request.form.get("name", ""), request.form.get("markdown", "")
    try:
        made = services().templates.add(name, markdown, author(), origin())
    except REFUSALS as refused:
        return form_again(None, name, markdown, refused)
    flash(gettext("Template “%(name)s” added.", name=made.name))
    return redirect(url_for("templates_admin.index"))


@bp.route("/<int:template_id>", methods=["GET", "POST"])
@allow("facilitator")
def edit(template_id: int) -> str | BaseResponse | tuple[str, int]:
    found = services().templates.get(template_id)
    if request.method == "GET":
        return render_template("admin/templates.html", templates=choices(), edited=found,
                               name=found.name, markdown=found.markdown,
                               placeholders=PLACEHOLDERS)
    name, markdown = request.form.get("name", ""), request.form.get("markdown", "")
    try:
        changed = services().templates.update(template_id, name, markdown, author(), origin())
    except REFUSALS as refused:
        return form_again(found, name, markdown, refused)
    flash(gettext("Template “%(name)s” saved.", name=changed.name))
    return redirect(url_for("templates_admin.index"))


@bp.post("/<int:template_id>/delete")
@allow("facilitator")
def delete(template_id: int) -> BaseResponse:
    name = services().templates.get(template_id).name
    services().templates.delete(template_id, author(), origin())
    flash(gettext("Template “%(name)s” removed.", name=name))
    return redirect(url_for("templates_admin.index"))


def form_again(edited: ChapterTemplate | None, name: str, markdown: str,
               refused: Exception) -> tuple[str, int]:
    """The form with the facilitator's text kept and the reason it was refused."""
    return render_template("admin/templates.html", templates=choices(), edited=edited,
                           name=name, markdown=markdown, error=error_text(refused),
                           placeholders=PLACEHOLDERS), status_of(refused)


@api.get("/templates")
@allow("participant")
def list_templates() -> Response:
    return jsonify([t.to_json() for t in choices()])
