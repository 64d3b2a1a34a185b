"""Browser routes for pages: list, view, create, edit (with conflicts), rename, delete, revert."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from markupsafe import escape
from werkzeug.wrappers import Response

from storage.names import normalize_page_name, suggest_page_name, validate_revision, whole_number
from wiki.errors import EditConflict, InvalidPageName, PageNotFound
from wiki.export import outline
from wiki.missing_links import mark_missing
from wiki.pages import SaveResult
from wiki.people import last_change_shown
from wiki.render import NOTICE, is_plain
from wiki.views import author, me, origin, services
from wiki.views.access import allow, login_required_response
from wiki.views.degraded import or_else
from wiki.views.errors import STATUS
from wiki.views.i18n import current_language, error_text
from wiki.views.security import rate_limited
from wiki.views.templates_admin import choices, starting_text
from wiki.views.templating import version_label
from wiki.views.workshop import page_workshop
from wiki.wikilang import footnote_titles
from wiki.workshop import RankedPage, rank_pages

bp = Blueprint("pages", __name__)
bp.add_app_template_test(is_plain, "too_complex")  # a text shown as is: templates add NOTICE
MAX_TITLE = 200
LIST_PAGE = 200  # pages per page of the page list
# What a save may be refused for, besides a conflict: the editor stays open then.
REFUSALS = tuple(kind for kind in STATUS if kind is not EditConflict)
NAV_LIMIT = 300  # chapters shown in the sidebar


def page_url(name: str) -> str:
    """URL of a page's view."""
    return url_for("pages.view", path=name)


def saved_message(result: SaveResult) -> str:
    """The flash message after a save."""
    if result.merged:
        return str(gettext("Saved. Merged with changes by %(names)s.",
                           names=", ".join(result.merged_with)))
    return str(gettext("Saved.") if result.changed else gettext("No changes to save."))


@bp.get("/")
@allow("reader")
def home() -> Response:
    return redirect(page_url("Home"))


