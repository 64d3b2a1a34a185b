"""Autosaved drafts: the editor's unsaved text, one per person and page, on the server.

A draft survives a closed tab or a crashed browser; the editor offers it
back. It never becomes a commit by itself: only the user's own save does
that, after which the draft is deleted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, select

from storage.names import normalize_page_name, validate_revision
from wiki.accounts import User
from wiki.db import Database
from wiki.dbdialect import upsert
from wiki.dbschema import drafts
from wiki.errors import N_, InvalidInput, PageTooLarge

# Built once (every save asks): building costs more than SQLite's answer.
_MINE = (drafts.c.page == bindparam("page"), drafts.c.user_id == bindparam("user"))
_HAS_DRAFT = select(drafts.c.user_id).where(*_MINE)
_FORGET = delete(drafts).where(*_MINE)


@dataclass(frozen=True)
class Draft:
    """Unsaved text and the revision it was edited from ('' for a new page)."""

    page: str
    markdown: str
    base_revision: str
    saved: float


class Drafts:
    """Drafts in the shared database, limited to the page size."""

    def __init__(self, db: Database, max_bytes: int) -> None:
        self.db = db
        self.max_bytes = max_bytes

    def put(self, page: str, user: User, markdown: object, base_revision: object) -> Draft:
        """Keep (or replace) the user's draft of `page`."""
        page = normalize_page_name(page)
        if not isinstance(markdown, str):
            raise InvalidInput(N_("'markdown' must be a string"))
        if len(markdown.encode("utf-8")) > self.max_bytes:
            raise PageTooLarge(N_("page is larger than {limit} bytes"), limit=self.max_bytes)
        base = validate_revision(base_revision) if base_revision else ""
        draft = Draft(page, markdown, base, time.time())
        with self.db.transaction() as conn:
            conn.execute(upsert(self.db.dialect, drafts, {
                "page": page, "user_id": user.id, "markdown": markdown,
                "base_revision": base, "saved": draft.saved}, keys=("page", "user_id"),
                update=("page", "markdown", "base_revision", "saved")))
        return draft

    def get(self, page: str, user: User) -> Draft | None:
        """The user's draft of `page`, if any."""
        row = self.db.connect().execute(select(drafts).where(
            drafts.c.page == normalize_page_name(page),
            drafts.c.user_id == user.id)).mappings().first()
        if row is None:
            return None
        return Draft(row["page"], row["markdown"], row["base_revision"], row["saved"])

    def delete(self, page: str, user: User) -> None:
        """Forget the user's draft of `page` (when they discard it)."""
        self.forget(page, user.id)

    def forget(self, page: str, user_id: int) -> None:
        """Forget account `user_id`'s draft of `page` (after their save reached git)."""
        mine = {"page": normalize_page_name(page), "user": user_id}
        if self.db.connect().execute(_HAS_DRAFT, mine).first() is None:
            return  # most saves have none: no write transaction for them
        with self.db.transaction() as conn:
            conn.execute(_FORGET, mine)
