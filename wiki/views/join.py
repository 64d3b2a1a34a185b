"""Joining through an invite link: pick a name, email and password (or, where the wikis
of a server share accounts, log in with the account one has), land logged in on a
welcome page that says what to do first."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from wiki.errors import InvalidInput, TooManyRequests
from wiki.invites import InviteInvalid
from wiki.views import services
from wiki.views.access import PUBLIC, allow
from wiki.views.auth import begin_session
from wiki.views.i18n import error_text
from wiki.views.pages import chapter_nav

bp = Blueprint("join", __name__)


@bp.route("/invite/<code>", methods=["GET", "POST"])
@allow(PUBLIC)
def invite(code: str) -> str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    invites = services().invites
    try:
        found = invites.usable(code)
    except InviteInvalid as exc:
        return render_template("join/invalid.html", message=error_text(exc)), 404
    form = request.form
    shared = services().accounts.shared  # an account of another wiki here may join as it is
    if request.method == "GET":
        return render_template("join/register.html", invite=found, error=None, form=form,
                               shared=shared)
    existing = shared and form.get("existing") == "1"
    try:
        if existing:
            user = invites.join(code, form.get("name", ""), form.get("password", ""),
                                request.remote_addr)
        else:
            user = invites.register(code, form.get("name", ""), form.get("email", ""),
                                    form.get("password", ""), request.remote_addr)
    except TooManyRequests as exc:
        return render_template("join/register.html", invite=found, form=form, shared=shared,
                               error=error_text(exc)), 429, {"Retry-After": str(exc.retry_after)}
    except (InvalidInput, InviteInvalid) as exc:
        return render_template("join/register.html", invite=found, error=error_text(exc),
                               form=form, shared=shared), 400
    begin_session(user)  # a fresh session (and CSRF token) for the new account
    return redirect(url_for("join.welcome"))


@bp.get("/welcome")
@allow("reader")
def welcome() -> str:
    """What a newcomer does first: read Home, pick a chapter, comment, save."""
    return render_template("join/welcome.html", chapters=chapter_nav())
