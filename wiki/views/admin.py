"""Facilitators' pages: people (roles, deactivation, lockouts, reset links), invite links
with their QR code, reports and phases."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from storage.names import whole_number
from wiki.accounts import User
from wiki.errors import N_, InvalidInput, PageNotFound
from wiki.invites import MAX_CODE, qr_svg
from wiki.phases import frozen_scopes
from wiki.views import me, services
from wiki.views.access import allow, safe_next
from wiki.views.i18n import LANGUAGE_NAMES, language_arg, role_name
from wiki.views.security import external_url
from wiki.views.workshop import comments
from wiki.views.workshop_api import issue_reset_link, unlock_account

bp = Blueprint("admin", __name__, url_prefix="/admin")
FIELD_LABELS = {"expires_days": N_("Valid for (days)"), "max_uses": N_("Uses")}
THIS_COMPUTER = {"localhost", "127.0.0.1", "::1"}


def form_number(field: str, default: int) -> int:
    """A whole number from the form."""
    number = whole_number(request.form.get(field, str(default)).strip())
    if number is None:
        label = gettext(FIELD_LABELS[field]) if field in FIELD_LABELS else field
        raise InvalidInput(gettext("“%(field)s” must be a whole number", field=label))
    return number


def account(user_id: int) -> User:
    """The account with this id, or PageNotFound."""
    found = services().accounts.get(user_id)
    if found is None:
        raise PageNotFound(gettext("user %(id)s", id=user_id))
    return found


@bp.get("/users")
@allow("facilitator")
def users() -> str:
    return render_template("admin/users.html", people=services().accounts.all_users(),
                           invites=services().invites.all(),
                           reported=comments().reported(),
                           locked=services().accounts.locked_ids(),
                           wiki_language=services().language.get())


@bp.post("/language")
@allow("facilitator")
def wiki_language() -> Response:
    """The language the wiki writes in (commit messages, welcome page, export default)."""
    language = language_arg(request.form.get("language", ""))
    services().language.set(language)
    flash(gettext("The wiki now writes in %(language)s.", language=LANGUAGE_NAMES[language]))
    return redirect(url_for("admin.users") + "#language")


@bp.post("/users/<int:user_id>")
@allow("facilitator")
def change_user(user_id: int) -> Response:
    accounts, person = services().accounts, account(user_id)
    if person.id == me().id:
        flash(gettext("You cannot change your own role or deactivate yourself."))
        return redirect(url_for("admin.users"))
    role = request.form.get("role")
    if role and role != person.role:
        accounts.set_role(person, role)
        flash(gettext("%(name)s is now %(role)s.", name=person.name, role=role_name(role)))
    active = request.form.get("active")
    if active in ("0", "1") and (active == "1") != person.active:
        accounts.set_active(person, active == "1")
        flash(gettext("%(name)s was reactivated.", name=person.name) if active == "1"
              else gettext("%(name)s was deactivated.", name=person.name))
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/unlock")
@allow("facilitator")
def unlock_user(user_id: int) -> Response:
    person = account(user_id)
    unlock_account(person)
    flash(gettext("%(name)s can log in again.", name=person.name))
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/password-reset")
@allow("facilitator")
def reset_link(user_id: int) -> str:
    """A one-time link for someone who forgot their password, shown once to copy."""
    person = account(user_id)
    return render_template("admin/reset_link.html", person=person,
                           url=issue_reset_link(person))


@bp.post("/invites")
@allow("facilitator")
def create_invite() -> Response:
    invite = services().invites.create(
        me(), request.form.get("role", "participant"), form_number("expires_days", 14),
        form_number("max_uses", 30))
    return redirect(url_for("admin.invite", code=invite.code))


@bp.get("/invites/<code>")
@allow("facilitator")
def invite(code: str) -> str:
    """One invite link to copy or to show on the projector as a QR code."""
    found = services().invites.get(code) if len(code) < MAX_CODE else None
    if found is None:
        raise PageNotFound(gettext("invite %(code)s", code=code))
    url = external_url("join.invite", code=found.code)
    return render_template("admin/invite.html", invite=found, url=url,
                           qr=qr_svg(url) if found.usable() else None,
                           this_computer=urlsplit(url).hostname in THIS_COMPUTER)


@bp.post("/invites/<code>/revoke")
@allow("facilitator")
def revoke_invite(code: str) -> Response:
    services().invites.revoke(code)
    flash(gettext("Invite link revoked."))
    return redirect(url_for("admin.users") + "#invites")


@bp.route("/phases", methods=["GET", "POST"])
@allow("facilitator")
def phases() -> str | Response:
    if request.method == "POST":
        frozen = request.form.get("frozen") == "1"
        scope = services().phases.set_frozen(request.form.get("scope", ""), frozen, me())
        flash(gettext("Froze %(scope)s.", scope=scope) if frozen
              else gettext("Unfroze %(scope)s.", scope=scope))
        return redirect(safe_next(request.form.get("next") or url_for("admin.phases")))
    folders = sorted({p.name.rsplit("/", 1)[0] for p in services().pages.all_pages()
                      if "/" in p.name}, key=str.casefold)
    return render_template("admin/phases.html", scopes=frozen_scopes(services().db),
                           folders=folders)
