"""Import a Word document (DOCX) as a new page, from the New page screen."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from werkzeug.wrappers import Response

from storage.names import suggest_page_name
from wiki.docx_import import import_docx
from wiki.errors import InvalidInput
from wiki.views import author, origin, services
from wiki.views.access import allow
from wiki.views.i18n import error_text
from wiki.views.security import rate_limited
from wiki.views.templates_admin import REFUSALS, choices, status_of

bp = Blueprint("imports", __name__)


@bp.post("/import/docx")
@allow("participant")
@rate_limited("saves")
def docx() -> Response | tuple[str, int]:
    file = request.files.get("file")
    name = request.form.get("name", "").strip()
    try:
        if file is None or not file.filename:
            raise InvalidInput(gettext("choose a Word document (.docx) to import"))
        if not name:  # the page is called after the document, as far as a name allows
            name = suggest_page_name(file.filename.rsplit(".", 1)[0]) or ""
        data = file.read(services().settings.max_attachment_bytes + 1)
        done = import_docx(services().pages, services().attachments, name, data, author(),
                           origin(), file.filename)
    except REFUSALS as refused:
        return render_template("pages/new.html", name="", error=None, templates=choices(),
                               import_name=name, import_error=error_text(refused)
                               ), status_of(refused)
    flash(gettext("Imported “%(name)s” from the Word document.", name=done.name))
    if done.attachments:
        flash(ngettext("%(num)d image became an attachment.",
                       "%(num)d images became attachments.", len(done.attachments)))
    if done.left_out:
        flash(ngettext("%(num)d image was left out: the wiki keeps only PNG, JPEG, GIF and"
                       " WebP images up to the upload limit.",
                       "%(num)d images were left out: the wiki keeps only PNG, JPEG, GIF and"
                       " WebP images up to the upload limit.", len(done.left_out)))
    return redirect(url_for("pages.view", path=done.name))
