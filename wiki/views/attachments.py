"""Attachments: upload (a commit by the uploader) and serve with safe headers."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response as BaseResponse

from wiki.errors import InvalidInput
from wiki.views import author, origin, services
from wiki.views.access import allow

bp = Blueprint("attachments", __name__)


@bp.post("/attachments")
@allow("participant")
def upload() -> tuple[Response, int]:
    file = request.files.get("file")
    if file is None or not file.filename:
        raise InvalidInput(gettext("choose a file to upload"))
    data = file.read(services().settings.max_attachment_bytes + 1)
    name = services().attachments.add(file.filename, data, author(), origin())
    return jsonify(name=name, url=url_for("attachments.serve", name=name),
                   markdown=f"![{name}](attachments/{name})"), 201


@bp.get("/attachments/<name>")
@allow("reader")
def serve(name: str) -> BaseResponse:
    rev = request.args.get("rev")
    item = services().attachments.get(name, rev)
    response = Response(item.data, mimetype=item.mime)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=300"
    response.set_etag(item.blob)
    return response.make_conditional(request)
