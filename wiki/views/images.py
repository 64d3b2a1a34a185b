"""Remote images through the wiki (COWIKI_REMOTE_IMAGES=proxied): `/img/<mac>/<url>`."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request
from werkzeug.wrappers import Response as BaseResponse

from wiki.imagefetch import ImageRefused
from wiki.imageproxy import CACHE_SECONDS
from wiki.views import services
from wiki.views.access import allow
from wiki.views.security import take_limit, too_many

bp = Blueprint("images", __name__)


@bp.get("/img/<mac>/<url>")
@allow("reader")
def proxied(mac: str, url: str) -> BaseResponse | tuple[BaseResponse | str, int]:
    proxy = services().images
    if proxy is None:
        abort(404)  # the wiki shows remote images as links, or lets browsers load them
    try:
        remote = proxy.url(mac, url)
        image = proxy.cached(remote)
        if image is None:
            wait = take_limit("image_fetches")  # only fetches count, not cached images
            if wait:
                return too_many(wait)
            image = proxy.fetch(remote)
    except ImageRefused as refused:
        answer = Response(refused.reason, refused.status, mimetype="text/plain")
        if refused.status == 503:
            answer.headers["Retry-After"] = "5"
        return answer
    response = Response(image.data, mimetype=image.mime)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = f"private, max-age={CACHE_SECONDS}"
    response.set_etag(image.etag)
    return response.make_conditional(request)
