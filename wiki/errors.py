"""Domain errors; `wiki/views/errors.py` maps each to one HTTP status."""

from __future__ import annotations

from storage.errors import N_, InvalidPageName, InvalidRevision, TranslatableError
from storage.merge import ConflictHunk, MergeResult

__all__ = [
    "N_", "InvalidPageName", "InvalidRevision", "TranslatableError", "WikiError", "PageNotFound",
    "PageExists", "PageTooLarge", "EditConflict", "PermissionDenied", "InvalidInput", "Frozen",
    "TooManyRequests",
]


class WikiError(TranslatableError):
    """Base class for errors a user can act on.

    The message is an English template marked with N_, its `{name}` placeholders
    given as keyword params (see storage/errors.py), so the views can translate it.
    """


class PageNotFound(WikiError):
    """No page (or attachment) of that name at that revision."""


class PageExists(WikiError):
    """A page of that name (ignoring case) already exists."""


class PageTooLarge(WikiError):
    """Content is over the configured size limit."""


class PermissionDenied(WikiError):
    """The user's role does not allow this."""


class InvalidInput(WikiError):
    """A value the user gave is malformed (not a page name or revision)."""


class Frozen(WikiError):
    """A facilitator froze this page, its folder or the whole wiki (HTTP 423 Locked)."""


class TooManyRequests(WikiError):
    """The server or the person has enough of this running; ask again after `retry_after` s."""

    def __init__(self, message: str = "", /, retry_after: int = 30, **params: object) -> None:
        super().__init__(message, **params)
        self.retry_after = retry_after


class EditConflict(WikiError):
    """The page changed since the editor's base revision and the changes overlap."""

    def __init__(self, name: str, ours: str, theirs: str, merge: MergeResult,
                 head: str | None) -> None:
        super().__init__(N_("edit conflict on {name}"), name=name)
        self.name = name
        self.ours = ours
        self.theirs = theirs
        self.merge = merge
        self.head = head

    @property
    def conflicts(self) -> tuple[ConflictHunk, ...]:
        """The overlapping hunks."""
        return self.merge.conflicts

    @property
    def merged(self) -> str:
        """The merge with conflict markers, as git would leave it."""
        return self.merge.text

    @property
    def resolved(self) -> str:
        """Everything merged, each conflict resolved to the user's own version."""
        return self.merge.resolve()
