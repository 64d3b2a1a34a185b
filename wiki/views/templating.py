"""Template helpers: localised dates and numbers, initials, the current user and site name."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from flask import Flask
from flask_babel import format_date, format_number, format_time, gettext, ngettext
from flask_login import current_user

from wiki.views import services


def when(value: datetime | float | None) -> str:
    """A short absolute date and time in the interface language, in UTC."""
    if value is None:
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromtimestamp(value, UTC)
    return f"{format_date(moment, 'medium')}, {format_time(moment, 'short')}"


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

    @app.context_processor
    def context() -> dict[str, Any]:
        user = current_user.user if current_user.is_authenticated else None
        return {"site_name": services().settings.site_name, "user": user}
