"""Near words for fuzzy terms (`klnat~`) and 'did you mean', with bounded cost.

Whoosh's fuzzy automaton counts a swap of two neighbouring letters as two
edits, so "klnat~" would not find "klant"; the distance here counts it as one
(optimal string alignment, computed by rapidfuzz), as people expect of a typo.

A query is typed by anyone, so the work is capped: words longer than
`MAX_WORD` letters are never corrected, at most `MAX_EDITS` edits are
allowed, at most `MAX_CANDIDATES` indexed terms are compared per field, and
'did you mean' looks at no more than `MAX_SUGGESTED` distinct words.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA
from whoosh.reading import TermNotFound

from wiki.search.analysis import field_language, stemmer
from wiki.search.snippets import TOKEN

MAX_WORD = 40
MAX_EDITS = 2
MAX_CANDIDATES = 20_000
MAX_SUGGESTED = 8  # distinct words a 'did you mean' looks at
OPERATORS = frozenset({"and", "or", "not", "to", "andnot", "andmaybe", "require"})


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance where swapping two neighbouring letters is one edit."""
    return int(OSA.distance(a, b))


def near(words: Iterable[str], candidates: Sequence[str], maxdist: int) -> dict[str, int]:
    """Each candidate within `maxdist` edits of any of `words`, with its distance."""
    maxdist = min(maxdist, MAX_EDITS)
    found: dict[str, int] = {}
    for word in {w for w in words if w and len(w) <= MAX_WORD}:
        for candidate, distance, _ in process.extract(
                word, candidates, scorer=OSA.distance, score_cutoff=maxdist, limit=None):
            found[candidate] = min(distance, found.get(candidate, maxdist))
    return found


# Indexed terms per (field, prefix), shared by the words of one query.
TermLists = dict[tuple[str, str], list[str]]


def near_terms(reader: Any, field: str, word: str, maxdist: int, prefix: int,
               lists: TermLists | None = None) -> dict[str, int]:
    """Indexed terms of `field` within `maxdist` edits of `word` or of its stem."""
    if len(word) > MAX_WORD:
        return {}
    _, lang = field_language(field)
    forms = [word, stemmer(lang)(word) or word] if lang else [word]
    lists = {} if lists is None else lists
    key = (field, word[:prefix])
    if key not in lists:
        lists[key] = list(islice(_terms(reader, field, word[:prefix]), MAX_CANDIDATES))
    return near(forms, lists[key], maxdist)


def _terms(reader: Any, field: str, prefix: str) -> Iterator[str]:
    try:
        for term in reader.expand_prefix(field, prefix):
            yield term.decode("utf-8") if isinstance(term, bytes) else term
    except TermNotFound:
        return


def suggest(searcher: Any, text: str, languages: Sequence[str]) -> str | None:
    """'Did you mean': the query with unknown words replaced by close indexed words.

    A word is corrected from the words of its own filter: `title:klnat` from
    titles, `author:jansn` from authors; `path:` values and operators are
    left as they are.
    """
    words: list[str] = []
    found: dict[tuple[str, str], str | None] = {}
    lists: TermLists = {}
    for token in text.split():
        field, colon, word = token.rpartition(":")
        key = (field.lower(), word.lower())
        if key not in found and len(found) < MAX_SUGGESTED:
            found[key] = closest_word(searcher, key[1], _fields_of(key[0], languages), lists)
        better = found.get(key)
        words.append(field + colon + better if better else token)
    return " ".join(words) if any(found.values()) else None


def _fields_of(user_field: str, languages: Sequence[str]) -> list[str]:
    """The index fields a word of this filter is corrected from (none for `path:`)."""
    if user_field in ("", "title"):
        return [f"{user_field or 'body'}_{lang}" for lang in languages]
    return ["author"] if user_field == "author" else []


def closest_word(searcher: Any, word: str, fields: Sequence[str],
                 lists: TermLists | None = None) -> str | None:
    """A close, indexed, real word for an unknown `word`; None if known or nothing near."""
    if not word.isalpha() or word in OPERATORS or len(word) > MAX_WORD or not fields:
        return None
    reader = searcher.reader()
    options: list[tuple[int, int, str, str]] = []
    for field in fields:
        _, lang = field_language(field)
        stem = stemmer(lang)(word) if lang else word
        if stem is None or (field, stem) in reader:
            return None
        for term, distance in near_terms(reader, field, word, 2, 1, lists).items():
            options.append((distance, -reader.doc_frequency(field, term), term, field))
    if not options:
        return None
    _, _, term, field = min(options)
    _, lang = field_language(field)
    return (_surface_form(searcher, field, term, lang) if lang else None) or term


def _surface_form(searcher: Any, field: str, term: str, lang: str) -> str | None:
    """A word as written in a page that contains the indexed stem `term`."""
    postings = searcher.reader().postings(field, term)
    if not postings.is_active():
        return None
    text = searcher.stored_fields(postings.id()).get("text", "")
    stem = stemmer(lang)
    return next((w.lower() for w in TOKEN.findall(text) if stem(w.lower()) == term), None)
