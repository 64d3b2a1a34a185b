"""Comments on pages: Markdown (rendered sanitised), one level of replies, moderation.

Comments are keyed by page name, so a deleted page's comments stay readable
from its history, and a rename moves them along (`move`). Authors edit and
delete their own; facilitators hide (with a reason) or delete any. Hidden
comments are shown, marked, to facilitators only. Participants report a
comment once each, with one of REPORT_REASONS.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from urllib.parse import quote

from sqlalchemy import RowMapping, bindparam, delete, exists, func, insert, select, update

from storage.names import normalize_page_name
from wiki import dbdialect
from wiki.accounts import User
from wiki.db import Database
from wiki.dbschema import MAX_ID, comment_reports, comments, users
from wiki.errors import N_, InvalidInput, PageNotFound, PermissionDenied
from wiki.mentions import MentionIndex, mentioned
from wiki.notifications import Notifications
from wiki.passages import Anchor
from wiki.render import Renderer

REPORT_REASONS = ("offensive", "self-promotion", "off-topic", "other")
MAX_BODY = 10_000
MAX_REASON = 500
_author, _hider, _resolver = users.alias("u"), users.alias("h"), users.alias("v")
_REPORTED = exists().where(comment_reports.c.comment_id == comments.c.id)
_REPORTS = (select(func.count()).select_from(comment_reports)
            .where(comment_reports.c.comment_id == comments.c.id)
            .scalar_subquery().label("reports"))
_SELECT = (
    select(comments, _author.c.name.label("author"), _hider.c.name.label("hider"),
           _resolver.c.name.label("resolver"), _REPORTS)
    .join(_author, _author.c.id == comments.c.user_id)
    .outerjoin(_hider, _hider.c.id == comments.c.hidden_by)
    .outerjoin(_resolver, _resolver.c.id == comments.c.resolved_by)
)


@dataclass(frozen=True)
class Comment:
    """A comment as shown: its Markdown, the sanitised HTML and its moderation state."""

    id: int
    page: str
    parent: int | None
    author: str
    author_id: int
    body: str
    html: str
    created: float
    edited: float | None
    deleted: bool
    hidden_reason: str | None
    hidden_by: str | None
    reports: int
    replies: tuple[Comment, ...] = ()
    withheld: bool = False  # hidden, shown to a participant only as a place for its replies
    anchor: Anchor | None = None  # a comment on a passage (wiki/passages.py)
    resolved_at: float | None = None
    resolved_by: str | None = None

    @property
    def hidden(self) -> bool:
        """True when a facilitator hid this comment."""
        return self.hidden_reason is not None


def clean_body(body: object) -> str:
    """A comment body: text of 1 to MAX_BODY characters, without NUL bytes."""
    if not isinstance(body, str):
        raise InvalidInput(N_("a comment is text"))
    text = body.replace("\x00", "").replace("\r\n", "\n").strip()
    if not text:
        raise InvalidInput(N_("write something first"))
    if len(text) > MAX_BODY:
        raise InvalidInput(N_("comments are at most {count} characters"), count=MAX_BODY)
    return text


def clean_reason(reason: object) -> str:
    """A moderation reason of 1 to MAX_REASON characters."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > MAX_REASON:
        raise InvalidInput(N_("give a reason of at most {count} characters"), count=MAX_REASON)
    return text


# Every page view counts, so the statements are built once (building one costs
# several times what SQLite takes to run it).
_COUNT = select(func.count()).select_from(comments).where(
    comments.c.page == bindparam("page"), comments.c.deleted == 0)
_COUNT_SHOWN = _COUNT.where(comments.c.hidden_reason.is_(None))


