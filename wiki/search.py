"""Full-text search over pages with Whoosh: the only module that imports whoosh.

Keeping Whoosh behind this one module (schema, query language, highlighting)
means the rest of the wiki sees plain `PageText` in and `SearchHit` out, so
the engine can be swapped for OpenSearch later without touching views or the
indexer (DESIGN.md, "Scale-out").

Languages: every page is indexed with the stemmer of its detected language
(`wiki.pagetext.detect_languages`); a page whose language is unclear or mixed
is indexed with both. Title, headings and body each have an `_nl` and `_en`
field; a query without a field searches all six (title boosted 5x, headings
2x) with the query analysed per field, so "klant" finds "klanten" on a Dutch
page and "running" finds "run" on an English one. `lang=nl|en` restricts the
search to pages (fields) of that language. Only the detected language's
fields are filled, which keeps a common word's postings to one per page.

The body fields keep no word positions, so ranking and counting a word read
small posting blocks; a copy of the body with positions (`phrase_nl`,
`phrase_en`) serves "phrases" only. The body is analysed once for both, but
its words are written twice: full builds take about half as long again, and
a common word's query takes about half the time.

Query language: words are ANDed; `AND`, `OR`, `NOT`, "phrases", `klant*`,
`klnat~` (fuzzy, edit distance 1; `~2` for 2), and the filters `title:`,
`author:` and `path:` (a chapter folder, or the page's own path).

The index directory is a cache of git: it records the commit it reflects in
`indexed_commit`. Writing is single-writer; the caller (`wiki.indexer`)
holds the inter-process lock.
"""

from __future__ import annotations

import copy
import os
import shutil
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from math import ceil
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.analysis import Analyzer, LanguageAnalyzer, SimpleAnalyzer, Token
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.collectors import TopCollector
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.matching import FilterMatcher
from whoosh.qparser import AndGroup, FuzzyTermPlugin, PhrasePlugin, QueryParser, syntax
from whoosh.qparser.plugins import Plugin
from whoosh.query import (
    And,
    AndMaybe,
    AndNot,
    FuzzyTerm,
    Not,
    NullQuery,
    Or,
    Prefix,
    Query,
    Require,
    Term,
    Wildcard,
)
from whoosh.reading import SegmentReader, TermNotFound
from whoosh.writing import CLEAR

from wiki.pagetext import LANGUAGES, PageText
from wiki.render import sanitize
from wiki.snippets import TOKEN, Stemmer, matches, snippet
from wiki.spelling import near

SCHEMA_VERSION = "2"
COMMIT_FILE = "indexed_commit"
FIELD_BOOSTS = {"title": 5.0, "head": 2.0, "body": 1.0}
PHRASE_KINDS = ("title", "head", "phrase")  # the fields that keep word positions
MAX_QUERY = 500
OPERATORS = frozenset({"and", "or", "not", "to"})
STEM_CACHE = 200_000
ANALYZERS = {lang: LanguageAnalyzer(lang) for lang in LANGUAGES}
_STEMS: dict[str, dict[str, str | None]] = {lang: {} for lang in LANGUAGES}
_ANALYSED = threading.local()  # per language: the last indexed text and its tokens


class IndexUnavailable(Exception):
    """The index is missing or unreadable; it must be rebuilt from git."""


@dataclass(frozen=True)
class SearchHit:
    """One page found by a search, with a sanitised HTML snippet."""

    path: str
    title: str
    snippet: str
    score: float
    author: str
    date: datetime | None


@dataclass(frozen=True)
class SearchResults:
    """One page of results for a query."""

    query: str
    total: int
    page: int
    per_page: int
    hits: tuple[SearchHit, ...] = ()
    suggestion: str | None = None
    fresh: bool = True

    @property
    def pages(self) -> int:
        """Number of result pages."""
        return max(1, ceil(self.total / self.per_page))


