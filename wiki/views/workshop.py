"""Shared view helpers for the workshop features.

The page view hands its template `page_workshop(name)` (comments, reactions,
editors, freeze state of one page); every page gets the freeze banner's scope
from the context processor.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from flask import Flask, g, request
from flask_login import current_user
from markupsafe import Markup

from storage.errors import InvalidPageName
from storage.names import normalize_page_name, page_file
from wiki.accounts import User
from wiki.comments import REPORT_REASONS, Comment, Comments
from wiki.drafts import Drafts
from wiki.errors import PageNotFound
from wiki.passages import Place, plain
from wiki.phases import WIKI, FrozenScope, covering, frozen_scopes
from wiki.presence import Editor, Presence
from wiki.reactions import KINDS, Reactions, Tally, comment_target, page_target
from wiki.views import services
from wiki.views.discussion_render import comment_section


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
    passages: dict[int, Place]  # where each passage comment sits now (by comment id)
    section: Markup | None = None  # the rendered comment section, when the view reuses one


def viewer() -> User | None:
    """The logged-in user, or None for an anonymous reader of a public wiki."""
    if not current_user.is_authenticated:
        return None
    user: User = current_user.user
    return user


def comments() -> Comments:
    """The comment store."""
    return services().comments


def reactions() -> Reactions:
    """The reaction store."""
    return services().reactions


def presence() -> Presence:
    """Who is editing what."""
    return services().presence


def drafts() -> Drafts:
    """Autosaved drafts."""
    return services().drafts


def comment_ids(threads: list[Comment]) -> list[int]:
    """Ids of the comments and their replies."""
    return [c.id for t in threads for c in (t, *t.replies)]


def passage_places(name: str, threads: list[Comment]) -> dict[int, Place]:
    """Where the passage comments among `threads` sit in the page's current text (a page
    that is gone has them all on an earlier version)."""
    anchors = {c.id: c.anchor for c in threads if c.anchor is not None}
    if not anchors:
        return {}
    pages = services().pages
    try:
        page = pages.get(name)
    except PageNotFound:
        return {i: Place(None, None) for i in anchors}

    def text_at(revision: str) -> str | None:
        try:
            return pages.get(page.name, revision).markdown
        except PageNotFound:
            return None

    return services().passages.places(page.markdown, page.blob, anchors, text_at)


def page_workshop(name: str, full: bool = False) -> PageWorkshop:
    """Comments, reactions, editors and freeze state of page `name` for the viewer.

    For an existing page (unless `full`) the comment section comes rendered, from the
    cache when the page's discussion has not changed (wiki/views/discussion_render.py),
    and the comments themselves are loaded only to render it.
    """
    who = viewer()
    light = PageWorkshop(
        name=name, comments=[], count=comments().count(name, who),
        reactions=reactions().tally(page_target(name), who), comment_reactions={},
        editors=presence().editors(name, besides=who),
        frozen=frozen_page(name), passages={},
    )
    repo = services().repo
    head = repo.head()
    blob = None if full or head is None else repo.blob_id(head, page_file(name))
    if blob is None:
        return with_comments(light, who)
    return replace(light, section=comment_section(name, blob, who,
                                                  lambda: with_comments(light, who)))


def with_comments(light: PageWorkshop, who: User | None) -> PageWorkshop:
    """`light` with the page's comments, their reactions and the passages' places."""
    threads = comments().for_page(light.name, who)
    tallies = reactions().tallies((comment_target(i) for i in comment_ids(threads)), who)
    return replace(light, comments=threads, comment_reactions=tallies,
                   passages=passage_places(light.name, threads))


def scopes_frozen() -> list[FrozenScope]:
    """Every frozen scope, read once per request: a page view asks for them in its
    workshop panel and in the banner of each template it renders."""
    scopes: list[FrozenScope] | None = g.get("cowiki_frozen_scopes")
    if scopes is None:
        scopes = g.cowiki_frozen_scopes = frozen_scopes(services().db)
    return scopes


def frozen_page(name: str) -> FrozenScope | None:
    """The scope that freezes page `name` (as phases.is_frozen, on this request's read)."""
    return covering(scopes_frozen(), name)


def frozen_here() -> FrozenScope | None:
    """The frozen scope covering the page this request is about (or the whole wiki)."""
    path = (request.view_args or {}).get("path")
    if isinstance(path, str):
        try:
            return frozen_page(normalize_page_name(path))
        except InvalidPageName:
            return None
    return next((s for s in scopes_frozen() if s.scope == WIKI), None)


def install(app: Flask) -> None:
    """Template helpers (the draft clean-up is a listener of the change door)."""

    @app.context_processor
    def context() -> dict[str, Any]:
        # Data every page's header needs (the freeze banner); pages hand the rest.
        frozen = frozen_here() if current_user.is_authenticated else None
        user = viewer()
        # Participants get no Edit, Rename or Delete on a frozen page: the banner says why.
        may_edit = user is not None and user.can("participant") and (
            frozen is None or user.can("facilitator"))
        return {"frozen_banner": frozen, "may_edit": may_edit, "REACTION_KINDS": KINDS,
                "REPORT_REASONS": REPORT_REASONS, "comment_target": comment_target,
                "passage_text": plain}
