"""Recent changes as an Atom feed (RFC 4287), built with ElementTree so text is escaped."""

from __future__ import annotations

import xml.etree.ElementTree as etree
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

ATOM = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class FeedEntry:
    """One change in the feed; `link` is absolute."""

    id: str
    title: str
    link: str
    updated: datetime
    author: str
    summary: str


@dataclass(frozen=True)
class Feed:
    """The feed itself: its title, its own URL and the site's URL."""

    title: str
    self_url: str
    site_url: str
    entries: Sequence[FeedEntry]


def _add(parent: etree.Element, tag: str, text: str | None = None, **attrs: str) -> etree.Element:
    child = etree.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        child.text = text
    return child


def atom(feed: Feed) -> bytes:
    """The feed as Atom XML bytes."""
    etree.register_namespace("", ATOM)
    root = etree.Element(f"{{{ATOM}}}feed")
    _add(root, "title", feed.title)
    _add(root, "id", feed.self_url)
    _add(root, "link", rel="self", href=feed.self_url)
    _add(root, "link", rel="alternate", href=feed.site_url)
    newest = max((e.updated for e in feed.entries), default=datetime.now(UTC))
    _add(root, "updated", newest.isoformat())
    for entry in feed.entries:
        node = _add(root, "entry")
        _add(node, "id", entry.id)
        _add(node, "title", entry.title)
        _add(node, "link", rel="alternate", href=entry.link)
        _add(node, "updated", entry.updated.isoformat())
        _add(_add(node, "author"), "name", entry.author)
        _add(node, "summary", entry.summary)
    data: bytes = etree.tostring(root, encoding="utf-8", xml_declaration=True)
    return data
