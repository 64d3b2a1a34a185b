"""Turn one page's sanitised HTML into a chapter of the whitepaper.

A real HTML tokenizer (not regexes) re-emits the page so that attribute
values cannot smuggle markup past the rules:

- the page's own first heading is dropped (the chapter heading replaces it);
- headings move one level down, ids and `#` links get a chapter prefix;
- wiki links to chapters become in-document references, other links to
  wiki pages become plain text;
- images survive only when they are attachments that exist at the commit;
- footnote back-links are dropped; text outside code gets typography.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from storage.errors import InvalidPageName
from storage.names import ATTACHMENT_DIR, normalize_attachment_name, normalize_page_name
from wiki.export.typography import smarten

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
VOID = frozenset({"br", "hr", "img", "input", "wbr"})
CODE = frozenset({"pre", "code"})
EXTERNAL = ("http://", "https://", "mailto:")
_ALIGN = re.compile(r"text-align:\s*(left|right|center)")


def _link_target(href: str, chapters: Mapping[str, str]) -> str | None:
    """In-document anchor for a link to a wiki page, '' for a page outside the paper."""
    if not href.startswith("/p/"):
        return None
    try:
        name = normalize_page_name(unquote(urlsplit(href).path[3:]))
    except InvalidPageName:
        return ""
    return chapters.get(name.casefold(), "")


class ChapterRewriter(HTMLParser):
    """Streams a page's HTML into chapter HTML (see the module docstring)."""

    def __init__(self, prefix: str, chapters: Mapping[str, str],
                 has_image: Callable[[str], bool], typography: bool = True) -> None:
        super().__init__(convert_charrefs=True)
        self.prefix = prefix
        self.chapters = chapters
        self.has_image = has_image
        self.typography = typography
        self.out: list[str] = []
        self.images: list[str] = []
        self._started = False
        self._skip: list[str] = []  # open tags whose content is being dropped
        self._spans: list[bool] = []  # per open <a>: was it turned into a <span>?
        self._code = 0
        self._last = " "

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if self._skip:
            if tag not in VOID:
                self._skip.append(tag)
            return
        first = not self._started
        self._started = True
        if tag in HEADINGS and first:
            self._skip.append(tag)
            return
        if tag == "a" and "footnote-backref" in attributes.get("class", ""):
            self._skip.append(tag)
            return
        if tag in CODE:
            self._code += 1
        if tag == "img":
            self._image(attributes)
            return
        if tag == "a":
            tag, attributes = self._link(attributes)
        elif tag in HEADINGS:
            tag = f"h{min(6, int(tag[1]) + 1)}"
        self._emit(tag, attributes)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if tag == self._skip[-1]:
                self._skip.pop()
            return
        if tag in VOID:
            return
        if tag in CODE:
            self._code = max(0, self._code - 1)
        if tag == "a":
            tag = "span" if (self._spans.pop() if self._spans else False) else "a"
        elif tag in HEADINGS:
            tag = f"h{min(6, int(tag[1]) + 1)}"
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if data.strip():
            self._started = True
        if self.typography and not self._code:
            data = smarten(data, self._last)
        if data:
            self._last = data[-1]
        self.out.append(html.escape(data, quote=False))

    def _emit(self, tag: str, attributes: Mapping[str, str]) -> None:
        parts = [tag]
        for key, value in attributes.items():
            if key == "style" and not _ALIGN.fullmatch(value):
                continue  # only table alignment survives; no url() can reach the exporter
            if key == "id":
                value = f"{self.prefix}{value}"
            parts.append(f'{key}="{html.escape(value, quote=True)}"')
        self.out.append("<" + " ".join(parts) + ">")

    def _link(self, attributes: dict[str, str]) -> tuple[str, dict[str, str]]:
        href = attributes.get("href", "")
        kept = {k: v for k, v in attributes.items() if k in ("class", "id", "title")}
        target = _link_target(href, self.chapters)
        if href.startswith("#"):
            kept["href"] = f"#{self.prefix}{href[1:]}"
        elif target:
            kept["href"] = f"#{target}"
        elif target is None and href.startswith(EXTERNAL):
            kept["href"] = href
        else:
            self._spans.append(True)
            return "span", {"class": "wikilink missing"}
        self._spans.append(False)
        return "a", kept

    def _image(self, attributes: dict[str, str]) -> None:
        src = attributes.get("src", "")
        alt = attributes.get("alt", "")
        name = src.removeprefix("/").removeprefix(f"{ATTACHMENT_DIR}/")
        valid = src.lstrip("/").startswith(f"{ATTACHMENT_DIR}/") and "/" not in name
        try:
            valid = valid and normalize_attachment_name(name) == name and self.has_image(name)
        except InvalidPageName:
            valid = False
        if not valid:
            # Anything but a known attachment (file:, http:, absolute paths) is dropped.
            self.out.append(f'<span class="missing-image">[{html.escape(alt)}]</span>')
            return
        self.images.append(name)
        kept = {"src": f"{ATTACHMENT_DIR}/{name}", "alt": alt}
        kept.update({k: v for k, v in attributes.items() if k in ("title", "width", "height")})
        self._emit("img", kept)


def rewrite_chapter(page_html: str, prefix: str, chapters: Mapping[str, str],
                    has_image: Callable[[str], bool]) -> tuple[str, tuple[str, ...]]:
    """Chapter HTML for one page, and the attachment names its images use.

    Args:
        page_html: the page rendered and sanitised by wiki.render.
        prefix: prefix for ids inside this chapter (e.g. 'c3-').
        chapters: casefolded page name -> anchor id of every chapter.
        has_image: whether an attachment name is an image present at the commit.
    """
    rewriter = ChapterRewriter(prefix, chapters, has_image)
    rewriter.feed(page_html)
    rewriter.close()
    return "".join(rewriter.out), tuple(dict.fromkeys(rewriter.images))
