"""Domain errors; `wiki/views/errors.py` maps each to one HTTP status."""

from __future__ import annotations

from storage.errors import InvalidPageName, InvalidRevision
from storage.merge import ConflictHunk

__all__ = [
    "InvalidPageName", "InvalidRevision", "WikiError", "PageNotFound", "PageExists",
    "PageTooLarge", "EditConflict", "PermissionDenied", "InvalidInput",
]


class WikiError(Exception):
    """Base class for errors a user can act on."""


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


class EditConflict(WikiError):
    """The page changed since the editor's base revision and the changes overlap."""

    def __init__(self, name: str, ours: str, theirs: str, conflicts: tuple[ConflictHunk, ...],
                 head: str | None, merged: str) -> None:
        super().__init__(f"edit conflict on {name}")
        self.name = name
        self.ours = ours
        self.theirs = theirs
        self.conflicts = conflicts
        self.head = head
        self.merged = merged
