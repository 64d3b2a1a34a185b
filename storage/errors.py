"""Errors raised by the storage layer."""


class StorageError(Exception):
    """Base class for storage failures."""


class InvalidPageName(StorageError):
    """A page or attachment name breaks the naming rules."""


class InvalidRevision(StorageError):
    """A revision is not 7-40 hex digits or names no commit."""


class RefContention(StorageError):
    """refs/heads/main kept moving; the save could not be published."""


class RepositoryWriteFailed(StorageError):
    """Objects or refs could not be written (disk full, file size limit, read-only)."""
