"""Who may do what: one role per endpoint and method, checked before every request.

Endpoints declare their role with `@allow`; an endpoint without a declaration
is refused (fail closed), so a new route cannot slip past the role matrix.
Logins come from the session (browser) or HTTP Basic with a password or a
personal token (API, git). Form posts carry a CSRF token; so do Basic-authenticated
writes that a browser sends from another site. A session is a row in SQLite
(wiki/accounts.py), so logging out ends every copy of its cookie.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, jsonify, redirect, request, session, url_for
from flask_babel import gettext
from flask_login import AnonymousUserMixin, LoginManager, UserMixin, current_user
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.wrappers import Response

from storage.names import whole_number
from wiki import audit
from wiki.accounts import ROLES, SESSION_TOUCH_EVERY, LoginRefused, NotAMember, User
from wiki.dbschema import MAX_ID
from wiki.views import degraded, services

F = TypeVar("F", bound=Callable[..., Any])
PUBLIC = "public"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
ROWID = MAX_ID  # the largest id a session or request may name (wiki/dbschema.py)


class LoginUser(UserMixin):  # type: ignore[misc]  # flask-login is untyped
    """flask-login's view of an account, with the server-side session it came from."""

    def __init__(self, user: User, sid: str = "") -> None:
        self.user = user
        self.sid = sid

    def get_id(self) -> str:
        # What the session cookie carries: account, session generation, session id.
        return f"{self.user.id}.{self.user.generation}.{self.sid}"

    @property
    def is_active(self) -> bool:
        return self.user.active


def allow(role: str, **per_method: str) -> Callable[[F], F]:
    """Declare the least role for an endpoint ('public', 'reader', 'participant',
    'facilitator'), optionally per HTTP method: @allow("reader", PUT="participant")."""

    def mark(view: F) -> F:
        view.roles = {"*": role, **per_method}  # type: ignore[attr-defined]
        return view

    return mark


def read_only(view: F) -> F:
    """Mark a POST endpoint that changes nothing (git-upload-pack): it needs no CSRF
    token and is open to anonymous readers of a public-read wiki, like a GET."""
    view.read_only = True  # type: ignore[attr-defined]
    return view


def json_without_csrf(view: F) -> F:
    """Mark a public JSON endpoint that logs nobody in (register): a JSON body needs no
    CSRF token, because a cross-site form cannot send application/json without CORS."""
    view.json_without_csrf = True  # type: ignore[attr-defined]
    return view


def csrf_exempt() -> bool:
    """True for a JSON request to an endpoint marked @json_without_csrf."""
    view = current_app.view_functions.get(request.endpoint or "")
    marked = bool(getattr(view, "json_without_csrf", False))
    return marked and request.mimetype == "application/json"


def is_read_request() -> bool:
    """True for GET/HEAD/OPTIONS and for POSTs to endpoints marked @read_only."""
    view = current_app.view_functions.get(request.endpoint or "")
    return request.method in SAFE_METHODS or bool(getattr(view, "read_only", False))


def required_role(endpoint: str | None, method: str) -> str | None:
    """The least role an endpoint needs for `method`, or None if it declared none."""
    if endpoint == "static":
        return PUBLIC
    view = current_app.view_functions.get(endpoint or "")
    roles: dict[str, str] | None = getattr(view, "roles", None)
    if roles is None:
        return None
    return roles.get(method, roles.get("GET" if method == "HEAD" else method, roles["*"]))


def is_api() -> bool:
    """True for JSON API and git requests, which answer 401 instead of a login redirect."""
    return request.path.startswith(("/api/", "/wiki.git"))


def check_access() -> Response | None:
    """before_request: enforce the endpoint's role and CSRF."""
    if request.endpoint is None:
        return None  # 404/405 follow
    role = required_role(request.endpoint, request.method)
    if role is None:
        abort(403)
    authenticated = current_user.is_authenticated  # loads Basic auth first: CSRF needs it
    if role != PUBLIC and not authenticated and not public_read_allows(role):
        unchecked = degraded.unchecked_session()
        if unchecked is not None:  # logged in, maybe, but the database cannot say: 503
            raise unchecked
        return login_required_response()
    if not is_read_request() and not csrf_exempt() and (not g.get("basic_auth")
                                                         or cross_site()):
        check_csrf()
    if role in (PUBLIC, "reader") and not authenticated:
        return None
    if role != PUBLIC and not current_user.user.can(role):
        abort(403)
    return None


