"""Which index segments a write merges, so searches stay as fast as on a fresh index.

Every catch-up of the search index writes a new Whoosh segment, and a page that
changes is deleted from the segment that held it. Whoosh's own policy sizes
segments by every document they ever held, deleted or not: a segment whose
pages all changed since is kept forever, and each search still opens it. A
500-page wiki had 8 segments after a day of saves, 4 of them empty, and a
search took half as long again as on one segment.
"""

from __future__ import annotations

from typing import Any

from whoosh.reading import SegmentReader
from whoosh.writing import MERGE_SMALL


def tidy_segments(writer: Any, segments: list[Any]) -> list[Any]:
    """Whoosh merge policy: drop segments without a live page, merge the ones that are
    mostly deleted pages into this write's segment, and small ones as Whoosh would.

    Returns the segments the new index keeps apart; the others were added to `writer`.
    """
    live = [segment for segment in segments if segment.doc_count() > 0]
    worn = [segment for segment in live if segment.deleted_count() * 2 > segment.doc_count_all()]
    kept: list[Any] = MERGE_SMALL(writer, [s for s in live if s not in worn])
    for segment in worn:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        writer.add_reader(reader)
        reader.close()
    return kept
