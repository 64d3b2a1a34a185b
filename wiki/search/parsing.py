"""The wiki's query language, parsed into a Whoosh query over the real fields.

Words are ANDed; `AND`, `OR`, `NOT`, "phrases", `klant*`, `klnat~` (fuzzy,
edit distance 1; `~2` for 2), and the filters `title:`, `author:` and
`path:` (a chapter folder, or the page's own path). A query without a field
searches title, headings and body of each language, analysed per field, so
"klant" finds "klanten" on a Dutch page and "running" finds "run" on an
English one.

Anything people type either parses or raises `InvalidInput` with a message
they can act on; Whoosh's own parser errors never reach them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from whoosh.fields import Schema
from whoosh.qparser import AndGroup, FuzzyTermPlugin, PhrasePlugin, QueryParser, syntax
from whoosh.qparser.plugins import Plugin
from whoosh.query import And, FuzzyTerm, NullQuery, Or, Phrase, Query, Term

from wiki.errors import N_, InvalidInput
from wiki.search.analysis import FIELD_BOOSTS, PHRASE_KINDS
from wiki.search.spelling import MAX_EDITS, TermLists, near_terms

MAX_QUERY = 500
MAX_FUZZY = 10  # different fuzzy words (~) in one query
FILTERS = ("title", "author", "path")
Authors = Callable[[str], Iterable[str]]
"""The author emails of the person a text names (account name, git name or email)."""


def make_parser(schema: Schema, languages: Sequence[str],
                authors: Authors | None = None) -> QueryParser:
    """A parser for the query language over the fields of `languages`.

    With `authors`, `author:X` matches the pages of every email of the person
    X names, as well as pages whose git author name has X's words.
    """
    parser = QueryParser(None, schema, group=AndGroup)
    parser.add_plugin(FuzzyTermPlugin())
    parser.add_plugin(_FieldExpander(languages, authors))
    return parser


def parse(parser: QueryParser, text: str) -> Query:
    """`text` as a query; raises InvalidInput for what cannot be read."""
    try:
        query = parser.parse(text)
    except InvalidInput:
        raise
    except Exception as exc:  # Whoosh's parser fails with IndexError, TypeError...
        raise InvalidInput(N_("This search cannot be read: check its quotes, brackets"
                              " and AND, OR, NOT.")) from exc
    return _author_words(query)


def _author_words(query: Query) -> Query:
    """A quoted author ("B. de Vries") as all of its words: the author field keeps no positions."""
    if isinstance(query, Phrase) and query.fieldname == "author":
        return And([Term("author", word, boost=query.boost) for word in query.words])
    return query.apply(_author_words)


class _FieldExpander(Plugin):  # type: ignore[misc]  # whoosh is untyped
    """Maps user-facing fields (none, `title:`, `path:`) to the schema's real fields.

    An unfielded word becomes an OR over the body, title and heading fields
    of each language. The body text includes the title and headings, so the
    OR matches exactly the pages whose body matches, and each extra field
    that matches adds its boosted score (BM25 per field, summed). A plain OR
    lets Whoosh drop the short title and heading lists from the walk once
    they cannot lift a page into the top ten. Any other schema field
    (`text:`, `date:`) is refused.
    """

    def __init__(self, languages: Sequence[str], authors: Authors | None = None) -> None:
        self.authors = authors
        self.fields = [f"{kind}_{lang}" for kind in FIELD_BOOSTS for lang in languages]
        self.phrase_fields = [f"{kind}_{lang}" for kind in PHRASE_KINDS for lang in languages]
        self.targets: dict[str, list[str]] = {
            "title": [f"title_{lang}" for lang in languages], "path": ["folders"],
            "author": ["author"]}

    def filters(self, parser: Any) -> list[tuple[Any, int]]:
        return [(self.expand, 110)]  # after explicit `field:` names are applied (100)

    def expand(self, parser: Any, group: Any) -> Any:
        for i, node in enumerate(group):
            if isinstance(node, syntax.GroupNode):
                group[i] = self.expand(parser, node)
            elif node.has_fieldname and node.fieldname is None:
                phrase = isinstance(node, PhrasePlugin.PhraseNode)
                group[i] = _any_of(node, self.phrase_fields if phrase else self.fields)
            elif node.has_fieldname and node.fieldname == "author":
                group[i] = self._person(node)
            elif node.has_fieldname and node.fieldname in self.targets:
                group[i] = _any_of(node, self.targets[node.fieldname])
            elif node.has_fieldname:
                raise InvalidInput(N_("'{field}:' is not a search filter; use title:, author:"
                                      " or path:."), field=node.fieldname)
        return group


    def _person(self, node: Any) -> Any:
        """`author:X` as X's words in the git name, or any email of the person X names."""
        text = getattr(node, "text", None)
        if self.authors is None or not isinstance(text, str) or not text.strip():
            return node
        emails = [syntax.WordNode(email) for email in sorted(set(self.authors(text)))]
        for email in emails:
            email.set_fieldname("author_email")
            email.set_range(node.startchar, node.endchar)
        return syntax.OrGroup([node, *emails]) if emails else node


def _any_of(node: Any, fields: Sequence[str]) -> Any:
    """The syntax node copied into each field, ORed."""
    copies = []
    for name in fields:
        twin = copy.copy(node)
        twin.set_fieldname(name, override=True)
        copies.append(twin)
    return copies[0] if len(copies) == 1 else syntax.OrGroup(copies)


def expand_fuzzy(query: Query, reader: Any) -> Query:
    """Replace fuzzy terms by the indexed stems within their edit distance.

    Whoosh would match unstemmed spellings against the stemmed field and count
    a swap as two edits; here "klnat~" finds "klant" (and so "klanten").
    Raises InvalidInput for more than MAX_FUZZY different fuzzy words.
    """
    fuzzy = {leaf.text for leaf in query.leaves() if isinstance(leaf, FuzzyTerm)}
    if len(fuzzy) > MAX_FUZZY:
        raise InvalidInput(N_("A search can hold at most {count} different fuzzy words (~)."),
                           count=MAX_FUZZY)
    return _expand(query, reader, {})


def stepped_unions(query: Query) -> Query:
    """`query` with every OR matched by stepping its parts together (Whoosh's union tree).

    On a segment of under 5,000 pages Whoosh matches an OR of three or more parts
    by filling a 2,048-slot score array in Python, even when the segment holds one
    page. A word is an OR over each language's fields, so that was most of a search
    on an index of several segments. Changes `query` in place and returns it.
    """
    if isinstance(query, Or):
        query.matcher_type = Or.DEFAULT_MATCHER
    for part in query.children():
        stepped_unions(part)
    return query


def _expand(query: Query, reader: Any, lists: TermLists) -> Query:
    if not isinstance(query, FuzzyTerm):
        return query.apply(lambda sub: _expand(sub, reader, lists))
    field, word = query.fieldname, query.text
    maxdist = min(query.maxdist, MAX_EDITS)
    stems = near_terms(reader, field, word, maxdist, max(1, query.prefixlength), lists)
    terms = [Term(field, stem, boost=query.boost) for stem in sorted(stems)]
    return Or(terms) if terms else NullQuery
