"""Errors raised by the storage layer, and the message templates all domain errors share."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark `message` for the catalogs (pybabel extracts N_) without translating it here.

    The domain layers cannot know the reader's language; the views translate
    the template when they show the error (wiki/views/i18n.py, `error_text`).
    """
    return message


def fill(template: str, params: dict[str, object]) -> str:
    """`template` with its `{name}` placeholders filled from `params`, as far as it fits."""
    if not params:
        return template
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


class TranslatableError(Exception):
    """An error whose message is an English template the views can translate.

    `raise InvalidInput(N_("at least {count} characters"), count=8)`: str() gives
    the English text filled in (logs, the CLI, git push answers), `template` and
    `params` let the views show it in the reader's language. A plain message
    without params is kept as given, braces and all.
    """

    def __init__(self, message: str = "", /, **params: object) -> None:
        self.template = message
        self.params = params
        super().__init__(fill(message, params))


class StorageError(TranslatableError):
    """Base class for storage failures."""


class InvalidPageName(StorageError):
    """A page or attachment name breaks the naming rules."""


class InvalidRevision(StorageError):
    """A revision is not 7-40 hex digits or names no commit."""


class RefContention(StorageError):
    """refs/heads/main kept moving; the save could not be published."""


class RepositoryWriteFailed(StorageError):
    """Objects or refs could not be written (disk full, file size limit, read-only)."""
