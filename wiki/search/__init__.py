"""Full-text search over pages with Whoosh: the only package that imports whoosh.

The rest of the wiki sees plain `PageText` in and `SearchHit` out, through a
narrow interface: `SearchIndex.update` (index and update pages),
`SearchIndex.search` (query, with its 'did you mean' suggestion), and
`IndexUnavailable` when the index must be rebuilt. So the engine can be
swapped for OpenSearch later without touching views or the indexer
(DESIGN.md, "Scale-out").

Modules, one job each:

- `analysis`: the schema, stemming and per-language fields;
- `parsing`: the query language and its errors;
- `counting`: exact totals read from the codec's posting blocks;
- `spelling`: fuzzy terms and 'did you mean', with capped cost;
- `snippets` and `results`: what a hit shows;
- `index`: the index on disk (generations, writing, searching).
"""

from __future__ import annotations

from wiki.search.analysis import _BodyAnalyzer
from wiki.search.index import IndexUpdate, SearchIndex
from wiki.search.results import IndexUnavailable, SearchHit, SearchResults

__all__ = ["IndexUnavailable", "IndexUpdate", "SearchHit", "SearchIndex", "SearchResults"]
_BodyAnalyzer = _BodyAnalyzer  # indexes pickle their schema's analyzer as wiki.search._BodyAnalyzer
