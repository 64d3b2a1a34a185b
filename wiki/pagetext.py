"""What search sees of a page: plain text from its rendered HTML, headings, and language.

Text is taken from the sanitised HTML rather than the Markdown source, so
markup (`**`, link targets, code fences) is not indexed and anything the
renderer strips (raw `<script>`, event handlers) never reaches the index or a
snippet. The page's languages come from `wiki.pagelang`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser

from wiki.pagelang import LANGUAGES, detect_languages
from wiki.render import Renderer, page_title

__all__ = ["LANGUAGES", "PageText", "detect_languages", "page_text", "plain_text"]

_BLOCKS = frozenset({"p", "li", "pre", "blockquote", "tr", "td", "th", "dd", "dt", "br",
                     "div", "h1", "h2", "h3", "h4", "h5", "h6", "table", "hr"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


@dataclass(frozen=True)
class PageText:
    """A page as the search index stores it."""

    path: str
    title: str
    headings: str
    body: str
    languages: tuple[str, ...]
    blob: str
    author: str = ""
    email: str = ""
    date: datetime | None = None


class _TextExtractor(HTMLParser):
    """Collects visible text, and heading text separately."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.headings: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")
        if tag in _HEADINGS:
            self._depth += 1
            self.headings.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HEADINGS and self._depth:
            self._depth -= 1
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        if self._depth:
            self.headings.append(data)


def plain_text(html: str) -> tuple[str, str]:
    """Visible text of sanitised HTML and the text of its headings."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return _squeeze("".join(parser.parts)), _squeeze("".join(parser.headings))


def _squeeze(text: str) -> str:
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def page_text(renderer: Renderer, path: str, blob: str, markdown: str,
              fallback: str = "en") -> PageText:
    """Extract what the index needs from a page's Markdown (rendered, then stripped).

    `fallback` is the wiki's language, for a page too short to tell its own.
    """
    body, headings = plain_text(renderer.render(markdown))
    title = page_title(markdown, path.rsplit("/", 1)[-1])
    if not body.startswith(title):  # no heading: the name is the title, searchable too
        body = f"{title}\n{body}"
    return PageText(path=path, title=title, headings=headings, body=body,
                    languages=detect_languages(body, fallback), blob=blob)
