"""The one validator for page names, attachment names, revisions, numbers and wiki slugs.

Every entry point (browser, API, CLI, git push) calls these functions, so a
name that is refused in one place is refused everywhere.
"""

from __future__ import annotations

import re
import unicodedata

from storage.errors import N_, InvalidPageName, InvalidRevision

MAX_NAME_BYTES = 200
MAX_NUMBER_DIGITS = 18  # within SQLite's 64-bit integers; int() refuses over 4,300 digits
PAGE_SUFFIX = ".md"
ATTACHMENT_DIR = "attachments"
ATTACHMENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
}

# Top-level names that would shadow a folder or file the wiki itself owns.
RESERVED_FIRST = frozenset({ATTACHMENT_DIR, "api", "static", "wiki", "outline"})
# Last segments that are actions in /p/<path>/<action> routes.
RESERVED_LAST = frozenset(
    {
        "edit", "history", "diff", "blame", "rename", "delete", "revert",
        "raw", "comments", "reactions", "new", "preview", "presence", "draft", "live",
        "suggestions",
    }
)

_SEGMENT = re.compile(r"[^\W_][\w\- ]*", re.UNICODE)
_ATTACHMENT = re.compile(r"[^\W_][\w\-]*(\.[A-Za-z0-9]+)", re.UNICODE)
_HEX = re.compile(r"[0-9a-f]{7,40}")
_DOT_IN_NUMBER = re.compile(r"(?<=\d)\.(?=\d)")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")  # never read as an option


def normalize_page_name(raw: str) -> str:
    """Return the canonical form of a page name or raise InvalidPageName.

    Canonical: NFC, segments joined by '/', each segment of letters, digits,
    '-', '_' and inner spaces, starting with a letter or digit.
    """
    if not isinstance(raw, str):
        raise InvalidPageName(N_("page name must be text"))
    name = unicodedata.normalize("NFC", raw).strip().strip("/")
    if not name:
        raise InvalidPageName(N_("page name is empty"))
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise InvalidPageName(N_("page name is longer than {limit} bytes"),
                              limit=MAX_NAME_BYTES)
    segments = name.split("/")
    for segment in segments:
        _check_segment(segment)
    if segments[0].casefold() in RESERVED_FIRST:
        raise InvalidPageName(N_("'{name}' is reserved"), name=segments[0])
    if segments[-1].casefold() in RESERVED_LAST:
        raise InvalidPageName(N_("'{name}' is reserved as the end of a page name"),
                              name=segments[-1])
    return name


def _check_segment(segment: str) -> None:
    if segment == "" or segment in (".", ".."):
        raise InvalidPageName(N_("page name has an empty or relative segment"))
    if segment != segment.strip() or "  " in segment:
        raise InvalidPageName(N_("page name segments may not start or end with spaces"))
    if not _SEGMENT.fullmatch(segment):
        raise InvalidPageName(
            N_("use letters, digits, '-', '_' and spaces; start each part with a letter or digit")
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in segment):
        raise InvalidPageName(N_("page name contains control characters"))


def suggest_page_name(raw: str) -> str | None:
    """A valid page name close to `raw`, for a title people naturally write; None if none.

    "Wat is marketing?" becomes "Wat is marketing", "Data: de basis" "Data de basis",
    "v1.2 notities" "v1-2 notities"; emoji and other signs are dropped. The
    result still passes `normalize_page_name`, so every rule for names holds.
    """
    if not isinstance(raw, str):
        return None
    text = unicodedata.normalize("NFC", raw)
    segments = []
    for segment in text.split("/"):
        segment = _DOT_IN_NUMBER.sub("-", segment)
        segment = "".join(ch if ch.isalnum() or ch in "-_ " else " " for ch in segment)
        segment = " ".join(segment.split()).lstrip("-_ ")
        if segment:
            segments.append(segment)
    candidate = "/".join(segments)
    while len(candidate.encode("utf-8")) > MAX_NAME_BYTES:
        candidate = candidate[:-1].rstrip(" /")
    try:
        return normalize_page_name(candidate)
    except InvalidPageName:
        return None


def page_file(name: str) -> str:
    """Repository path of the Markdown file holding page `name`."""
    return normalize_page_name(name) + PAGE_SUFFIX


def page_name_from_file(path: str) -> str | None:
    """Page name for a repository path, or None when it is not a valid page file."""
    if not path.endswith(PAGE_SUFFIX):
        return None
    try:
        name = normalize_page_name(path[: -len(PAGE_SUFFIX)])
    except InvalidPageName:
        return None
    return name if name + PAGE_SUFFIX == path else None


def normalize_attachment_name(raw: str) -> str:
    """Return a safe attachment file name (no folders) or raise InvalidPageName."""
    name = unicodedata.normalize("NFC", raw or "").strip()
    name = name.replace(" ", "-")
    if not name or len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise InvalidPageName(N_("attachment name is empty or too long"))
    match = _ATTACHMENT.fullmatch(name)
    if not match or "/" in name:
        raise InvalidPageName(
            N_("attachment names are letters, digits, '-', '_' and one extension"))
    if match.group(1)[1:].lower() not in ATTACHMENT_TYPES:
        allowed = ", ".join(sorted(ATTACHMENT_TYPES))
        raise InvalidPageName(N_("attachment type not allowed (allowed: {allowed})"),
                              allowed=allowed)
    return name


def attachment_file(name: str) -> str:
    """Repository path of attachment `name`."""
    return f"{ATTACHMENT_DIR}/{normalize_attachment_name(name)}"


def attachment_type(name: str) -> str:
    """MIME type of an already validated attachment name."""
    return ATTACHMENT_TYPES[name.rsplit(".", 1)[1].lower()]


def whole_number(raw: object, low: int = 0,
                 high: int = 10**MAX_NUMBER_DIGITS - 1) -> int | None:
    """`raw` (decimal digits, or an int) as an int from `low` to `high`; None otherwise.

    Callers word their own error, since "page" and "parent comment" read differently.
    """
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, str) and raw.isdecimal() and len(raw) <= MAX_NUMBER_DIGITS:
        number = int(raw)
    else:
        return None
    return number if low <= number <= high else None


def validate_revision(raw: object) -> str:
    """Return `raw` as a lowercase hex revision (7-40 digits) or raise InvalidRevision."""
    if not isinstance(raw, str):
        raise InvalidRevision(N_("revision must be 7-40 hex digits"))
    rev = raw.strip().lower()
    if not _HEX.fullmatch(rev):
        raise InvalidRevision(N_("revision must be 7-40 hex digits"))
    return rev


def validate_slug(raw: object) -> str:
    """Return `raw` as a wiki's slug (its folder under `--root` and its `/w/<slug>` prefix)
    or raise InvalidPageName: 2-40 lower-case letters, digits and '-', not starting with '-'."""
    if not isinstance(raw, str) or not _SLUG.fullmatch(raw):
        raise InvalidPageName(N_("a wiki's short name is 2-40 lower-case letters, digits"
                                 " and '-'"))
    return raw
