"""What keeps one participant (or another site) from taking the workshop down.

Response headers that stop framing and inline scripts, JSON bodies of bounded
depth, per-person rate limits on busy writes, and absolute links built from the
configured base URL rather than the request's Host header.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, g, request, url_for
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from wiki.ratelimit import Limit
from wiki.views import services
from wiki.views.access import SAFE_METHODS
from wiki.views.errors import error_response, with_retry_after

F = TypeVar("F", bound=Callable[..., Any])
MAX_JSON_DEPTH = 64  # arrays and objects inside each other; real bodies use 2 or 3


def csp_nonce() -> str:
    """This response's nonce for an inline <script nonce="...">, should one be needed."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return str(nonce)


def content_security_policy() -> str:
    """Scripts only from our static files (or with this response's nonce), no framing;
    images from other sites only when the wiki lets browsers load them."""
    remote = services().settings.remote_image_policy() == "allowed"
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{csp_nonce()}'",
        "style-src 'self' 'unsafe-inline'",  # style="" attributes (avatar hues) stay
        "img-src 'self' data:" + (" https: http:" if remote else ""),
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def add_security_headers(response: Response) -> Response:
    """after_request: CSP for HTML; no framing, no sniffing, no cross-site referrers."""
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def json_depth(value: object) -> int:
    """How deeply arrays and objects nest in a parsed JSON value (without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(
            item, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                break
            stack.extend((child, depth + 1) for child in children)
    return deepest


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing bodies nested deeper than MAX_JSON_DEPTH. A ValueError
    makes request.get_json answer 400; a RecursionError would have been a 500."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if json_depth(value) > MAX_JSON_DEPTH:
            raise ValueError("JSON nested too deeply")
        return value


def rate_limited(action: str) -> Callable[[F], F]:
    """Limit a write per person (or address, when anonymous) to the `rate_<action>`
    setting per minute; beyond it the answer is 429 with Retry-After."""

    def decorate(view: F) -> F:
        @wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            if request.method not in SAFE_METHODS:
                wait = take_limit(action)
                if wait:
                    return too_many(wait)
            return view(*args, **kwargs)

        return limited  # type: ignore[return-value]

    return decorate


def take_limit(action: str) -> float:
    """Count one `action` for this person (or address, when anonymous) against the
    `rate_<action>` setting per minute: 0 when counted, else the seconds to wait."""
    who = (f"user:{current_user.user.id}" if current_user.is_authenticated
           else f"ip:{request.remote_addr}")
    limit = Limit(getattr(services().settings, f"rate_{action}"))
    return services().accounts.limits.take(f"{action}:{who}", limit)


def too_many(wait: float) -> tuple[Response | str, int]:
    """429 with the seconds to wait, as JSON or a page."""
    seconds = int(wait) + (wait % 1 > 0)
    return with_retry_after(error_response(429, "too_many_requests", gettext(
        "You are doing that very often. Wait %(seconds)s seconds and try again.",
        seconds=seconds)), seconds)


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for people outside this request (invites, feeds): on the
    configured base URL, or on the request's own host when none is set."""
    base = services().settings.base_url.rstrip("/")
    if not base:
        return url_for(endpoint, _external=True, **values)
    path = url_for(endpoint, **values)
    return base + path[len(request.script_root):]


def install(app: Flask) -> None:
    """Headers on every response, bounded JSON, and the template helpers."""
    app.json = BoundedJSONProvider(app)
    app.json.sort_keys = False
    app.after_request(add_security_headers)
    app.jinja_env.globals.update(csp_nonce=csp_nonce, external_url=external_url)