def build_schema() -> Schema:
    """Stored display fields, filters, and per-language title/headings/body fields."""
    fields: dict[str, Any] = {
        "path": ID(stored=True, unique=True),
        "folders": KEYWORD(lowercase=True, commas=True),
        "title": STORED(),
        "author": TEXT(analyzer=SimpleAnalyzer(), stored=True, phrase=False),
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


def _replay(tokens: list[tuple[str, int, float, int, int]], mode: str,
            options: dict[str, Any]) -> Iterator[Any]:
    token = Token(mode=mode, **options)
    for token.text, token.pos, token.boost, token.startchar, token.endchar in tokens:
        yield token


def folders_of(path: str) -> str:
    """Comma-separated folders containing `path`, and the path itself (for `path:`)."""
    parts = path.split("/")
    return ",".join("/".join(parts[: n + 1]) for n in range(len(parts)))


class _FieldExpander(Plugin):  # type: ignore[misc]  # whoosh is untyped
    """Maps user-facing fields (none, `title:`, `path:`) to the schema's real fields.

    An unfielded word becomes an OR over the body, title and heading fields
    of each language. The body text includes the title and headings, so the
    OR matches exactly the pages whose body matches, and each extra field
    that matches adds its boosted score (BM25 per field, summed). A plain OR
    lets Whoosh drop the short title and heading lists from the walk once
    they cannot lift a page into the top ten.
    """

    def __init__(self, languages: Sequence[str]) -> None:
        self.fields = [f"{kind}_{lang}" for kind in FIELD_BOOSTS for lang in languages]
        self.phrase_fields = [f"{kind}_{lang}" for kind in PHRASE_KINDS for lang in languages]
        self.targets: dict[str, list[str]] = {
            "title": [f"title_{lang}" for lang in languages], "path": ["folders"]}

    def filters(self, parser: Any) -> list[tuple[Any, int]]:
        return [(self.expand, 110)]  # after explicit `field:` names are applied (100)

    def expand(self, parser: Any, group: Any) -> Any:
        for i, node in enumerate(group):
            if isinstance(node, syntax.GroupNode):
                group[i] = self.expand(parser, node)
            elif node.has_fieldname and node.fieldname is None:
                phrase = isinstance(node, PhrasePlugin.PhraseNode)
                group[i] = _any_of(node, self.phrase_fields if phrase else self.fields)
            elif node.has_fieldname and node.fieldname in self.targets:
                group[i] = _any_of(node, self.targets[node.fieldname])
        return group


def _any_of(node: Any, fields: Sequence[str]) -> Any:
    """The syntax node copied into each field, ORed."""
    copies = []
    for name in fields:
        twin = copy.copy(node)
        twin.set_fieldname(name, override=True)
        copies.append(twin)
    return copies[0] if len(copies) == 1 else syntax.OrGroup(copies)


class SearchIndex:
    """The Whoosh index in one directory, plus the commit it reflects."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.schema = build_schema()
        self._local = threading.local()

    # -- state ---------------------------------------------------------------

    def indexed_commit(self) -> str | None:
        """The commit the index reflects, or None when missing or of an older schema."""
        try:
            version, _, commit = (self.directory / COMMIT_FILE).read_text().partition(" ")
        except OSError:
            return None
        return commit.strip() or None if version == SCHEMA_VERSION else None

    def forget(self) -> None:
        """Mark the index stale so the next catch-up rebuilds it."""
        (self.directory / COMMIT_FILE).unlink(missing_ok=True)

    def paths(self) -> set[str]:
        """Every page path in the index (for a rebuild that reuses nothing)."""
        with self._searcher() as searcher:
            return {fields["path"] for fields in searcher.all_stored_fields()}

    # -- writing (the caller holds the inter-process writer lock) --------------

    @contextmanager
    def update(self, commit: str, fresh: bool = False,
               recreate: bool = False) -> Iterator[IndexUpdate]:
        """A batch of changes, committed with `commit` as the indexed commit.

        With `fresh` the batch replaces the whole index in one step (readers
        see the old index until then); a missing or unreadable index, or with
        `recreate` any index, is deleted and created anew first.
        """
        ix = self._open_for_writing(fresh, recreate)
        writer = ix.writer(limitmb=128)
        batch = IndexUpdate(writer, fresh)
        try:
            yield batch
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=CLEAR) if fresh else writer.commit()
        self._write_commit(commit)

    def _open_for_writing(self, fresh: bool, recreate: bool) -> Any:
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            ix = whoosh_index.open_dir(str(self.directory))
            if not recreate and (not fresh or ix.schema.names() == self.schema.names()):
                return ix
        except Exception:  # noqa: S110 (any unreadable index is recreated below)
            pass
        self.forget()
        for child in self.directory.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            elif child.name != COMMIT_FILE:
                child.unlink()
        return whoosh_index.create_in(str(self.directory), self.schema)

    def _write_commit(self, commit: str) -> None:
        target = self.directory / COMMIT_FILE
        spare = target.with_name(f"{COMMIT_FILE}.{os.getpid()}")
        spare.write_text(f"{SCHEMA_VERSION} {commit}\n")
        os.replace(spare, target)

    # -- reading -------------------------------------------------------------

    @contextmanager
    def _searcher(self) -> Iterator[Any]:
        """This thread's searcher, refreshed to the newest index generation."""
        try:
            searcher = getattr(self._local, "searcher", None)
            forked = getattr(self._local, "pid", None) != os.getpid()
            # Not Searcher.refresh(): it reuses segment readers and so misses new deletions.
            if searcher is None or forked or not searcher.up_to_date():
                if searcher is not None and not forked:
                    searcher.close()
                searcher = whoosh_index.open_dir(str(self.directory)).searcher()
        except Exception as exc:
            self._local.searcher = None
            raise IndexUnavailable(str(exc)) from exc
        self._local.searcher, self._local.pid = searcher, os.getpid()
        yield searcher

    def search(self, text: str, lang: str | None = None, page: int = 1,
               per_page: int = 10) -> SearchResults:
        """Run a query in the wiki's query language; raises IndexUnavailable."""
        text = text.strip()[:MAX_QUERY]
        empty = SearchResults(query=text, total=0, page=page, per_page=per_page)
        if not text:
            return empty
        languages = (lang,) if lang in LANGUAGES else LANGUAGES
        parsed = self._parser(languages).parse(text)
        with self._searcher() as searcher:
            query = _expand_fuzzy(parsed, searcher.reader())
            total = count_matches(searcher, query)
            found = None
            if total is None:  # e.g. a phrase: rank and count in one walk that skips nothing
                # (without replace=0 Whoosh prunes sub-queries mid-walk and undercounts)
                collector = TopCollector(page * per_page, usequality=False, replace=0)
                searcher.search_with_collector(query, collector)
                found = collector.results()
                total = len(found)
            if total == 0:
                suggestion = self._suggest(searcher, text, languages)
                return SearchResults(query=text, total=0, page=page, per_page=per_page,
                                     suggestion=suggestion)
            if page < 1 or (page - 1) * per_page >= total:
                return replace(empty, total=total)
            if found is None:
                found = searcher.search(query, limit=page * per_page)
            wanted = _matched_stems(query, searcher.reader())
            hits = tuple(_hit(hit, wanted) for hit in found[(page - 1) * per_page:])
            return SearchResults(query=text, total=total, page=page,
                                 per_page=per_page, hits=hits)

    def _parser(self, languages: Sequence[str]) -> QueryParser:
        """This thread's parser for a set of languages (building one takes milliseconds)."""
        parsers: dict[tuple[str, ...], QueryParser] = self._local.__dict__.setdefault(
            "parsers", {})
        parser = parsers.get(tuple(languages))
        if parser is None:
            parser = QueryParser(None, self.schema, group=AndGroup)
            parser.add_plugin(FuzzyTermPlugin())
            parser.add_plugin(_FieldExpander(languages))
            parsers[tuple(languages)] = parser
        return parser

    def _suggest(self, searcher: Any, text: str, languages: Sequence[str]) -> str | None:
        """'Did you mean': the query with unknown words replaced by close indexed words."""
        words, changed = [], False
        for token in text.split():
            field, colon, word = token.rpartition(":")
            better = _closest_word(searcher, word.lower(), languages)
            changed = changed or better is not None
            words.append(field + colon + better if better else token)
        return " ".join(words) if changed else None


class IndexUpdate:
    """Adds, replaces and deletes pages within one index commit."""

    def __init__(self, writer: Any, fresh: bool) -> None:
        self._writer = writer
        # A fresh batch replaces every segment, so it adds without looking up old copies.
        self._add = writer.add_document if fresh else writer.update_document

    def put(self, page: PageText) -> None:
        """Add the page, replacing any earlier version of the same path."""
        fields: dict[str, Any] = {
            "path": page.path, "folders": folders_of(page.path.lower()), "title": page.title,
            "author": page.author, "blob": page.blob, "languages": page.languages,
            "text": page.body,
            "date": page.date.timestamp() if page.date else None,
        }
        for lang in page.languages:
            fields[f"title_{lang}"] = page.title
            fields[f"head_{lang}"] = page.headings
            fields[f"body_{lang}"] = fields[f"phrase_{lang}"] = page.body
        self._add(**fields)

    def delete(self, path: str) -> None:
        """Remove a page from the index."""
        self._writer.delete_by_term("path", path)


def count_matches(searcher: Any, query: Query) -> int | None:
    """The exact number of live pages matching `query`, or None for a phrase.

    Whoosh counts by stepping the query's matcher tree one document at a
    time; for a word on half of 10,000 pages that costs as much as ranking
    them. Words, prefixes and the boolean operators are counted here with
    set algebra over whole posting blocks instead, per segment, minus the
    segment's deleted documents. Queries with positions (phrases) return
    None and are counted by Whoosh. The block walk reads the whoosh3 codec's
    own fields; the search tests compare totals with the pages listed.
    """
    total = 0
    for reader, _base in searcher.reader().leaf_readers():
        if not isinstance(reader, SegmentReader):
            return None
        ids = _matching_ids(reader, query)
        if ids is None:
            return None
        total += len(ids - reader.deleted_docs_set) if reader.has_deletions() else len(ids)
    return total


def _matching_ids(reader: Any, query: Query) -> set[int] | None:
    """Document numbers in one segment matching `query` (deleted ones included)."""
    kind = type(query)
    if query is NullQuery:
        return set()
    if kind is Term:
        return _posting_ids(reader, query.fieldname, query.text)
    if kind in (Prefix, Wildcard):
        return _matching_ids(reader, query.simplify(reader))
    if kind is Not:
        excluded = _matching_ids(reader, query.query)
        return None if excluded is None else set(range(reader.doc_count_all())) - excluded
    if kind in (And, Or):
        parts = [_matching_ids(reader, sub) for sub in query.subqueries]
        if any(part is None for part in parts):
            return None
        sets = [part for part in parts if part is not None]
        if not sets:
            return set()
        return set.intersection(*sets) if kind is And else set().union(*sets)
    if kind in (AndMaybe, AndNot, Require):
        a, b = _matching_ids(reader, query.a), _matching_ids(reader, query.b)
        if a is None or b is None:
            return None
        return a if kind is AndMaybe else a - b if kind is AndNot else a & b
    return None


def _posting_ids(reader: Any, field: str, text: str) -> set[int]:
    """Every document number in one term's posting list, read a block at a time."""
    try:
        matcher = reader.postings(field, text)
    except TermNotFound:
        return set()
    if isinstance(matcher, FilterMatcher):  # deleted documents are subtracted by the caller
        matcher = matcher.child
    if not isinstance(matcher, W3LeafMatcher):  # short lists are kept inline
        return set(matcher.all_ids())
    ids: set[int] = set()
    while matcher.is_active():
        # Whoosh has no public bulk read; these are the codec's own block fields.
        if matcher._ids is None:
            matcher._read_ids()
        ids.update(matcher._ids[matcher._i:])
        matcher._next_block()
    return ids


def _hit(hit: Any, wanted: dict[str, set[str]]) -> SearchHit:
    text: str = hit.get("text") or ""
    spans: list[tuple[int, int]] = []
    for lang in hit.get("languages", ()):
        if wanted.get(lang):
            spans.extend(matches(text, stemmer(lang), wanted[lang]))
    stamp = hit.get("date")
    return SearchHit(
        path=hit["path"],
        title=hit.get("title") or hit["path"],
        snippet=sanitize(snippet(text, sorted(set(spans)))),
        score=round(float(hit.score or 0.0), 4),
        author=hit.get("author") or "",
        date=datetime.fromtimestamp(stamp, UTC) if stamp else None,
    )


def _matched_stems(query: Query, reader: Any) -> dict[str, set[str]]:
    """The indexed stems the query matches, per language (prefixes and fuzzy expanded)."""
    wanted: dict[str, set[str]] = {lang: set() for lang in LANGUAGES}
    # Not Query.existing_terms: it reuses its `fieldname` argument as a loop variable.
    for leaf in query.leaves():
        for field, term in leaf.expanded_terms(reader, phrases=True):
            kind, _, lang = field.rpartition("_")
            if (kind in FIELD_BOOSTS or kind in PHRASE_KINDS) and lang in wanted:
                wanted[lang].add(term.decode("utf-8") if isinstance(term, bytes) else term)
    return wanted


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


def _expand_fuzzy(query: Query, reader: Any) -> Query:
    """Replace fuzzy terms by the indexed stems within their edit distance.

    Whoosh would match unstemmed spellings against the stemmed field and count
    a swap as two edits; here "klnat~" finds "klant" (and so "klanten").
    """
    if not isinstance(query, FuzzyTerm):
        return query.apply(lambda sub: _expand_fuzzy(sub, reader))
    field, word = query.fieldname, query.text
    stems = _near_terms(reader, field, word, query.maxdist, max(1, query.prefixlength))
    terms = [Term(field, stem, boost=query.boost) for stem in sorted(stems)]
    return Or(terms) if terms else NullQuery


def _near_terms(reader: Any, field: str, word: str, maxdist: int, prefix: int) -> dict[str, int]:
    """Indexed terms of `field` within `maxdist` edits of `word` or of its stem."""
    lang = field.rpartition("_")[2]
    forms = [word, stemmer(lang)(word) or word] if lang in ANALYZERS else [word]
    candidates = (term.decode("utf-8") if isinstance(term, bytes) else term
                  for term in reader.expand_prefix(field, word[:prefix]))
    return near(forms, candidates, maxdist)


def _closest_word(searcher: Any, word: str, languages: Sequence[str]) -> str | None:
    """A close, indexed, real word for an unknown `word`; None if known or nothing near."""
    if not word.isalpha() or word in OPERATORS:
        return None
    reader = searcher.reader()
    options: list[tuple[int, int, str, str]] = []
    for lang in languages:
        stem, field = stemmer(lang)(word), f"body_{lang}"
        if stem is None or (field, stem) in reader:
            return None
        for term, distance in _near_terms(reader, field, word, 2, 1).items():
            options.append((distance, -reader.doc_frequency(field, term), term, lang))
    if not options:
        return None
    _, _, term, lang = min(options)
    return _surface_form(searcher, f"body_{lang}", term, lang) or term


def _surface_form(searcher: Any, field: str, term: str, lang: str) -> str | None:
    """A word as written in a page that contains the indexed stem `term`."""
    postings = searcher.reader().postings(field, term)
    if not postings.is_active():
        return None
    text = searcher.stored_fields(postings.id()).get("text", "")
    stem = stemmer(lang)
    return next((w.lower() for w in TOKEN.findall(text) if stem(w.lower()) == term), None)
