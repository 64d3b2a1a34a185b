"""Links to pages that do not exist yet, marked after rendering.

The renderer caches HTML by blob, but whether a linked page exists changes
with every save; so the page view marks those links on each request, with
the set of existing page names (cached per head by the page store).
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Collection
from urllib.parse import unquote

from storage.errors import InvalidPageName
from storage.names import normalize_page_name

MISSING_CLASS = "missing"
_ANCHOR = re.compile(r"<a\b([^>]*)>")
_HREF = re.compile(r'\shref="([^"]*)"')
_CLASS = re.compile(r'\sclass="([^"]*)"')


def link_target(href: str, base: str) -> str | None:
    """The page name a local `href` under `base` points to, or None."""
    prefix = base.rstrip("/") + "/p/"
    url = htmllib.unescape(href)
    if not url.startswith(prefix):
        return None
    path = re.split(r"[?#]", url[len(prefix):], maxsplit=1)[0]
    try:
        return normalize_page_name(unquote(path))
    except InvalidPageName:
        return None


def mark_missing(html: str, base: str, existing: Collection[str], title: str) -> str:
    """`html` with every link to a page not in `existing` (case-folded names) given
    the class `missing` and `title` as its tooltip (unless it has a title of its own)."""

    def mark(match: re.Match[str]) -> str:
        attributes = match.group(1)
        href = _HREF.search(attributes)
        name = link_target(href.group(1), base) if href else None
        if name is None or name.casefold() in existing:
            return match.group(0)
        classes = _CLASS.search(attributes)
        if classes:
            attributes = (attributes[:classes.start(1)] + f"{classes.group(1)} {MISSING_CLASS}"
                          + attributes[classes.end(1):])
        else:
            attributes += f' class="{MISSING_CLASS}"'
        if ' title="' not in attributes:
            attributes += f' title="{htmllib.escape(title, quote=True)}"'
        return f"<a{attributes}>"

    return _ANCHOR.sub(mark, html) if "<a" in html else html
