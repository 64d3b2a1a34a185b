"""Joining through an invite link: pick a name, email and password, land logged in."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from wiki.errors import InvalidInput
from wiki.invites import InviteInvalid
from wiki.views import services
from wiki.views.access import PUBLIC, allow
from wiki.views.auth import begin_session
from wiki.views.i18n import error_text
from wiki.views.workshop_api import register_throttled

bp = Blueprint("join", __name__)


@bp.route("/invite/<code>", methods=["GET", "POST"])
@allow(PUBLIC)
def invite(code: str) -> str | Response | tuple[str, int]:
    invites = services().invites
    try:
        found = invites.usable(code)
    except InviteInvalid as exc:
        return render_template("join/invalid.html", message=error_text(exc)), 404
    form = request.form
    if request.method == "GET":
        return render_template("join/register.html", invite=found, error=None, form=form)
    if register_throttled():
        return render_template("join/register.html", invite=found, form=form,
                               error=gettext("Too many attempts. Wait a few minutes.")), 429
    try:
        user = invites.register(code, form.get("name", ""), form.get("email", ""),
                                form.get("password", ""))
    except (InvalidInput, InviteInvalid) as exc:
        return render_template("join/register.html", invite=found, error=error_text(exc),
                               form=form), 400
    begin_session(user)  # a fresh session (and CSRF token) for the new account
    return redirect(url_for("pages.home"))
