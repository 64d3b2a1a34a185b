"""JSON API for invites, registration, accounts (unlock, reset links, own password),
freezing, presence and autosaved drafts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user

from storage.names import whole_number
from wiki import audit
from wiki.accounts import User
from wiki.errors import N_, InvalidInput, PageNotFound
from wiki.invites import Invite
from wiki.live.draftmerge import merge_draft
from wiki.phases import frozen_scopes
from wiki.presence import Editor
from wiki.views import me, services
from wiki.views.access import PUBLIC, allow, json_without_csrf
from wiki.views.api import body, text_field
from wiki.views.auth import renew_session
from wiki.views.security import external_url
from wiki.views.workshop import drafts, presence

bp = Blueprint("workshop_api", __name__, url_prefix="/api/v1")


def invite_json(invite: Invite) -> dict[str, Any]:
    """An invite with its absolute link."""
    return {"code": invite.code, "url": external_url("join.invite", code=invite.code),
            "role": invite.role, "expires": invite.expires, "max_uses": invite.max_uses,
            "uses": invite.uses, "usable": invite.usable()}


def number_field(data: dict[str, Any], key: str, default: int) -> int:
    """A whole-number field of the JSON body (the one `whole_number` check)."""
    value = data.get(key, default)
    number = whole_number(value) if isinstance(value, int) else None
    if number is None:
        raise InvalidInput(N_("'{key}' must be a whole number"), key=key)
    return number


def named_user(name: str) -> User:
    """The account called `name` (folded like a login), or PageNotFound."""
    person = services().accounts.by_name(name)
    if person is None:
        raise PageNotFound(N_("no user called {name}"), name=name)
    return person


def unlock_account(person: User) -> None:
    """Lift a lockout after failed logins, on a facilitator's word."""
    services().accounts.unlock(person)
    audit.record("account_unlocked", user=me().name, account=person.name)


def issue_reset_link(person: User) -> str:
    """A new one-time password reset link for `person`, made by the facilitator."""
    secret = services().resets.issue(person, by=me())
    audit.record("password_reset_link", user=me().name, account=person.name)
    return external_url("auth.reset_password", secret=secret)


def editors_json(editors: list[Editor]) -> dict[str, Any]:
    """Who else is editing."""
    return {"editors": [{"name": e.name, "dirty": e.dirty, "since": e.since}
                        for e in editors]}


@bp.route("/invites", methods=["GET", "POST"])
@allow("facilitator")
def invites() -> Response | tuple[Response, int]:
    store = services().invites
    if request.method == "GET":
        return jsonify([invite_json(i) for i in store.all()])
    data = body()
    made = store.create(me(), text_field(data, "role") or "participant",
                        number_field(data, "expires_days", 14), number_field(data, "max_uses", 1))
    return jsonify(invite_json(made)), 201


@bp.post("/register")
@allow(PUBLIC)
@json_without_csrf
def register() -> tuple[Response, int]:
    data = body()
    user = services().invites.register(
        text_field(data, "invite", True), text_field(data, "name", True),
        text_field(data, "email", True), text_field(data, "password", True),
        request.remote_addr)
    return jsonify(name=user.name, email=user.email, role=user.role), 201


@bp.post("/users/<name>/unlock")
@allow("facilitator")
def unlock(name: str) -> Response:
    person = named_user(name)
    unlock_account(person)
    return jsonify(name=person.name, locked=False)


@bp.post("/users/<name>/password-reset")
@allow("facilitator")
def password_reset(name: str) -> tuple[Response, int]:
    return jsonify(url=issue_reset_link(named_user(name))), 201


@bp.post("/account/password")
@allow("reader")
def account_password() -> Response:
    """Change one's own password: every other session of the account ends."""
    data = body()
    user = me()
    services().accounts.change_password(user, text_field(data, "old", True),
                                        text_field(data, "new", True), request.remote_addr)
    if getattr(current_user, "sid", ""):  # a browser session (not Basic) stays logged in
        renew_session(user)
    return jsonify(name=user.name, changed=True)


@bp.route("/freeze", methods=["GET", "PUT"])
@allow("reader", PUT="facilitator")
def freeze() -> Response:
    if request.method == "PUT":
        data = body()
        frozen = data.get("frozen")
        if not isinstance(frozen, bool):
            raise InvalidInput(N_("'frozen' must be true or false"))
        services().phases.set_frozen(text_field(data, "scope", True), frozen, me(), "api")
    return jsonify(frozen=[{"scope": s.scope, "by": s.by, "at": s.at}
                           for s in frozen_scopes(services().db)])


@bp.route("/pages/<path:path>/presence", methods=["GET", "POST"])
@allow("reader", POST="participant")
def page_presence(path: str) -> Response:
    if request.method == "POST":
        data = body()
        if data.get("leaving") is True:
            presence().leave(path, me())
        else:
            presence().heartbeat(path, me(), dirty=data.get("dirty") is True)
        return jsonify(editors_json(presence().editors(path, besides=me())))
    return jsonify(editors_json(presence().editors(path)))


@bp.route("/pages/<path:path>/draft", methods=["GET", "PUT", "DELETE"])
@allow("participant")
def draft(path: str) -> Response:
    if request.method == "PUT":
        data = body()
        kept = drafts().put(path, me(), data.get("markdown"), data.get("base_revision"))
        return jsonify(page=kept.page, saved=kept.saved)
    if request.method == "DELETE":
        drafts().delete(path, me())
        return Response(status=204)
    found = drafts().get(path, me())
    if found is None:
        return Response(status=204)
    return jsonify(page=found.page, markdown=found.markdown,
                   base_revision=found.base_revision, saved=found.saved)


@bp.post("/pages/<path:path>/draft/merge")
@allow("participant")
def draft_merge(path: str) -> Response:
    """Your draft merged into the live text sent (static/live.bundle.js restores it so)."""
    merged = merge_draft(services().pages, drafts(), path, me(), body().get("markdown"))
    return jsonify(markdown=merged.markdown, changes=[list(c) for c in merged.changes],
                   overlapped=merged.overlapped)