def public_read_allows(role: str) -> bool:
    """Anonymous reading when the wiki is configured public-read."""
    return role == "reader" and is_read_request() and services().settings.public_read


def from_browser() -> bool:
    """True when a browser sent the request (as opposed to git, curl or a script).

    Browsers send Sec-Fetch-* headers (over HTTPS and on localhost), an Origin on
    scripted and cross-site requests, ask for HTML when they navigate, and all call
    themselves Mozilla; git, curl and HTTP libraries do none of this.
    """
    headers = request.headers
    return bool(headers.get("Sec-Fetch-Mode") or headers.get("Sec-Fetch-Site")
                or headers.get("Origin")
                or "text/html" in headers.get("Accept", "")
                or headers.get("User-Agent", "").startswith("Mozilla/"))


def cross_site() -> bool:
    """True when a browser says the request comes from a page of another site."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    own = {request.host.lower()}
    base = services().settings.base_url
    if base:
        own.add(urlsplit(base).netloc.lower())
    return urlsplit(origin).netloc.lower() not in own  # 'null' has no host: foreign


def login_required_response() -> Response:
    """401 for API and git clients, with a Basic challenge only for non-browsers: a
    browser would remember the credentials and send them on cross-site requests too.
    Browsers get a login redirect."""
    if is_api():
        response = jsonify(error="unauthorized",
                           message=gettext("log in or use HTTP Basic auth"))
        response.status_code = 401
        if not from_browser():
            response.headers["WWW-Authenticate"] = 'Basic realm="cowiki"'
        return response
    return redirect(url_for("auth.login",
                            next=request.script_root + request.full_path.rstrip("?")))


def csrf_token() -> str:
    """The session's CSRF token, created on first use."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def check_csrf() -> None:
    """Refuse an unsafe request whose CSRF token is missing or wrong."""
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, description=gettext("The form expired or came from another site."
                                       " Reload and retry."))


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else becomes the front page."""
    if not target:
        return url_for("pages.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.home")
    if "\\" in target or any(ord(c) < 32 for c in target):
        return url_for("pages.home")
    if not target.startswith(request.script_root + "/"):  # another wiki on this server
        return url_for("pages.home")
    return target


def basic_auth_user() -> LoginUser | None:
    """The user named by HTTP Basic credentials (token first, then password)."""
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username or auth.password is None:
        return None
    if g.get("basic_auth_refused"):
        return None  # the error page asks again: answer, don't raise a second time
    accounts = services().accounts
    user = accounts.user_for_token(auth.username, auth.password)
    if user is None:
        try:
            user = accounts.log_in(auth.username, auth.password, request.remote_addr)
        except (LoginRefused, NotAMember):  # answered 429 / 403 by the error handler
            g.basic_auth_refused = True
            raise
        if user is None:
            audit.login_failure(auth.username, request.remote_addr, via="basic")
    if user is None:
        return None
    g.basic_auth = True
    return LoginUser(user)


def mark_cookie_day() -> None:
    """Write the login's cookie again once a day, so that its expiry moves on with the
    login's own (the cookie is otherwise written only when the session changes)."""
    day = int(time.time() // SESSION_TOUCH_EVERY)
    if session.get("day") != day:
        session["day"] = day


def install(app: Flask) -> None:
    """Wire flask-login, the role check and CSRF into the app."""
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.anonymous_user = AnonymousUserMixin

    @manager.user_loader  # type: ignore[untyped-decorator]
    def load_user(session_id: str) -> LoginUser | None:
        raw_id, raw_generation, sid = (session_id.split(".", 2) + ["", ""])[:3]
        user_id, generation = whole_number(raw_id, high=ROWID), whole_number(raw_generation,
                                                                             high=ROWID)
        if user_id is None or generation is None or not sid:
            return None  # also every cookie from before sessions were kept server-side
        try:
            user = services().accounts.session_user(user_id, generation, sid)
        except (DBAPIError, PoolTimeout) as exc:
            # The database cannot say whether the session still lives: read on as an
            # anonymous visitor would, cookie kept (wiki/views/degraded.py).
            if degraded.session_not_checked(exc):
                return None
            raise
        if user is None:
            return None
        mark_cookie_day()
        return LoginUser(user, sid)

    @manager.request_loader  # type: ignore[untyped-decorator]
    def load_from_request(_request: object) -> LoginUser | None:
        return basic_auth_user()

    app.before_request(check_access)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["ROLES"] = ROLES
