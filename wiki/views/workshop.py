"""Shared view helpers for the workshop features, and their hooks into every page.

Templates call `workshop_page(name)` (comments, reactions, editors, freeze
state of one page) and `frozen_here()` (the banner); a successful save of a
page deletes the saver's autosaved draft of it.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from flask import Flask, request
from flask_login import current_user
from werkzeug.wrappers import Response

from storage.errors import InvalidPageName
from storage.names import normalize_page_name
from wiki.accounts import User
from wiki.comments import REPORT_REASONS, Comment, Comments
from wiki.drafts import Drafts
from wiki.phases import WIKI, FrozenScope, frozen_scopes, is_frozen
from wiki.presence import Editor, Presence
from wiki.reactions import KINDS, Reactions, Tally, comment_target, page_target
from wiki.views import services

SAVE_ENDPOINTS = {("pages.save", "POST"), ("api.page", "PUT")}


@dataclass(frozen=True)
class PageWorkshop:
    """Everything the workshop shows around one page."""

    name: str
    comments: list[Comment]
    count: int
    reactions: Tally
    comment_reactions: dict[str, Tally]
    editors: list[Editor]
    frozen: FrozenScope | None


def viewer() -> User | None:
    """The logged-in user, or None for an anonymous reader of a public wiki."""
    if not current_user.is_authenticated:
        return None
    user: User = current_user.user
    return user


def comments() -> Comments:
    """The comment store."""
    return Comments(services().db, services().renderer)


def reactions() -> Reactions:
    """The reaction store."""
    return Reactions(services().db)


def presence() -> Presence:
    """Who is editing what."""
    return Presence(services().db)


def drafts() -> Drafts:
    """Autosaved drafts."""
    return Drafts(services().db, services().settings.max_page_bytes)


def comment_ids(threads: list[Comment]) -> list[int]:
    """Ids of the comments and their replies."""
    return [c.id for t in threads for c in (t, *t.replies)]


def page_workshop(name: str) -> PageWorkshop:
    """Comments, reactions, editors and freeze state of page `name` for the viewer."""
    who = viewer()
    threads = comments().for_page(name, who)
    targets = [page_target(name), *(comment_target(i) for i in comment_ids(threads))]
    tallies = reactions().tallies(targets, who)
    return PageWorkshop(
        name=name, comments=threads, count=comments().count(name, who),
        reactions=tallies[page_target(name)],
        comment_reactions={k: v for k, v in tallies.items() if k.startswith("comment:")},
        editors=presence().editors(name, besides=who),
        frozen=is_frozen(services().db, name),
    )


def frozen_here() -> FrozenScope | None:
    """The frozen scope covering the page this request is about (or the whole wiki)."""
    path = (request.view_args or {}).get("path")
    if isinstance(path, str):
        try:
            return is_frozen(services().db, normalize_page_name(path))
        except InvalidPageName:
            return None
    return next((s for s in frozen_scopes(services().db) if s.scope == WIKI), None)


def forget_saved_draft(response: Response) -> Response:
    """after_request: a page saved for real no longer needs the saver's draft."""
    if (request.endpoint, request.method) in SAVE_ENDPOINTS and response.status_code in (
            200, 201, 302) and viewer() is not None:
        path = (request.view_args or {}).get("path")
        if isinstance(path, str):
            with suppress(InvalidPageName):
                drafts().delete(path, current_user.user)
    return response


def install(app: Flask) -> None:
    """Template helpers and the draft clean-up hook."""
    app.after_request(forget_saved_draft)

    @app.context_processor
    def context() -> dict[str, Any]:
        return {"workshop_page": page_workshop, "frozen_here": frozen_here,
                "REACTION_KINDS": KINDS, "REPORT_REASONS": REPORT_REASONS,
                "comment_target": comment_target}
