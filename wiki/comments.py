"""Comments on pages: Markdown (rendered sanitised), one level of replies, moderation.

Comments are keyed by page name, so a deleted page's comments stay readable
from its history, and a rename moves them along (`move`). Authors edit and
delete their own; facilitators hide (with a reason) or delete any. Hidden
comments are shown, marked, to facilitators only. Participants report a
comment once each, with one of REPORT_REASONS.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, replace
from urllib.parse import quote

from storage.names import normalize_page_name
from wiki.accounts import User
from wiki.db import Database
from wiki.errors import N_, InvalidInput, PageNotFound, PermissionDenied
from wiki.mentions import MentionIndex, mentioned
from wiki.notifications import Notifications
from wiki.passages import Anchor
from wiki.render import Renderer

REPORT_REASONS = ("offensive", "self-promotion", "off-topic", "other")
MAX_BODY = 10_000
MAX_REASON = 500
_SELECT = (
    "SELECT c.*, u.name AS author, h.name AS hider, v.name AS resolver,"
    " (SELECT count(*) FROM comment_reports r WHERE r.comment_id = c.id) AS reports"
    " FROM comments c JOIN users u ON u.id = c.user_id"
    " LEFT JOIN users h ON h.id = c.hidden_by"
    " LEFT JOIN users v ON v.id = c.resolved_by"
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


class Comments:
    """Comments, their moderation and reports, in SQLite."""

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
        if not -(2**63) <= comment_id < 2**63:  # beyond SQLite's INTEGER: no such comment
            raise PageNotFound(N_("comment {id}"), id=comment_id)
        row = self.db.connect().execute(_SELECT + " WHERE c.id = ?", (comment_id,)).fetchone()
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
            _SELECT + " WHERE c.page = ? ORDER BY c.created, c.id",
            (normalize_page_name(page),)).fetchall()
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
        row = self.db.connect().execute(
            "SELECT count(*) FROM comments WHERE page = ? AND deleted = 0"
            " AND (? OR hidden_reason IS NULL)", (normalize_page_name(page), moderator)).fetchone()
        return int(row[0])

    def counts(self) -> dict[str, int]:
        """Visible comments per page name (for 'most discussed')."""
        rows = self.db.connect().execute(
            "SELECT page, count(*) FROM comments WHERE deleted = 0 AND hidden_reason IS NULL"
            " GROUP BY page").fetchall()
        return {str(r[0]).casefold(): int(r[1]) for r in rows}

    def by_user(self, user_id: int, viewer: User | None, limit: int = 50) -> list[Comment]:
        """A person's comments, newest first (hidden ones for facilitators only)."""
        moderator = viewer is not None and viewer.can("facilitator")
        rows = self.db.connect().execute(
            _SELECT + " WHERE c.user_id = ? AND c.deleted = 0 AND (? OR c.hidden_reason IS NULL)"
            " ORDER BY c.created DESC LIMIT ?", (user_id, moderator, limit)).fetchall()
        return [self._comment(r) for r in rows]

    def reported(self) -> list[Comment]:
        """Comments with reports, most reported first (for facilitators)."""
        rows = self.db.connect().execute(
            _SELECT + " WHERE c.deleted = 0 AND EXISTS (SELECT 1 FROM comment_reports r"  # noqa: S608 (constant SQL)
            " WHERE r.comment_id = c.id) ORDER BY reports DESC, c.created DESC").fetchall()
        return [self._comment(r) for r in rows]

    def reported_count(self) -> int:
        """How many comments `reported()` lists (one query, for the menu's badge)."""
        row = self.db.connect().execute(
            "SELECT count(*) FROM comments c WHERE c.deleted = 0 AND EXISTS"
            " (SELECT 1 FROM comment_reports r WHERE r.comment_id = c.id)").fetchone()
        return int(row[0])

    def report_reasons(self, comment_id: int) -> dict[str, int]:
        """How often the comment was reported for each reason."""
        rows = self.db.connect().execute(
            "SELECT reason, count(*) FROM comment_reports WHERE comment_id = ?"
            " GROUP BY reason", (comment_id,)).fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

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
        with self.db.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO comments (page, parent, user_id, body, created, anchor_quote,"
                " anchor_revision, anchor_start, anchor_end, anchor_before, anchor_after)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (page, parent, author.id, text, time.time(),
                 *((anchor.quote, anchor.revision, anchor.start, anchor.end, anchor.before,
                    anchor.after) if anchor else (None,) * 6)))
        made = self.get(int(cur.lastrowid or 0))
        self._tell(made, answered)
        return made

    def edit(self, comment_id: int, user: User, body: str) -> Comment:
        """Change the text of your own comment."""
        comment = self._own(comment_id, user, moderator_may=False)
        with self.db.transaction() as conn:
            conn.execute("UPDATE comments SET body = ?, edited = ? WHERE id = ?",
                         (clean_body(body), time.time(), comment.id))
        edited = self.get(comment.id)
        self._tell(edited, [])  # someone newly mentioned hears of it
        return edited

    def delete(self, comment_id: int, user: User) -> Comment:
        """Delete your own comment, or any as a facilitator (replies stay readable)."""
        comment = self._own(comment_id, user, moderator_may=True)
        with self.db.transaction() as conn:
            conn.execute("UPDATE comments SET deleted = 1, body = '' WHERE id = ?", (comment.id,))
        return comment

    def resolve(self, comment_id: int, user: User, resolved: bool = True) -> Comment:
        """Mark a thread done (or open it again); anyone who may comment may do either."""
        comment = self.get(comment_id)
        if comment.deleted or comment.parent is not None:
            raise InvalidInput(N_("only a thread that is there can be resolved"))
        with self.db.transaction() as conn:
            conn.execute("UPDATE comments SET resolved_at = ?, resolved_by = ? WHERE id = ?",
                         (time.time(), user.id, comment.id) if resolved
                         else (None, None, comment.id))
        return self.get(comment.id)

    def hide(self, comment_id: int, moderator: User, reason: str) -> Comment:
        """Hide a comment from everyone but facilitators, giving a reason."""
        self._moderator(moderator)
        text = clean_reason(reason)
        target = self.get(comment_id).id
        with self.db.transaction() as conn:
            conn.execute("UPDATE comments SET hidden_reason = ?, hidden_by = ?, hidden_at = ?"
                         " WHERE id = ?", (text, moderator.id, time.time(), target))
        return self.get(comment_id)

    def unhide(self, comment_id: int, moderator: User) -> Comment:
        """Show a hidden comment again; its reports are dismissed."""
        self._moderator(moderator)
        target = self.get(comment_id).id
        with self.db.transaction() as conn:
            conn.execute("UPDATE comments SET hidden_reason = NULL, hidden_by = NULL,"
                         " hidden_at = NULL WHERE id = ?", (target,))
            conn.execute("DELETE FROM comment_reports WHERE comment_id = ?", (comment_id,))
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
            conn.execute("INSERT OR REPLACE INTO comment_reports"
                         " (comment_id, user_id, reason, created) VALUES (?, ?, ?, ?)",
                         (comment.id, user.id, reason, time.time()))
        if self.notifications is not None:
            self.notifications.notify(self.notifications.facilitators(), "report", comment.page,
                                      user.id, reason, _link(comment))

    def move(self, old: str, new: str) -> None:
        """Follow a page rename: the comments now belong to `new`."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE comments SET page = ? WHERE page = ?", (new, old))

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

    def _comment(self, r: sqlite3.Row) -> Comment:
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


def _withheld(r: sqlite3.Row) -> Comment:
    """A hidden comment as a non-moderator sees it: no author, text or reason."""
    return Comment(id=r["id"], page=r["page"], parent=r["parent"], author="",
                   author_id=0, body="", html="", created=r["created"], edited=None,
                   deleted=bool(r["deleted"]), hidden_reason=None, hidden_by=None, reports=0,
                   withheld=True, anchor=_anchor(r), resolved_at=r["resolved_at"])


def _anchor(r: sqlite3.Row) -> Anchor | None:
    if r["anchor_quote"] is None:
        return None
    return Anchor(r["anchor_quote"], r["anchor_revision"], r["anchor_start"], r["anchor_end"],
                  r["anchor_before"] or "", r["anchor_after"] or "")


def _with_replies(comment: Comment, replies: tuple[Comment, ...]) -> Comment:
    return replace(comment, replies=replies)