@bp.get("/pages")
@allow("reader")
def index() -> str:
    sort = request.args.get("sort", "name")
    number = whole_number(request.args.get("page", "1"), 1)
    if number is None:
        abort(400, description=gettext("'page' must be a whole number from 1"))
    svc = services()
    listed = svc.pages.all_pages()
    # A page of the list at a time: a 10,000-page wiki lists as fast as a small one.
    window = slice((number - 1) * LIST_PAGE, number * LIST_PAGE)
    shown = or_else(lambda: rank_pages(svc.comments, svc.reactions, listed, sort, window),
                    [RankedPage(summary, 0, 0, 0) for summary in listed[window]])
    pages = max(1, -(-len(listed) // LIST_PAGE))
    return render_template("pages/list.html", pages=shown, total=len(listed), sort=sort,
                           page=number, page_count=pages)


@bp.get("/p/<path:path>")
@allow("reader")
def view(path: str) -> str | Response | tuple[str, int]:
    wiki = services().pages
    rev = request.args.get("rev")
    try:
        page = wiki.get(path, validate_revision(rev) if rev else None)
    except PageNotFound:
        found = wiki.find(path)
        if found and found != path and not rev:
            return redirect(page_url(found))
        name = normalize_page_name(path)
        return render_template("pages/missing.html", name=name), 404
    html = footnote_titles(mark_missing_links(
        services().renderer.render_blob(page.blob, page.markdown)), current_language())
    last = last_change_shown(services().history.last_change(f"{page.name}.md", page.revision),
                             services().accounts)
    return render_template("pages/view.html", page=page, html=html, last=last,
                           old=bool(rev), chapters=chapter_nav(),
                           workshop=None if rev else or_else(lambda: page_workshop(page.name),
                                                             None))


def mark_missing_links(html: str) -> str:
    """Links to pages that do not exist yet get their own look and a tooltip (after the
    cached render: whether a page exists changes with every save)."""
    svc = services()
    existing = svc.pages.by_folded_name()
    return mark_missing(html, svc.renderer.base, existing, gettext("does not exist yet"))


def chapter_nav() -> list[tuple[str, str]]:
    """The whitepaper's chapter outline for the sidebar (at most NAV_LIMIT entries)."""
    svc = services()
    return outline.chapters(svc.repo, svc.repo.head(), svc.pages.titles())[:NAV_LIMIT]


@bp.route("/new", methods=["GET", "POST"])
@allow("participant")
def new() -> str | Response:
    name, template = request.values.get("name", ""), request.values.get("template") or None
    if request.method == "GET" and not name:
        return render_template("pages/new.html", name="", error=None, templates=choices())
    title = ""
    try:
        name = normalize_page_name(name)
    except InvalidPageName as exc:
        suggestion = suggest_page_name(name)
        if suggestion is None or not only_signs_differ(name, suggestion):
            return render_template("pages/new.html", name=name, error=error_text(exc),
                                   suggestion=suggestion, templates=choices(),
                                   template=template)
        # "Wat is marketing?": the page is "Wat is marketing", its title keeps the "?".
        name, title = suggestion, " ".join(name.rsplit("/", 1)[-1].split())
    existing = services().pages.find(name)
    if existing:
        flash(gettext("A page called “%(name)s” already exists; you are editing it.",
                      name=existing))
        return redirect(url_for("pages.edit", path=existing))
    if title:
        flash(gettext("The page is called “%(name)s”; its title stays “%(title)s”.",
                      name=name, title=title))
    return redirect(url_for("pages.edit", path=name, title=title or None, template=template))


def only_signs_differ(raw: str, suggestion: str) -> bool:
    """True when `suggestion` only drops signs from `raw` (no folders or dots moved)."""
    parts = [p for p in raw.strip().split("/") if p.strip()]
    return ".." not in raw and len(parts) == suggestion.count("/") + 1 and not raw.strip(
        ).startswith((".", "/", "-", "_"))


@bp.get("/p/<path:path>/edit")
@allow("reader")  # a reader may watch a live page being written, read-only
def edit(path: str) -> str | Response:
    if not current_user.is_authenticated:  # public reading: watching live needs an account
        return login_required_response()
    wiki = services().pages
    watching = not me().can("participant")
    if watching and not services().settings.live:
        abort(403)
    try:
        page = wiki.get(path)
        text, base = page.markdown, page.revision
    except PageNotFound:
        if watching:
            abort(403)
        name = normalize_page_name(path)
        title = " ".join(request.args.get("title", "").split())[:MAX_TITLE]
        text = starting_text(name, title or name.rsplit("/", 1)[-1], request.args.get("template"))
        base = ""
    return render_template("pages/edit.html", name=normalize_page_name(path), text=text,
                           base=base, message="", pages=[p.name for p in wiki.all_pages()])


@bp.post("/p/<path:path>/edit")
@allow("participant")
@rate_limited("saves")
def save(path: str) -> str | Response | tuple[str, int]:
    form = request.form
    text, message = form.get("markdown", ""), form.get("message", "")
    base = form.get("base_revision") or None
    try:
        result = services().pages.save(path, text, base, author(), message, origin())
    except EditConflict as conflict:
        segments = [s if isinstance(s, str) else {"ours": s.ours, "theirs": s.theirs}
                    for s in conflict.merge.segments]
        return render_template("pages/conflict.html", conflict=conflict, message=message,
                               segments=segments), 409
    except REFUSALS as refused:
        # The editor stays open with the person's text and the reason beside it.
        status = STATUS[type(refused)][0]
        return render_template("pages/edit.html", name=path, text=text, base=base or "",
                               message=message, error=error_text(refused),
                               pages=[p.name for p in services().pages.all_pages()]), status
    flash(saved_message(result))
    if request.headers.get("X-Requested-With") == "fetch":  # the editor's script
        return jsonify(url=page_url(result.name))
    return redirect(page_url(result.name))


@bp.post("/preview")
@allow("participant")
def preview() -> str:
    text = request.form.get("markdown", "")
    services().pages.check_size(text)
    html = footnote_titles(mark_missing_links(services().renderer.render(text)),
                           current_language())
    if is_plain(html):
        return f'<p class="notice">{escape(gettext(NOTICE))}</p>{html}'
    return html


@bp.route("/p/<path:path>/rename", methods=["GET", "POST"])
@allow("participant")
def rename(path: str) -> str | Response:
    page = services().pages.get(path)
    if request.method == "GET":
        return render_template("pages/rename.html", page=page, error=None)
    to = request.form.get("to", "")
    try:
        services().pages.rename(page.name, to, author(), request.form.get("message", ""),
                               request.form.get("base_revision") or None, origin())
    except InvalidPageName as exc:
        return render_template("pages/rename.html", page=page, error=error_text(exc), to=to,
                               suggestion=suggest_page_name(to))
    except EditConflict:
        flash(gettext("The page changed since you opened it; look at the new text before"
                      " renaming."))
        return redirect(page_url(page.name))
    flash(gettext("Renamed to %(name)s.", name=normalize_page_name(to)))
    return redirect(page_url(normalize_page_name(to)))


@bp.route("/p/<path:path>/delete", methods=["GET", "POST"])
@allow("participant")
def delete(path: str) -> str | Response | tuple[str, int]:
    page = services().pages.get(path)
    if request.method == "GET":
        return render_template("pages/delete.html", page=page)
    base = request.form.get("base_revision", "")
    try:
        services().pages.delete(page.name, base, author(), request.form.get("message", ""),
                               origin())
    except EditConflict:
        flash(gettext("The page changed since you opened it; look at the new text before"
                      " deleting."))
        return redirect(page_url(page.name))
    flash(gettext("Deleted %(name)s. Its history is kept; revert to restore it.",
                  name=page.name))
    return redirect(url_for("pages.index"))


@bp.route("/p/<path:path>/revert", methods=["GET", "POST"])
@allow("participant")
def revert(path: str) -> str | Response:
    revision = request.values.get("revision", "")
    if not revision:
        abort(400, description=gettext("Which revision? None was given."))
    if request.method == "GET":  # ask first: the history's Restore links here
        old = services().pages.get(path, validate_revision(revision))
        return render_template("history/revert.html", page=old, revision=revision,
                               entry=services().history.last_change(f"{old.name}.md", old.revision))
    result = services().pages.revert(path, revision, author(), origin())
    flash(gettext("Restored %(version)s.", version=version_label(result.name,
                                                                 services().repo.resolve(revision)))
          if result.changed else gettext("That version is already the current text."))
    return redirect(page_url(result.name))
