"""The comment section under a page view, rendered once per state of the page and viewer.

Rendering a comment's template costs about 0.7 ms (forms, reaction buttons, dates), so a
page with 200 passage comments would cost a hundred times a page without them. The
section depends only on the page's comments, their reports and reactions (the page's
stamp in the database, which triggers move with every such change, wiki/dbdialect.py),
on the page's blob (where passage comments sit), and on who looks, in which language
and time zone.
So it is kept per process under that key and reused; the CSRF token is put in on the
way out. Entries also expire after MAX_AGE (an account renamed meanwhile) and the cache
keeps at most MAX_BYTES of HTML.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from flask import current_app, render_template
from markupsafe import Markup
from sqlalchemy import bindparam, select

from wiki.accounts import User
from wiki.dbschema import discussion_stamps
from wiki.views import services
from wiki.views.access import csrf_token
from wiki.views.i18n import current_language
from wiki.views.templating import reader_zone

MAX_AGE = 300.0  # seconds
MAX_BYTES = 32 * 1024 * 1024
Key = tuple[str, int, str, int, str, str, str]


class SectionCache:
    """Rendered comment sections by key, least recently used out first, bounded in bytes."""

    def __init__(self) -> None:
        self.entries: OrderedDict[Key, tuple[float, str]] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()
        self.token = "csrf-" + secrets.token_hex(16)  # stands for the viewer's CSRF token

    def get(self, key: Key) -> str | None:
        with self.lock:
            found = self.entries.get(key)
            if found is None or time.monotonic() - found[0] > MAX_AGE:
                return None
            self.entries.move_to_end(key)
            return found[1]

    def put(self, key: Key, html: str) -> None:
        with self.lock:
            old = self.entries.pop(key, None)
            self.size -= len(old[1]) if old else 0
            self.entries[key] = (time.monotonic(), html)
            self.size += len(html)
            while self.size > MAX_BYTES and self.entries:
                self.size -= len(self.entries.popitem(last=False)[1][1])


def section_cache() -> SectionCache:
    """This app's cache (one per process)."""
    cache: SectionCache = current_app.extensions.setdefault("cowiki_sections", SectionCache())
    return cache


_STAMP = select(discussion_stamps.c.stamp).where(discussion_stamps.c.page == bindparam("page"))


def stamp(name: str) -> int:
    """How often the page's discussion changed (0: never)."""
    found = services().db.connect().execute(_STAMP, {"page": name}).scalar()
    return int(found or 0)


def comment_section(name: str, blob: str, who: User | None,
                    workshop: Callable[[], object]) -> Markup:
    """The page's comment section for `who`: from the cache, or rendered from `workshop()`
    (the PageWorkshop with the page's comments) and kept."""
    key: Key = (name.casefold(), stamp(name), blob, who.id if who else 0,
                who.role if who else "", current_language(), reader_zone())
    cache = section_cache()
    html = cache.get(key)
    if html is None:
        html = render_template("discussion/_thread.html", w=workshop(), exists=True,
                               csrf_token=lambda: cache.token)
        cache.put(key, html)
    return Markup(html.replace(cache.token, csrf_token()))  # noqa: S704 (our own render)
