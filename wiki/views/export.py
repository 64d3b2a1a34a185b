"""Export: the /export page, the outline editor, versions, and the export API."""

from __future__ import annotations

import re

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext
from werkzeug.wrappers import Response as BaseResponse

from storage.names import whole_number
from storage.versions import list_versions
from wiki.errors import N_, InvalidInput, PageNotFound
from wiki.export import FORMATS
from wiki.export import outline as outlines
from wiki.export.build import resolve
from wiki.export.jobs import Job, Jobs, Limits
from wiki.views import author, me, origin, services
from wiki.views.access import allow
from wiki.views.api import body, text_field
from wiki.views.degraded import or_else
from wiki.views.security import rate_limited

bp = Blueprint("export", __name__)
api = Blueprint("export_api", __name__, url_prefix="/api/v1")


def jobs() -> Jobs:
    """The export jobs of this data directory."""
    settings = services().settings
    return Jobs(settings.data_dir, Limits.from_settings(settings))


def current_outline() -> outlines.Outline:
    """The outline at the head."""
    s = services()
    language = or_else(s.language.get, s.language.default)  # the database may be away
    return outlines.load(s.repo, s.repo.head(), s.settings.site_name, language)


def start(fmt: str, ref: str) -> Job:
    """Start (or reuse) the export of `ref` in `fmt`, queued under the asking person."""
    return jobs().start(resolve(services().repo, ref), fmt, owner=f"user:{me().id}")


def finished(job_id: str) -> tuple[Job, str]:
    """A finished job and its download name; PageNotFound while it is not done."""
    job = jobs().get(job_id)
    if job.status != "done" or not jobs().result_path(job).exists():
        raise PageNotFound(gettext("this export is not ready"))
    title = re.sub(r"[^\w-]+", "-", current_outline().title.lower()).strip("-") or "whitepaper"
    return job, f"{title}-{job.version or job.commit[:10]}.{job.extension}"


def warnings(job: Job) -> list[str]:
    """What the person should know about an export that still works: the pages it leaves out."""
    return [gettext("The outline lists %(page)s, but that page does not exist; the export "
                    "leaves it out.", page=name) for name in job.missing]


def job_json(job: Job) -> dict[str, object]:
    """A job as the API shows it."""
    url = url_for("export_api.download", job=job.id) if job.status == "done" else None
    return {"job": job.id, "status": job.status, "progress": job.progress, "url": url,
            "format": job.format, "commit": job.commit, "version": job.version,
            "message": job.message, "error": job.error or None,
            "position": jobs().position(job), "missing_pages": list(job.missing),
            "warnings": warnings(job)}


# -- browser -------------------------------------------------------------------

@bp.get("/export")
@allow("reader")
def index() -> str:
    s = services()
    outline = current_outline()
    in_outline = {p.casefold() for p in outline.pages}
    others = [p for p in s.pages.all_pages() if p.name.casefold() not in in_outline]
    titles = {p.name.casefold(): p.title for p in s.pages.all_pages()}
    missing = outlines.missing_pages(s.repo, s.repo.head(), outline)
    return render_template("export/index.html", outline=outline, others=others, titles=titles,
                           formats=list(FORMATS), versions=list_versions(s.repo),
                           head=s.repo.head(), missing=missing)


@bp.post("/export")
@allow("reader")
@rate_limited("exports")
def start_export() -> BaseResponse:
    job = start(request.form.get("format", ""), request.form.get("ref", ""))
    return redirect(url_for("export.status", job=job.id))


@bp.get("/export/jobs/<job>")
@allow("reader")
def status(job: str) -> str:
    found = jobs().get(job)
    return render_template("export/status.html", job=found, position=jobs().position(found),
                           warnings=warnings(found))


@bp.get("/export/jobs/<job>/download")
@allow("reader")
def download_page(job: str) -> Response:
    return download(job)


@bp.post("/export/outline")
@allow("facilitator")
def save_outline() -> BaseResponse:
    form = request.form
    names = form.getlist("page")
    positions = form.getlist("position") or [""] * len(names)
    pages = outlines.arrange(list(zip(names, positions, strict=False)),
                             set(form.getlist("remove")), form.get("add", ""))
    direction, _, index = form.get("move", "").partition(":")
    position = whole_number(index)
    if position is not None:
        pages = outlines.move(pages, position, -1 if direction.startswith("up") else 1)
    outline = outlines.parse({"title": form.get("title", ""), "subtitle": form.get("subtitle"),
                              "authors": form.get("authors"), "pages": list(pages),
                              "lang": form.get("lang") or services().language.get()})
    outlines.save(services().repo, outline, author(), services().changes, origin(),
                  services().language)
    flash(gettext("Outline saved."))
    return redirect(url_for("export.index") + "#outline")


@bp.post("/export/freeze")
@allow("facilitator")
def freeze_version() -> BaseResponse:
    s = services()
    version, created = s.phases.freeze_version(s.repo.head() or "", me(),
                                               request.form.get("message", ""))
    if created:
        flash(gettext("Frozen as %(version)s.", version=version.name))
    else:
        flash(gettext("This text is already frozen as %(version)s.", version=version.name))
    return redirect(url_for("export.index") + "#versions")


# -- API -------------------------------------------------------------------------

@api.route("/outline", methods=["GET", "PUT"])
@allow("reader", PUT="facilitator")
def outline() -> Response:
    if request.method == "PUT":
        parsed = outlines.parse(body(), services().language.get())
        revision = outlines.save(services().repo, parsed, author(), services().changes,
                                 origin("api"), services().language)
        response = jsonify({**parsed.to_json(), "revision": revision or services().repo.head()})
        return response
    return jsonify(current_outline().to_json())


@api.post("/export")
@allow("reader")
@rate_limited("exports")
def api_start() -> tuple[Response, int]:
    data = body()
    job = start(text_field(data, "format", required=True), text_field(data, "ref"))
    return jsonify(job_json(job)), 202


@api.get("/export/<job>")
@allow("reader")
def api_status(job: str) -> Response:
    return jsonify(job_json(jobs().get(job)))


@api.get("/export/<job>/download")
@allow("reader")
def download(job: str) -> Response:
    found, name = finished(job)
    return send_file(jobs().result_path(found), mimetype=found.mimetype, as_attachment=True,
                     download_name=name, max_age=3600)


@api.route("/export/versions", methods=["GET", "POST"])
@allow("reader", POST="facilitator")
def versions() -> tuple[Response, int]:
    s = services()
    if request.method == "POST":
        data = body() if request.content_length else {}
        ref = text_field(data, "ref")
        source = resolve(s.repo, ref)
        v, created = s.phases.freeze_version(source.commit, me(), text_field(data, "message"),
                                             "api")
        if created:
            return jsonify(name=v.name, commit=v.commit, message=v.message,
                           already_frozen=False), 201
        notice = gettext("This text is already frozen as %(version)s.", version=v.name)
        return jsonify(name=v.name, commit=v.commit, message=v.message, already_frozen=True,
                       notice=notice), 200
    if request.args:
        raise InvalidInput(N_("no arguments expected"))
    return jsonify([{"name": v.name, "commit": v.commit, "tagger": v.tagger,
                     "created": v.created, "message": v.message}
                    for v in list_versions(s.repo)]), 200
