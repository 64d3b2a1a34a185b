"""Login, logout, password reset links and the account page with personal access tokens."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext, lazy_gettext, refresh
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from storage.errors import N_
from wiki import audit
from wiki.accounts import LoginRefused, NotAMember, User
from wiki.errors import InvalidInput, PermissionDenied
from wiki.resets import ResetInvalid
from wiki.views import degraded, me, services
from wiki.views.access import PUBLIC, LoginUser, allow, mark_cookie_day, safe_next
from wiki.views.i18n import clear_session_keeping_language, error_text, language_arg

bp = Blueprint("auth", __name__)
# N_: pybabel does not look for lazy_gettext, so the text was never in the catalogs.
FAILED = lazy_gettext(N_("Unknown name or wrong password."))


def begin_session(user: User) -> None:
    """Log this browser in as `user` with a fresh session (and CSRF token)."""
    clear_session_keeping_language()
    session.permanent = True
    mark_cookie_day()
    login_user(LoginUser(user, services().accounts.start_session(user)))


def renew_session(user: User) -> None:
    """Log this browser in again after the account's sessions ended (its own new
    password), keeping the CSRF token, so that an open page's scripts keep working."""
    csrf = session.get("csrf")
    begin_session(services().accounts.get(user.id) or user)  # the new session generation
    if csrf:
        session["csrf"] = csrf


def end_session() -> None:
    """Log this browser out; a copy of its cookie is logged out too."""
    unchecked = degraded.unchecked_session()
    if unchecked is not None:  # its session lives on in the database: answer 503, keep it
        raise unchecked
    if current_user.is_authenticated and getattr(current_user, "sid", ""):
        services().accounts.end_session(current_user.sid)
    logout_user()
    clear_session_keeping_language()


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
def login() -> str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    accounts = services().accounts
    target = safe_next(request.values.get("next"))
    no_users = accounts.count() == 0
    if request.method == "GET":
        return render_template("auth/login.html", next=target, error=None, no_users=no_users)
    name, password = request.form.get("name", ""), request.form.get("password", "")
    try:
        user = accounts.log_in(name, password, request.remote_addr)
    except LoginRefused as exc:
        return render_template("auth/login.html", next=target, no_users=no_users,
                               error=error_text(exc)), 429, {"Retry-After": str(exc.retry_after)}
    except NotAMember as exc:
        return render_template("auth/login.html", next=target, no_users=no_users,
                               error=error_text(exc)), 403
    if user is None:
        audit.login_failure(name, request.remote_addr, via="form")
        return render_template("auth/login.html", next=target, error=FAILED,
                               no_users=no_users), 401
    begin_session(user)
    return redirect(target)


@bp.post("/logout")
@allow(PUBLIC)
def logout() -> Response:
    end_session()
    return redirect(url_for("auth.login"))


@bp.post("/account/sessions/end")
@allow("reader")
def logout_everywhere() -> Response:
    services().accounts.end_all_sessions(me())
    end_session()
    flash(gettext("You were logged out on every device."))
    return redirect(url_for("auth.login"))


@bp.get("/account")
@allow("reader")
def account() -> str:
    tokens = services().accounts.tokens(me())
    return render_template("auth/account.html", tokens=tokens, new_token=None)


@bp.post("/account/tokens")
@allow("reader")
def create_token() -> str:
    accounts = services().accounts
    token = accounts.create_token(me(), request.form.get("label", "token"))
    return render_template("auth/account.html", tokens=accounts.tokens(me()), new_token=token)


@bp.post("/account/tokens/<int:token_id>/revoke")
@allow("reader")
def revoke_token(token_id: int) -> Response:
    services().accounts.revoke_token(me(), token_id)
    flash(gettext("Token revoked."))
    return redirect(url_for("auth.account"))


@bp.post("/account/password")
@allow("reader")
def change_password() -> Response | tuple[str, int]:
    accounts = services().accounts
    user = me()
    try:  # ends every session of the account
        accounts.change_password(user, request.form.get("current", ""),
                                 request.form.get("new", ""), request.remote_addr)
    except PermissionDenied as exc:
        flash(error_text(exc))
        return redirect(url_for("auth.account"))
    renew_session(user)  # except this one
    flash(gettext("Password changed. You were logged out on your other devices."))
    return redirect(url_for("auth.account"))


@bp.route("/reset/<secret>", methods=["GET", "POST"])
@allow(PUBLIC)
def reset_password(secret: str) -> str | Response | tuple[str, int]:
    """A one-time link from a facilitator: pick a new password and land logged in."""
    resets = services().resets
    try:
        person = resets.user_for(secret)
        if request.method == "GET":
            return render_template("auth/reset.html", person=person, secret=secret, error=None)
        user = resets.redeem(secret, request.form.get("new", ""))
    except ResetInvalid as exc:
        return render_template("auth/reset_invalid.html", message=error_text(exc)), 404
    except InvalidInput as exc:  # a weak password: the link still works
        return render_template("auth/reset.html", person=person, secret=secret,
                               error=error_text(exc)), 400
    begin_session(user)  # the account's other sessions ended with the new password
    flash(gettext("Your new password is set and you are logged in. Your other sessions"
                  " ended."))
    return redirect(url_for("pages.home"))


@bp.post("/account/language")
@allow("reader")
def change_language() -> Response:
    language = language_arg(request.form.get("language", ""), allow_automatic=True)
    services().accounts.set_language(me(), language)
    session.pop("lang", None)  # the account's choice now applies, also to this browser
    current_user.user = replace(me(), language=language)
    refresh()  # so the message below is in the new language
    flash(gettext("Language saved."))
    return redirect(url_for("auth.account") + "#language")
