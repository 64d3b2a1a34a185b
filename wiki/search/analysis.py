"""The index schema and how text becomes terms: stemming per language, fields per language.

Every page is indexed with the stemmer of its detected language
(`wiki.pagelang.detect_languages`); a page in both languages is indexed
with both, one too short to tell with the wiki's language. Title, headings
and body each have an `_nl` and `_en` field. Only the detected language's
fields are filled, which keeps a common word's postings to one per page.

The body fields keep no word positions, so ranking and counting a word read
small posting blocks; a copy of the body with positions (`phrase_nl`,
`phrase_en`) serves "phrases" only. The body is analysed once for both, but
its words are written twice: full builds take about half as long again, and
a common word's query takes about half the time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from whoosh.analysis import (
    Analyzer,
    LanguageAnalyzer,
    LowercaseFilter,
    RegexTokenizer,
    SimpleAnalyzer,
    StemFilter,
    StopFilter,
    Token,
)
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema

from wiki.pagetext import LANGUAGES
from wiki.search.dutch import root
from wiki.search.snippets import Stemmer

FIELD_BOOSTS = {"title": 5.0, "head": 2.0, "body": 1.0}
PHRASE_KINDS = ("title", "head", "phrase")  # the fields that keep word positions
STEM_CACHE = 200_000


def _analyzer(lang: str) -> Analyzer:
    """Snowball per language; Dutch words are lemmatised first (wiki/search/dutch.py)."""
    if lang != "nl":
        return LanguageAnalyzer(lang)
    return (RegexTokenizer() | LowercaseFilter() | StopFilter(lang="nl")
            | StemFilter(stemfn=root, lang=None, cachesize=50000))


ANALYZERS = {lang: _analyzer(lang) for lang in LANGUAGES}
_STEMS: dict[str, dict[str, str | None]] = {lang: {} for lang in LANGUAGES}
_ANALYSED = threading.local()  # per language: the last indexed text and its tokens


def build_schema() -> Schema:
    """Stored display fields, filters, and per-language title/headings/body fields."""
    fields: dict[str, Any] = {
        "path": ID(stored=True, unique=True),
        "folders": KEYWORD(lowercase=True, commas=True),
        "title": STORED(),
        "author": TEXT(analyzer=SimpleAnalyzer(), stored=True, phrase=False),
        "author_email": ID(stored=True),
        "date": STORED(),
        "blob": STORED(),
        "languages": STORED(),
        "text": STORED(),
    }
    for lang in LANGUAGES:
        body = _BodyAnalyzer(lang)
        for kind, boost in FIELD_BOOSTS.items():
            analyzer = body if kind == "body" else ANALYZERS[lang]
            fields[f"{kind}_{lang}"] = TEXT(analyzer=analyzer, field_boost=boost,
                                            phrase=kind != "body")
        fields[f"phrase_{lang}"] = TEXT(analyzer=body)
    return Schema(**fields)


class _BodyAnalyzer(Analyzer):  # type: ignore[misc]  # whoosh is untyped
    """A language's analyzer that analyses an indexed body once for its two fields.

    The writer indexes the same body string into `body_<lang>` and
    `phrase_<lang>`; the second call replays the tokens of the first (with
    positions) instead of tokenising, filtering and stemming again. Queries
    are analysed as usual.
    """

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __getstate__(self) -> dict[str, str]:  # the index stores its schema
        return {"lang": self.lang}

    def __setstate__(self, state: dict[str, str]) -> None:
        self.lang = state["lang"]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _BodyAnalyzer) and other.lang == self.lang

    def __hash__(self) -> int:
        return hash(self.lang)

    def __call__(self, value: str, mode: str = "", **kwargs: Any) -> Iterator[Any]:
        analyzer = ANALYZERS[self.lang]
        if mode != "index":
            return analyzer(value, mode=mode, **kwargs)  # type: ignore[no-any-return]
        last = getattr(_ANALYSED, self.lang, None)
        if last is None or last[0] is not value:
            options = {**kwargs, "positions": True, "chars": True}
            tokens = [(t.text, t.pos, t.boost, t.startchar, t.endchar)
                      for t in analyzer(value, mode=mode, **options)]
            last = (value, tokens)
            setattr(_ANALYSED, self.lang, last)
        return _replay(last[1], mode, kwargs)


# The indexed schema pickles `_BodyAnalyzer` by this module's path; indexes
# written before wiki/search became a package name the old module.
_BodyAnalyzer.__module__ = "wiki.search"


def _replay(tokens: list[tuple[str, int, float, int, int]], mode: str,
            options: dict[str, Any]) -> Iterator[Any]:
    token = Token(mode=mode, **options)
    for token.text, token.pos, token.boost, token.startchar, token.endchar in tokens:
        yield token


def folders_of(path: str) -> str:
    """Comma-separated folders containing `path`, and the path itself (for `path:`)."""
    parts = path.split("/")
    return ",".join("/".join(parts[: n + 1]) for n in range(len(parts)))


def field_language(field: str) -> tuple[str, str]:
    """('body', 'nl') for 'body_nl'; ('author', '') for a field of no language."""
    kind, _, lang = field.rpartition("_")
    return (kind, lang) if lang in ANALYZERS else (field, "")


def stemmer(lang: str) -> Stemmer:
    """The cached stem function of a language's analyzer (None for stopwords)."""
    cache, analyzer = _STEMS[lang], ANALYZERS[lang]

    def stem(word: str) -> str | None:
        try:
            return cache[word]
        except KeyError:
            pass
        tokens = [token.text for token in analyzer(word)]
        if len(cache) > STEM_CACHE:
            cache.clear()
        cache[word] = found = tokens[0] if tokens else None
        return found

    return stem
