"""Facilitators' pages: people (roles, deactivation), invite links, reports and phases."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from wiki.errors import InvalidInput, PageNotFound
from wiki.invites import Invites
from wiki.phases import frozen_scopes, set_frozen
from wiki.views import me, services
from wiki.views.access import allow, safe_next
from wiki.views.workshop import comments

bp = Blueprint("admin", __name__, url_prefix="/admin")


def form_number(field: str, default: int) -> int:
    """A whole number from the form."""
    raw = request.form.get(field, str(default)).strip()
    if not raw.isdigit():
        raise InvalidInput(f"{field.replace('_', ' ')} must be a whole number")
    return int(raw)


@bp.get("/users")
@allow("facilitator")
def users() -> str:
    return render_template("admin/users.html", people=services().accounts.all_users(),
                           invites=Invites(services().accounts).all(),
                           reported=comments().reported())


@bp.post("/users/<int:user_id>")
@allow("facilitator")
def change_user(user_id: int) -> Response:
    accounts = services().accounts
    person = accounts.get(user_id)
    if person is None:
        raise PageNotFound(f"user {user_id}")
    if person.id == me().id:
        flash("You cannot change your own role or deactivate yourself.")
        return redirect(url_for("admin.users"))
    role = request.form.get("role")
    if role and role != person.role:
        accounts.set_role(person, role)
        flash(f"{person.name} is now {role}.")
    active = request.form.get("active")
    if active in ("0", "1") and (active == "1") != person.active:
        accounts.set_active(person, active == "1")
        flash(f"{person.name} was {'reactivated' if active == '1' else 'deactivated'}.")
    return redirect(url_for("admin.users"))


@bp.post("/invites")
@allow("facilitator")
def create_invite() -> Response:
    invite = Invites(services().accounts).create(
        me(), request.form.get("role", "participant"), form_number("expires_days", 14),
        form_number("max_uses", 30))
    flash("Invite link created; copy it from the list below.")
    return redirect(url_for("admin.users", new=invite.code) + "#invites")


@bp.post("/invites/<code>/revoke")
@allow("facilitator")
def revoke_invite(code: str) -> Response:
    Invites(services().accounts).revoke(code)
    flash("Invite link revoked.")
    return redirect(url_for("admin.users") + "#invites")


@bp.route("/phases", methods=["GET", "POST"])
@allow("facilitator")
def phases() -> str | Response:
    if request.method == "POST":
        frozen = request.form.get("frozen") == "1"
        scope = set_frozen(services().db, request.form.get("scope", ""), frozen, me().id)
        flash(f"{'Froze' if frozen else 'Unfroze'} {scope}.")
        return redirect(safe_next(request.form.get("next") or url_for("admin.phases")))
    folders = sorted({p.name.rsplit("/", 1)[0] for p in services().wiki.all_pages()
                      if "/" in p.name}, key=str.casefold)
    return render_template("admin/phases.html", scopes=frozen_scopes(services().db),
                           folders=folders)
