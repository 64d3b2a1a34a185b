"""What search sees of a page: plain text from its rendered HTML, headings, and language.

Text is taken from the sanitised HTML rather than the Markdown source, so
markup (`**`, link targets, code fences) is not indexed and anything the
renderer strips (raw `<script>`, event handlers) never reaches the index or a
snippet. Language detection is a stopword count: cheap, deterministic and good
enough to pick a stemmer for prose of a few sentences or more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser

from wiki.render import Renderer, page_title

LANGUAGES = ("nl", "en")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_STOPWORDS = {
    "nl": frozenset({
        "de", "het", "een", "en", "van", "is", "dat", "niet", "op", "te", "zijn",
        "voor", "met", "die", "er", "aan", "ook", "als", "bij", "maar", "om", "wordt",
        "worden", "naar", "dan", "nog", "wel", "of", "door", "we", "wij", "ze", "hun",
        "deze", "dit", "zo", "geen", "heeft", "hebben", "kan", "kunnen", "moet",
        "moeten", "uit", "over", "tot", "waar", "wat"
    }),
    "en": frozenset({
        "the", "a", "an", "and", "of", "is", "that", "not", "on", "to", "are", "for",
        "with", "this", "it", "as", "at", "but", "by", "from", "be", "been", "was",
        "were", "have", "has", "can", "will", "would", "should", "which", "what",
        "when", "where", "who", "they", "their", "there", "these", "those", "into",
        "about", "or"
    }),
}
# The minority language must reach this share of stopword hits to count as
# present too; below it the page is indexed with the majority's stemmer only.
MIXED_SHARE = 0.3
MIN_HITS = 3
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


def detect_languages(text: str) -> tuple[str, ...]:
    """The languages (`nl`, `en`) whose stemmer suits `text`; both when unclear or mixed."""
    counts = dict.fromkeys(LANGUAGES, 0)
    for word in _WORD.findall(text[:20000].lower()):
        for lang, stops in _STOPWORDS.items():
            if word in stops:
                counts[lang] += 1
    total = sum(counts.values())
    if total < MIN_HITS:
        return LANGUAGES
    ranked = sorted(LANGUAGES, key=lambda lang: -counts[lang])
    if counts[ranked[1]] >= MIXED_SHARE * total:
        return LANGUAGES
    return (ranked[0],)


def page_text(renderer: Renderer, path: str, blob: str, markdown: str) -> PageText:
    """Extract what the index needs from a page's Markdown (rendered, then stripped)."""
    body, headings = plain_text(renderer.render(markdown))
    title = page_title(markdown, path.rsplit("/", 1)[-1])
    if not body.startswith(title):  # no heading: the name is the title, searchable too
        body = f"{title}\n{body}"
    return PageText(path=path, title=title, headings=headings, body=body,
                    languages=detect_languages(body), blob=blob)
