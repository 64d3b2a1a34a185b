"""The exact number of pages a query matches, counted a posting block at a time.

Whoosh counts by stepping the query's matcher tree one document at a time;
for a word on half of 10,000 pages that costs as much as ranking them. Words,
prefixes and the boolean operators are counted here with set algebra over
whole posting blocks instead, per segment, minus the segment's deleted
documents. Queries with positions (phrases) return None and are counted by
Whoosh.

Whoosh has no public bulk read, so `_posting_ids` reads the whoosh3 codec's
own block fields. This is the only module that does; pyproject.toml pins
whoosh-reloaded to the minor version these were read from, and
tests/wiki/test_search_codec.py fails loudly if they change.
"""

from __future__ import annotations

from typing import Any

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import FilterMatcher
from whoosh.query import (
    And,
    AndMaybe,
    AndNot,
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


def count_matches(searcher: Any, query: Query) -> int | None:
    """The exact number of live pages matching `query`, or None for a phrase."""
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
        if matcher._ids is None:
            matcher._read_ids()
        ids.update(matcher._ids[matcher._i:])
        matcher._next_block()
    return ids

