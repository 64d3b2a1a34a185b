"""Markdown to safe HTML: the only module that imports markdown and nh3.

Every render path (page, preview, old revisions, comments) ends in
`sanitize`, so hostile Markdown or raw HTML renders inert. Rendered pages are
cached by blob id: the same bytes always render to the same HTML.
"""

from __future__ import annotations

import re
import threading
import xml.etree.ElementTree as etree
from collections import OrderedDict
from urllib.parse import quote

import markdown
import nh3
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor

from storage.errors import InvalidPageName
from storage.names import ATTACHMENT_DIR, normalize_page_name

RENDER_VERSION = "1"
CACHE_SIZE = 4096
URL_SCHEMES = {"http", "https", "mailto"}
TAGS = set(nh3.ALLOWED_TAGS) | {"input"}
ATTRIBUTES: dict[str, set[str]] = {
    **{f"h{n}": {"id"} for n in range(1, 7)},
    "a": {"href", "title", "class", "id"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "pre": {"class"},
    "span": {"class"},
    "div": {"class"},
    "li": {"id", "class"},
    "ul": {"class"},
    "sup": {"id", "class"},
    "ol": {"start"},
    "td": {"style", "colspan", "rowspan"},
    "th": {"style", "colspan", "rowspan"},
    "input": {"checked"},
    "abbr": {"title"},
}
_WIKILINK = r"\[\[([^\]\[|\n]{1,200})(?:\|([^\]\[\n]{1,200}))?\]\]"
_TASK = re.compile(r"^\[([ xX])\]\s+")
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_INLINE_MARKUP = re.compile(r"[*_`~]|\[\[|\]\]|!?\[([^\]]*)\]\([^)]*\)")


def sanitize(html: str) -> str:
    """Clean HTML to the allow-list: safe tags, attributes and URL schemes only."""
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        set_tag_attribute_values={"input": {"type": "checkbox", "disabled": "disabled"}},
        filter_style_properties={"text-align"},
        link_rel="noopener noreferrer nofollow",
    )


def page_title(text: str, fallback: str) -> str:
    """Title of a page: its first heading as plain text, else `fallback`."""
    match = _HEADING.search(text[:20000])
    if not match:
        return fallback
    title = _INLINE_MARKUP.sub(lambda m: m.group(1) or "", match.group(1)).strip()
    return title or fallback


class WikiLinks(InlineProcessor):
    """[[Page name]] and [[Page name|label]] become links to /p/<name>."""

    def __init__(self, pattern: str, base: str) -> None:
        super().__init__(pattern)
        self.base = base

    def handleMatch(  # type: ignore[override]  # noqa: N802 (markdown's API)
        self, m: re.Match[str], data: str
    ) -> tuple[etree.Element | str, int, int]:
        target, label = m.group(1).strip(), (m.group(2) or m.group(1)).strip()
        try:
            name = normalize_page_name(target)
        except InvalidPageName:
            return m.group(0), m.start(0), m.end(0)
        link = etree.Element("a")
        link.set("href", f"{self.base}p/{quote(name)}")
        link.set("class", "wikilink")
        link.text = label
        return link, m.start(0), m.end(0)


class Tasks(Treeprocessor):
    """`- [ ]` / `- [x]` list items become disabled checkboxes; attachment paths resolve."""

    def __init__(self, md: markdown.Markdown, base: str) -> None:
        super().__init__(md)
        self.base = base

    def run(self, root: etree.Element) -> None:
        for item in root.iter("li"):
            holder = item[0] if len(item) and item[0].tag == "p" and not item.text else item
            match = _TASK.match(holder.text or "")
            if not match:
                continue
            box = etree.Element("input", {"type": "checkbox"})
            if match.group(1) != " ":
                box.set("checked", "checked")
            box.tail = " " + (holder.text or "")[match.end():]
            holder.text = ""
            holder.insert(0, box)
            item.set("class", "task")
        for image in root.iter("img"):
            src = image.get("src", "")
            if src.startswith(f"{ATTACHMENT_DIR}/"):
                image.set("src", self.base + src)


class WikiExtension(Extension):
    """Wiki links, task lists and attachment URLs."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (markdown's API)
        md.inlinePatterns.register(WikiLinks(_WIKILINK, self.base), "wikilink", 75)
        md.treeprocessors.register(Tasks(md, self.base), "wikitasks", 5)


class Renderer:
    """Renders Markdown to sanitised HTML with a cache keyed by blob id."""

    def __init__(self, base: str = "/") -> None:
        self.base = base
        self._local = threading.local()
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def _markdown(self) -> markdown.Markdown:
        md: markdown.Markdown | None = getattr(self._local, "md", None)
        if md is None:
            md = markdown.Markdown(
                extensions=[
                    "tables", "fenced_code", "footnotes", "sane_lists", "def_list",
                    "codehilite", "toc", WikiExtension(self.base),
                ],
                extension_configs={
                    "codehilite": {"css_class": "highlight", "guess_lang": False},
                    "toc": {"permalink": False},
                },
                output_format="html",
            )
            self._local.md = md
        return md

    def render(self, text: str) -> str:
        """Markdown to sanitised HTML, uncached (previews, comments)."""
        md = self._markdown()
        try:
            html = md.reset().convert(text)
        except RecursionError:
            html = "<pre>" + nh3.clean_text(text) + "</pre>"
        return sanitize(html)

    def render_blob(self, blob_id: str, text: str) -> str:
        """Render a page's blob, reusing the cached HTML for the same blob id."""
        key = RENDER_VERSION + blob_id
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        html = self.render(text)
        with self._lock:
            self._cache[key] = html
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return html
