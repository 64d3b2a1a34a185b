"""Search snippets: the densest window of matched words in a page's text, marked up safely.

Whoosh's own highlighter runs the whole analyzer chain over every hit's text
(about 10 ms for a 3 KB page); this does one regex pass and a dictionary
lookup per word, with stems cached, which keeps ten snippets to about a
millisecond. Every piece of page text is HTML-escaped before `<mark>` tags
are added, and the caller still passes the result through `sanitize`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Collection
from functools import lru_cache

TOKEN = re.compile(r"\w+(?:\.?\w+)*", re.UNICODE)  # Whoosh's default tokenizer pattern
SNIPPET_CHARS = 220
LEAD_CHARS = 60

# stem(word) for one language: the indexed form of a lowercase word, or None for a stopword.
Stemmer = Callable[[str], str | None]


def matches(text: str, stem: Stemmer, wanted: Collection[str]) -> list[tuple[int, int]]:
    """Character spans of the words in `text` whose stem is in `wanted`."""
    if not wanted:
        return []
    spans = []
    for match in _candidates(frozenset(word[:2] for word in wanted)).finditer(text):
        if stem(match.group().lower()) in wanted:
            spans.append(match.span())
    return spans


@lru_cache(maxsize=256)
def _candidates(heads: frozenset[str]) -> re.Pattern[str]:
    """Words starting like one of the stems: a stem keeps its word's first two letters
    (Snowball only rewrites endings), so the regex engine skips all other words."""
    alternatives = "|".join(sorted(map(re.escape, heads)))
    return re.compile(rf"\b(?:{alternatives})\w*(?:\.?\w+)*", re.UNICODE | re.IGNORECASE)


def best_window(spans: list[tuple[int, int]], width: int = SNIPPET_CHARS) -> int:
    """Start of the window of `width` characters holding the most matches."""
    best_start, best_count, first = 0, 0, 0
    for last, (start, _) in enumerate(spans):
        while spans[first][0] < start - width + 40:
            first += 1
        if last - first + 1 > best_count:
            best_count, best_start = last - first + 1, spans[first][0]
    return max(0, best_start - LEAD_CHARS)


def snippet(text: str, spans: list[tuple[int, int]], width: int = SNIPPET_CHARS) -> str:
    """HTML of the best window of `text` with the matched spans in <mark>."""
    start = best_window(spans, width) if spans else 0
    if start:
        space = text.find(" ", start, start + 30)
        start = space + 1 if space != -1 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", end - 30, end)
        end = space if space > start else end
    parts = ["… " if start else ""]
    cursor = start
    for span_start, span_end in spans:
        if span_start < start or span_end > end:
            continue
        parts.append(html.escape(text[cursor:span_start]))
        parts.append(f"<mark>{html.escape(text[span_start:span_end])}</mark>")
        cursor = span_end
    parts.append(html.escape(text[cursor:end]))
    parts.append(" …" if end < len(text) else "")
    return "".join(parts).replace("\n", " ")
