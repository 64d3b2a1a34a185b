"""Markdown to safe HTML: the only module that imports markdown and nh3.

Every render path (page, preview, old revisions, comments, the search index)
ends in `sanitize`, so hostile Markdown or raw HTML renders inert, and content
ids and classes cannot claim the interface's own: ids (and the `#` links to
them) get the ID_PREFIX, classes are kept only from CONTENT_CLASSES. The
Markdown steps that went quadratic on hostile input are swapped for linear
ones (`_Bounds`). The cached, budgeted Renderer is in wiki.renderer (re-exported).
"""
from __future__ import annotations

import itertools
import re
import threading
import types
import xml.etree.ElementTree as etree
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import markdown
import nh3
from markdown import htmlparser as _md_htmlparser
from markdown.extensions import Extension
from markdown.extensions import tables as _tables
from markdown.extensions.footnotes import FootnoteExtension
from markdown.inlinepatterns import InlineProcessor, LinkInlineProcessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString
from pygments.token import STANDARD_TYPES  # type: ignore[import-untyped]

from storage.errors import InvalidPageName
from storage.names import ATTACHMENT_DIR, normalize_page_name
from wiki.renderer import (
    NOTICE,
    Budget,
    Renderer,
    blob_id,
    is_plain,
    page_title,
    plain_html,
    remote_images_as_links,
)

__all__ = ["NOTICE", "Budget", "Renderer", "blob_id", "format_html", "is_plain", "markdown_html",
           "page_title", "plain_html", "sanitize"]

OUTPUT_LIMIT, OUTPUT_RATIO = 2_000_000, 20  # HTML larger than both is not shown
ID_PREFIX = "u-"
URL_SCHEMES = {"http", "https", "mailto"}
TAGS = set(nh3.ALLOWED_TAGS) | {"input"}
ATTRIBUTES: dict[str, set[str]] = {
    **{f"h{n}": {"id"} for n in range(1, 7)},
    "a": {"href", "title", "id"},
    "img": {"src", "alt", "title", "width", "height"},
    "li": {"id"},
    "sup": {"id"},
    "ol": {"start"},
    "td": {"style", "colspan", "rowspan"},
    "th": {"style", "colspan", "rowspan"},
    "input": {"checked"},
    "abbr": {"title"},
}
# The only classes content may carry: what Markdown, Pygments and the wiki
# extensions write. Anything else (`flashes`, `notice`, `too-complex`) is dropped.
CONTENT_CLASSES: dict[str, set[str]] = {
    "div": {"highlight", "footnote", "toc"},
    "span": {cls for cls in STANDARD_TYPES.values() if cls} | {"hll"},
    "a": {"wikilink", "footnote-ref", "footnote-backref"},
    "li": {"task"},
}
_WIKILINK = r"\[\[([^\]\[|\n]{1,200})(?:\|([^\]\[\n]{1,200}))?\]\]"
_TASK = re.compile(r"^\[([ xX])\]\s+")
_SCHEME = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.-]*:")


def sanitize(html: str) -> str:
    """Clean HTML to the allow-list: safe tags, attributes, classes and URL schemes only.

    Ids and in-page links get ID_PREFIX, so content cannot take an id the
    interface uses (`i18n-messages`) and its own anchors still meet.
    """
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        set_tag_attribute_values={"input": {"type": "checkbox", "disabled": "disabled"}},
        filter_style_properties={"text-align"},
        link_rel="noopener noreferrer nofollow",
        allowed_classes=CONTENT_CLASSES,
        attribute_filter=_namespaced,
    )


def _namespaced(element: str, attribute: str, value: str) -> str | None:
    if attribute == "id":
        return ID_PREFIX + value
    if attribute == "href" and "#" in value and not _SCHEME.match(value):
        path, fragment = value.split("#", 1)
        if fragment and not path.startswith(("//", "\\", "/\\")):
            return f"{path}#{ID_PREFIX}{fragment}"
    return value



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


class _Footnotes(FootnoteExtension):
    """Footnotes whose repeated references cost one step each (upstream probed
    fnref2, fnref3, ... from the start for every repeat: n² steps; same ids)."""

    def unique_ref(self, reference: str, found: bool = False) -> str:
        if not found:
            return reference
        count = self.found_refs.get(reference, 0) + 1
        self.found_refs[reference] = count
        unique = reference
        if count > 1:
            head, rest = reference.split(self.get_separator(), 1)
            unique = f"{head}{count}{self.get_separator()}{rest}"
        self.used_refs.add(unique)
        return unique


