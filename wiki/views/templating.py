"""Template helpers: localised dates and numbers, initials, the current user and site name."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo, available_timezones

from flask import Flask, has_request_context, request
from flask_babel import format_date, format_number, format_time, gettext, ngettext
from flask_login import current_user

from storage.names import page_file
from wiki.people import last_change_shown
from wiki.views import services
from wiki.views.i18n import current_language

ZONE_COOKIE = "tz"  # set by static/timezone.js from the browser's Intl time zone


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def reader_zone() -> str:
    """The reader's time zone: what their browser told us, else Amsterdam for Dutch, else UTC.

    Flask-Babel asks this (timezone_selector), so every date filter shows local time.
    """
    if not has_request_context():
        return "UTC"
    told = unquote(request.cookies.get(ZONE_COOKIE, ""))[:64]
    if told in _zones():
        return told
    return "Europe/Amsterdam" if current_language() == "nl" else "UTC"


def when(value: datetime | float | None) -> str:
    """A short date and time in the interface language and the reader's zone, named:
    '3 Dec 2026, 14:07 CET'."""
    if value is None:
        return ""
    if isinstance(value, datetime):  # a naive one is UTC, as Flask-Babel takes it
        stamp = (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    else:
        stamp = value
    return _when(stamp, current_language(), reader_zone())


@lru_cache(maxsize=4096)
def _when(stamp: float, language: str, zone: str) -> str:
    """`when` of one moment for one language and zone (formatting one with Babel costs
    some 50 us; a history page shows fifty, the same ones on every view). The request's
    language and zone are `language` and `zone`, which Flask-Babel's formats use."""
    moment = datetime.fromtimestamp(stamp, UTC)
    name = moment.astimezone(ZoneInfo(zone)).tzname() or ""
    return f"{format_date(moment, 'medium')}, {format_time(moment, 'short')} {name}".rstrip()


def version_label(name: str, revision: str | None) -> str:
    """A page's version as people say it: 'the version of Bert, 3 Dec 2026, 14:07 CET'.

    The commit id stays one click away (the templates put it in a title or a link).
    """
    if not revision:
        return str(gettext("the empty page"))
    history = services().history
    entry = history.last_change(page_file(name), revision) or next(
        iter(history.log(limit=1, rev=revision)), None)
    entry = last_change_shown(entry, services().accounts)
    if entry is None:
        return revision[:10]
    return str(gettext("the version of %(person)s, %(when)s", person=entry.author,
                       when=when(entry.date)))


def ago(value: datetime | None) -> str:
    """'3 minutes ago' style relative time."""
    if value is None:
        return ""
    seconds = int((datetime.now(UTC) - value).total_seconds())
    if seconds >= 86400:
        return str(ngettext("%(num)d day ago", "%(num)d days ago", seconds // 86400))
    if seconds >= 3600:
        return str(ngettext("%(num)d hour ago", "%(num)d hours ago", seconds // 3600))
    if seconds >= 60:
        return str(ngettext("%(num)d minute ago", "%(num)d minutes ago", seconds // 60))
    return str(gettext("just now"))


def number(value: int | float) -> str:
    """A count with the interface language's digit grouping (1,234 or 1.234)."""
    return str(format_number(value))


def initials(name: str) -> str:
    """Up to two initials for an author avatar."""
    parts = [p for p in name.replace(".", " ").split() if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


def hue(name: str) -> int:
    """A stable colour hue per author."""
    return int(hashlib.sha256(name.casefold().encode()).hexdigest()[:4], 16) % 360


def install(app: Flask) -> None:
    """Register filters and the context every template sees."""
    app.jinja_env.filters.update(when=when, ago=ago, number=number, initials=initials, hue=hue,
                                 urlpath=lambda s: quote(str(s)))
    app.jinja_env.globals.update(version_label=version_label)

    @app.context_processor
    def context() -> dict[str, Any]:
        user = current_user.user if current_user.is_authenticated else None
        return {"site_name": services().settings.site_name, "user": user}