class Comments:
    """Comments, their moderation and reports, in the shared database."""

    def __init__(self, db: Database, renderer: Renderer,
                 notifications: Notifications | None = None,
                 names: MentionIndex | None = None) -> None:
        self.db = db
        self.renderer = renderer
        self.notifications = notifications  # told of mentions, replies and reports
        self.names = names  # @mentions become links to people's pages

    # -- reading -------------------------------------------------------------

    def get(self, comment_id: int) -> Comment:
        """One comment (deleted ones too); PageNotFound when there is none."""
        if not 0 < comment_id <= MAX_ID:
            raise PageNotFound(N_("comment {id}"), id=comment_id)
        row = self.db.connect().execute(
            _SELECT.where(comments.c.id == comment_id)).mappings().first()
        if row is None:
            raise PageNotFound(N_("comment {id}"), id=comment_id)
        return self._comment(row)

    def for_page(self, page: str, viewer: User | None) -> list[Comment]:
        """The page's comments oldest first, each with its replies, as `viewer` may see them.

        Hidden comments appear only for facilitators; for anyone else a hidden
        comment that others replied to stays as an empty "hidden by a facilitator"
        place, so their replies stay readable. A deleted comment appears (as a
        placeholder) only while it has replies that do.
        """
        moderator = viewer is not None and viewer.can("facilitator")
        rows = self.db.connect().execute(
            _SELECT.where(comments.c.page == normalize_page_name(page))
            .order_by(comments.c.created, comments.c.id)).mappings().all()
        shown = [self._comment(r) if moderator or r["hidden_reason"] is None else _withheld(r)
                 for r in rows if moderator or r["hidden_reason"] is None or r["parent"] is None]
        replies: dict[int, list[Comment]] = {}
        for c in shown:
            if c.parent is not None and not c.deleted:
                replies.setdefault(c.parent, []).append(c)
        threads = []
        for c in shown:
            if c.parent is None and (not (c.deleted or c.withheld) or replies.get(c.id)):
                threads.append(_with_replies(c, tuple(replies.get(c.id, ()))))
        return threads

    def count(self, page: str, viewer: User | None = None) -> int:
        """Number of comments on the page `viewer` sees (not deleted; hidden for moderators)."""
        moderator = viewer is not None and viewer.can("facilitator")
        return int(self.db.connect().execute(
            _COUNT if moderator else _COUNT_SHOWN, {"page": normalize_page_name(page)},
        ).scalar_one())

    def counts(self) -> dict[str, int]:
        """Visible comments per page name (for 'most discussed')."""
        rows = self.db.connect().execute(
            select(comments.c.page, func.count())
            .where(comments.c.deleted == 0, comments.c.hidden_reason.is_(None))
            .group_by(comments.c.page)).all()
        return {str(page).casefold(): int(number) for page, number in rows}

    def by_user(self, user_id: int, viewer: User | None, limit: int = 50) -> list[Comment]:
        """A person's comments, newest first (hidden ones for facilitators only)."""
        moderator = viewer is not None and viewer.can("facilitator")
        query = _SELECT.where(comments.c.user_id == user_id, comments.c.deleted == 0)
        if not moderator:
            query = query.where(comments.c.hidden_reason.is_(None))
        rows = self.db.connect().execute(
            query.order_by(comments.c.created.desc()).limit(limit)).mappings().all()
        return [self._comment(r) for r in rows]

    def reported(self) -> list[Comment]:
        """Comments with reports, most reported first (for facilitators)."""
        rows = self.db.connect().execute(
            _SELECT.where(comments.c.deleted == 0, _REPORTED)
            .order_by(_REPORTS.desc(), comments.c.created.desc())).mappings().all()
        return [self._comment(r) for r in rows]

    def reported_count(self) -> int:
        """How many comments `reported()` lists (one query, for the menu's badge)."""
        return int(self.db.connect().execute(
            select(func.count()).select_from(comments)
            .where(comments.c.deleted == 0, _REPORTED)).scalar_one())

    def report_reasons(self, comment_id: int) -> dict[str, int]:
        """How often the comment was reported for each reason."""
        if not 0 < comment_id <= MAX_ID:
            return {}
        rows = self.db.connect().execute(
            select(comment_reports.c.reason, func.count())
            .where(comment_reports.c.comment_id == comment_id)
            .group_by(comment_reports.c.reason)).all()
        return {str(reason): int(number) for reason, number in rows}

    # -- writing -------------------------------------------------------------

    def add(self, page: str, author: User, body: str, parent: int | None = None,
            anchor: Anchor | None = None) -> Comment:
        """A new comment on `page`, or on a passage of it; a reply to a reply joins its
        parent's thread (replies have no passage of their own)."""
        page, text = normalize_page_name(page), clean_body(body)
        if parent is not None and anchor is not None:
            raise InvalidInput(N_("a reply belongs to its comment's passage"))
        if parent is not None:
            above = self.get(parent)
            if above.page.casefold() != page.casefold() or above.deleted:
                raise InvalidInput(N_("you can only reply to a comment on the same page"))
            parent = above.parent or above.id  # one level of replies
        answered = [above.author_id, self.get(parent).author_id] if parent is not None else []
        placed = {} if anchor is None else {
            "anchor_quote": anchor.quote, "anchor_revision": anchor.revision,
            "anchor_start": anchor.start, "anchor_end": anchor.end,
            "anchor_before": anchor.before, "anchor_after": anchor.after}
        with self.db.transaction() as conn:
            made_id = conn.execute(
                insert(comments).values(page=page, parent=parent, user_id=author.id, body=text,
                                        created=time.time(), **placed)
                .returning(comments.c.id)).scalar_one()
        made = self.get(int(made_id))
        self._tell(made, answered)
        return made

    def edit(self, comment_id: int, user: User, body: str) -> Comment:
        """Change the text of your own comment."""
        comment = self._own(comment_id, user, moderator_may=False)
        with self.db.transaction() as conn:
            conn.execute(update(comments).where(comments.c.id == comment.id)
                         .values(body=clean_body(body), edited=time.time()))
        edited = self.get(comment.id)
        self._tell(edited, [])  # someone newly mentioned hears of it
        return edited

    def delete(self, comment_id: int, user: User) -> Comment:
        """Delete your own comment, or any as a facilitator (replies stay readable)."""
        comment = self._own(comment_id, user, moderator_may=True)
        with self.db.transaction() as conn:
            conn.execute(update(comments).where(comments.c.id == comment.id)
                         .values(deleted=1, body=""))
        return comment

    def resolve(self, comment_id: int, user: User, resolved: bool = True) -> Comment:
        """Mark a thread done (or open it again); anyone who may comment may do either."""
        comment = self.get(comment_id)
        if comment.deleted or comment.parent is not None:
            raise InvalidInput(N_("only a thread that is there can be resolved"))
        with self.db.transaction() as conn:
            conn.execute(update(comments).where(comments.c.id == comment.id).values(
                resolved_at=time.time() if resolved else None,
                resolved_by=user.id if resolved else None))
        return self.get(comment.id)

    def hide(self, comment_id: int, moderator: User, reason: str) -> Comment:
        """Hide a comment from everyone but facilitators, giving a reason."""
        self._moderator(moderator)
        text = clean_reason(reason)
        target = self.get(comment_id).id
        with self.db.transaction() as conn:
            conn.execute(update(comments).where(comments.c.id == target).values(
                hidden_reason=text, hidden_by=moderator.id, hidden_at=time.time()))
        return self.get(comment_id)

    def unhide(self, comment_id: int, moderator: User) -> Comment:
        """Show a hidden comment again; its reports are dismissed."""
        self._moderator(moderator)
        target = self.get(comment_id).id
        with self.db.transaction() as conn:
            conn.execute(update(comments).where(comments.c.id == target).values(
                hidden_reason=None, hidden_by=None, hidden_at=None))
            conn.execute(delete(comment_reports).where(comment_reports.c.comment_id == target))
        return self.get(comment_id)

    def report(self, comment_id: int, user: User, reason: str) -> None:
        """Report a comment (once per person; a second report replaces the reason)."""
        if reason not in REPORT_REASONS:
            raise InvalidInput(N_("reason must be one of {reasons}"),
                               reasons=", ".join(REPORT_REASONS))
        comment = self.get(comment_id)
        if comment.deleted:
            raise PageNotFound(N_("comment {id}"), id=comment_id)
        if comment.author_id == user.id:
            raise InvalidInput(N_("you cannot report your own comment; edit or delete it"))
        with self.db.transaction() as conn:
            conn.execute(dbdialect.upsert(
                self.db.dialect, comment_reports,
                {"comment_id": comment.id, "user_id": user.id, "reason": reason,
                 "created": time.time()}, keys=("comment_id", "user_id")))
        if self.notifications is not None:
            self.notifications.notify(self.notifications.facilitators(), "report", comment.page,
                                      user.id, reason, _link(comment))

    def move(self, old: str, new: str) -> None:
        """Follow a page rename: the comments now belong to `new`."""
        with self.db.transaction() as conn:
            conn.execute(update(comments).where(comments.c.page == old).values(page=new))

    # -- helpers -------------------------------------------------------------

    def _tell(self, comment: Comment, answered: list[int]) -> None:
        """Notify the people `comment` mentions, and the authors of the comments it answers."""
        if self.notifications is None:
            return
        named = mentioned(self.names.accounts, comment.body) if self.names is not None else []
        link = _link(comment)
        self.notifications.notify(named, "mention", comment.page, comment.author_id,
                                  comment.body, link)
        self.notifications.notify(set(answered) - set(named), "reply", comment.page,
                                  comment.author_id, comment.body, link)

    def _own(self, comment_id: int, user: User, moderator_may: bool) -> Comment:
        comment = self.get(comment_id)
        if comment.deleted:
            raise PageNotFound(N_("comment {id}"), id=comment_id)
        if comment.author_id != user.id and not (moderator_may and user.can("facilitator")):
            raise PermissionDenied(N_("you can only change your own comments"))
        return comment

    @staticmethod
    def _moderator(user: User) -> None:
        if not user.can("facilitator"):
            raise PermissionDenied(N_("only facilitators moderate comments"))

    def _linked(self, body: str) -> str:
        return body if self.names is None else self.names.link(body, self.renderer.base)

    def _comment(self, r: RowMapping) -> Comment:
        deleted = bool(r["deleted"])
        return Comment(
            id=r["id"], page=r["page"], parent=r["parent"], author=r["author"],
            author_id=r["user_id"], body=r["body"],
            html="" if deleted else self.renderer.render(self._linked(r["body"])),
            created=r["created"], edited=r["edited"], deleted=deleted,
            hidden_reason=r["hidden_reason"], hidden_by=r["hider"], reports=r["reports"],
            anchor=_anchor(r), resolved_at=r["resolved_at"], resolved_by=r["resolver"],
        )


def _link(comment: Comment) -> str:
    """Where a comment is shown: on its page, at its anchor."""
    return f"/p/{quote(comment.page)}#comment-{comment.id}"


def _withheld(r: RowMapping) -> Comment:
    """A hidden comment as a non-moderator sees it: no author, text or reason."""
    return Comment(id=r["id"], page=r["page"], parent=r["parent"], author="",
                   author_id=0, body="", html="", created=r["created"], edited=None,
                   deleted=bool(r["deleted"]), hidden_reason=None, hidden_by=None, reports=0,
                   withheld=True, anchor=_anchor(r), resolved_at=r["resolved_at"])


def _anchor(r: RowMapping) -> Anchor | None:
    if r["anchor_quote"] is None:
        return None
    return Anchor(r["anchor_quote"], r["anchor_revision"], r["anchor_start"], r["anchor_end"],
                  r["anchor_before"] or "", r["anchor_after"] or "")


def _with_replies(comment: Comment, replies: tuple[Comment, ...]) -> Comment:
    return replace(comment, replies=replies)