LINK_SCAN = 4_000  # characters searched for the end of a link's [text] or (target)
LINK_DEPTH = 8  # brackets nested inside one link's text or target
LINK_SLACK = 200  # characters past the closing parenthesis a quoted title may reach
SPLIT_LINES = 32  # headings and rules in one block before blank lines go between them
MAX_INDENT = 100  # columns of indentation that still nest deeper
DENSE_LIMIT = 4_000_000  # markup characters × length of one text run, past which it stays plain
_BRACKETS = re.compile(r"[\[\]]")
_PARENS = re.compile(r"[()]")
_MARKUP = ("\\", "`", "*", "_", "[", "<", "&", "  \n")
_SPLITTER = re.compile(r"#|=+ *$|-+ *$| {0,3}(?:(?:- *){3,}|(?:_ *){3,}|(?:\* *){3,})$")


def _link_text(self: LinkInlineProcessor, data: str, index: int) -> tuple[str, int, bool]:
    """LinkInlineProcessor.getText within LINK_SCAN characters and LINK_DEPTH brackets
    (upstream read to the end of the paragraph for each unclosed `[`: 8,000 took 22 s)."""
    depth = 1
    stop = min(len(data), index + LINK_SCAN)
    for m in _BRACKETS.finditer(data, index, stop):
        if m.group() == "]":
            depth -= 1
            if depth == 0:
                return data[index:m.start()], m.end(), True
        else:
            depth += 1
            if depth > LINK_DEPTH:
                break
    return "", stop, False


def _link_target(self: LinkInlineProcessor, data: str,
                 index: int) -> tuple[str, str | None, int, bool]:
    """LinkInlineProcessor.getLink, given a window that ends soon after the closing `)`."""
    m = self.RE_LINK.match(data, pos=index)
    if m is None or m.group(1):
        return LinkInlineProcessor.getLink(self, data, index)
    depth, close = 1, -1
    for paren in _PARENS.finditer(data, m.end(), min(len(data), m.end() + LINK_SCAN)):
        depth += 1 if paren.group() == "(" else -1
        if depth == 0:
            close = paren.end()
            break
        if depth > LINK_DEPTH:
            break
    if close < 0:
        return "", None, index, False
    window = data[index:close + LINK_SLACK]
    href, title, end, handled = LinkInlineProcessor.getLink(self, window, 0)
    return href, title, index + end, handled


def _table_test(self: Any, parent: etree.Element, block: str) -> bool:
    """TableProcessor.test reading only the rows it needs (upstream stripped every
    row on each test, and a block of n headings is tested n times: n² work)."""
    rows = _rows(block)
    header0 = next(rows)
    row1 = next(rows, None)
    if row1 is None:
        return False
    self.border = _tables.PIPE_NONE
    if header0.startswith("|"):
        self.border |= _tables.PIPE_LEFT
    if self.RE_END_BORDER.search(header0) is not None:
        self.border |= _tables.PIPE_RIGHT
    row0_len = len(self._split_row(header0))
    is_table = row0_len > 1
    if not is_table and row0_len == 1 and self.border:
        # A one-column table needs a pipe on every row.
        for row in itertools.chain([row1], rows):
            is_table = row.startswith("|") or self.RE_END_BORDER.search(row) is not None
            if not is_table:
                break
    if is_table:
        separator = self._split_row(row1)
        is_table = len(separator) == row0_len and set("".join(separator)) <= set("|:- ")
        if is_table:
            self.separator = separator
    return is_table


def _rows(block: str) -> Iterator[str]:
    start = 0
    while True:
        end = block.find("\n", start)
        if end < 0:
            yield block[start:].strip(" ")
            return
        yield block[start:end].strip(" ")
        start = end + 1


class _Blocks(Preprocessor):
    """Evens out the block shapes that made the block parser quadratic.

    The parser splits a block at each heading or rule and searches the rest
    again, so a block of n headings without blank lines cost n²: in a block
    with more than SPLIT_LINES of them, a blank line follows each (the same
    result). Indentation past MAX_INDENT nests no deeper (lists n deep cost n²).
    """

    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        block: list[str] = []
        splits = 0
        for line in itertools.chain(lines, [""]):
            if len(line) > MAX_INDENT and line[MAX_INDENT] == " " and line.startswith(" "):
                stripped = line.lstrip(" ")
                line = " " * min(MAX_INDENT, len(line) - len(stripped)) + stripped
            if line.strip():
                block.append(line)
                splits += bool(_SPLITTER.match(line))
                continue
            if splits > SPLIT_LINES:
                block = [part for ln in block
                         for part in ((ln, "") if _SPLITTER.match(ln) else (ln,))]
            out += block
            out.append(line)
            block, splits = [], 0
        return out[:-1]


class _DenseText(Treeprocessor):
    """Keeps text runs plain whose inline markup would cost quadratic time (each
    inline match rebuilds its run: m markup characters in a run of L cost m·L)."""

    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            if _dense(element.text):
                element.text = AtomicString(element.text or "")
            if _dense(element.tail):
                element.tail = AtomicString(element.tail or "")


def _dense(text: str | None) -> bool:
    if not text or isinstance(text, AtomicString) or len(text) ** 2 <= DENSE_LIMIT:
        return False
    return sum(text.count(mark) for mark in _MARKUP) * len(text) > DENSE_LIMIT


def _replace_first_marker(self: Any, root: etree.Element, toc: etree.Element) -> None:
    """TocTreeprocessor.replace_marker for the first `[TOC]` only (upstream put the
    contents at every marker: n markers and h headings made n·h output)."""
    for parent, child in self.iterparent(root):
        if child.text and child.text.strip() == self.marker and len(child) == 0:
            parent[list(parent).index(child)] = toc
            return


class _Bounds(Extension):
    """Swaps in the linear versions of the Markdown steps that went quadratic."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (markdown's API)
        for processor in md.inlinePatterns:
            if isinstance(processor, LinkInlineProcessor):
                processor.getText = types.MethodType(_link_text, processor)  # type: ignore[method-assign]
                processor.getLink = types.MethodType(_link_target, processor)  # type: ignore[method-assign]
        table = md.parser.blockprocessors["table"]
        table.test = types.MethodType(_table_test, table)  # type: ignore[method-assign]
        toc: Any = md.treeprocessors["toc"]
        toc.replace_marker = types.MethodType(_replace_first_marker, toc)
        md.preprocessors.register(_Blocks(md), "blocks", 15)
        md.treeprocessors.register(_DenseText(md), "dense", 25)


# The raw-HTML scanner Markdown uses takes `<` as part of a tag or attribute
# name, so each `<a` of "<a <a <a ..." or "<b<b<b..." read to the end of the
# text: n² time. A `<` ends a name here, as it does for browsers' tag names.
_HTML_SCANNER: Any = _md_htmlparser.htmlparser  # type: ignore[attr-defined]
_HTML_SCANNER.locatestarttagend_tolerant = re.compile(
    r"""<[a-zA-Z][^`\t\n\r\f />\x00<]*(?:[\s/]*(?:(?<=['"\s/])[^`\s/><][^\s/=><]*"""
    r"""(?:\s*=+\s*(?:'[^']*'|"[^"]*"|(?!['"])[^`>\s]*)(?:\s*,)*)?(?:\s|/(?!>))*)*)?\s*""")
_HTML_SCANNER.tagfind_tolerant = re.compile(
    r"([a-zA-Z][^\t\n\r\f />\x00<]*)(?:\s|/(?!>))*")


_local = threading.local()


def _markdown(base: str) -> markdown.Markdown:
    """This thread's Markdown converter for links under `base`."""
    converters: dict[str, markdown.Markdown] = _local.__dict__.setdefault("converters", {})
    md = converters.get(base)
    if md is None:
        md = markdown.Markdown(
            extensions=[
                "tables", "fenced_code", _Footnotes(), "sane_lists", "def_list",
                "codehilite", "toc", WikiExtension(base), _Bounds(),
            ],
            extension_configs={
                "codehilite": {"css_class": "highlight", "guess_lang": False},
                "toc": {"permalink": False},
            },
            output_format="html",
        )
        converters[base] = md
    return md


def markdown_html(text: str, base: str = "/") -> str:
    """Markdown to HTML, not yet sanitised (for `format_html` and tests)."""
    return _markdown(base).reset().convert(text)


def format_html(job: tuple[str, str, bool]) -> str:
    """Markdown to sanitised HTML: `(text, base, remote_images)`; plain when too deep."""
    text, base, remote_images = job
    try:
        html = markdown_html(text, base)
    except RecursionError:
        return plain_html(text)
    if len(html) > max(OUTPUT_LIMIT, OUTPUT_RATIO * len(text)):
        return plain_html(text)  # a few references repeated into megabytes
    html = sanitize(html)
    return html if remote_images else remote_images_as_links(html)


