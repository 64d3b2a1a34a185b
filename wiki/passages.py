"""Comments on a passage: where a quote sits in a page's Markdown, and where it went since.

An anchor is stored with its comment (wiki/comments.py): the quote (the Markdown
source it covers), the revision it was made on, its code-point start and end in
that revision's source (the positions the editor uses), and up to CONTEXT code
points before and after it.

Making an anchor. The editor knows source offsets and sends start and end. The
page view knows only the rendered text: the browser sends the selected text and
which occurrence of it in the article's text it is (0 for the first). `locate`
then searches the source for that text, letting inline markup (`**`, `_`, a
backtick, `[`, `](url)`), list and heading marks and any run of white space stand
between its characters, and takes the same occurrence (the last when the source
has fewer): the rendered text and its source run in the same order.

Re-anchoring. When the page has changed, the lines of the anchor's revision and
of the current text are diffed (`wiki.diffs.opcodes`, git's linear diff). A quote
on unchanged lines moves with them. A quote on changed lines is looked for in the
lines that replaced them (nearest to where it was, a short quote only where its
context still agrees); when it is not there, it was changed or removed and the
comment is "on an earlier version" (no place). `PassagePlaces` caches the answer
per comment and page blob, so a page view re-anchors only after a change.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import select

from wiki import dbdialect
from wiki.db import Database
from wiki.dbschema import passage_places
from wiki.diffs import opcodes
from wiki.errors import N_, InvalidInput

CONTEXT = 40  # code points of context kept on each side of a quote
MAX_QUOTE = 2000  # code points a passage may span
SHORT_QUOTE = 20  # a quote shorter than this needs its context to re-anchor in changed lines
BATCH = 1000  # places written per statement (SQLite takes at most 32766 values in one)
_EMPHASIS = "*_`~"
_MARKUP = r"(?:[*_`~]|\]\([^)\n]*\)|\[)*"
_GAP = _MARKUP + r"\s+(?:(?:[-+*>#]+|\d+[.)])\s+)*" + _MARKUP


@dataclass(frozen=True)
class Anchor:
    """Where a passage comment was made: quote, revision, code-point span and context."""

    quote: str
    revision: str
    start: int
    end: int
    before: str
    after: str


@dataclass(frozen=True)
class Place:
    """Where an anchor sits in the current text; start None: on an earlier version only."""

    start: int | None
    end: int | None
    occurrence: int = 0  # which occurrence of the quote in the current text (for the browser)

    @property
    def earlier(self) -> bool:
        """True when the quoted text is gone or changed."""
        return self.start is None


def anchor_at(text: str, revision: str, start: int, end: int) -> Anchor:
    """The anchor of `text[start:end]` in the page's source at `revision`."""
    if not 0 <= start < end <= len(text):
        raise InvalidInput(N_("the passage lies outside the page"))
    if end - start > MAX_QUOTE:
        raise InvalidInput(N_("a passage is at most {count} characters"), count=MAX_QUOTE)
    if not text[start:end].strip():
        raise InvalidInput(N_("select some text to comment on"))
    return Anchor(text[start:end], revision, start, end,
                  text[max(0, start - CONTEXT):start], text[end:end + CONTEXT])


def locate(text: str, selected: str, occurrence: int = 0) -> tuple[int, int]:
    """The source span of the `occurrence`-th rendered occurrence of `selected` in `text`."""
    words = selected.split()
    if not words:
        raise InvalidInput(N_("select some text to comment on"))
    if len(selected) > MAX_QUOTE:
        raise InvalidInput(N_("a passage is at most {count} characters"), count=MAX_QUOTE)
    pattern = _GAP.join(_MARKUP.join(re.escape(ch) for ch in word) for word in words)
    found = [m.span() for m in re.finditer(pattern, text)]
    if not found:
        raise InvalidInput(N_("the selected text is not in this version of the page"))
    start, end = found[min(occurrence, len(found) - 1)]
    while start > 0 and text[start - 1] in _EMPHASIS:  # "**begin" rather than "begin**"
        start -= 1
    while end < len(text) and text[end] in _EMPHASIS:
        end += 1
    return start, end


def occurrence_of(text: str, quote: str, start: int) -> int:
    """How many times `quote` occurs in `text` before `start` (not overlapping)."""
    count, at = 0, text.find(quote)
    while 0 <= at < start:
        count, at = count + 1, text.find(quote, at + len(quote))
    return count


def plain(quote: str) -> str:
    """The quote as the rendered page shows it, roughly: inline markup and link targets out."""
    text = re.sub(r"\]\([^)\n]*\)", "", quote)
    text = re.sub(r"(?m)^\s*(?:[-+*>#]+|\d+[.)])\s+", "", text)
    return " ".join(re.sub(r"[*_`~\[]", "", text).split())


def reanchor(anchor: Anchor, old: str, new: str,
             codes: list[tuple[str, int, int, int, int]] | None = None) -> tuple[int, int] | None:
    """Where `anchor` (made on text `old`) sits in `new`; None when its quote is gone.

    Args:
        codes: the line opcodes from `old` to `new`, when the caller has them already.
    """
    if old[anchor.start:anchor.end] != anchor.quote:  # not the text it was made on
        return _by_context(anchor, new, 0, len(new), anchor.start)
    if old == new:
        return anchor.start, anchor.end
    old_lines, new_lines = old.split("\n"), new.split("\n")
    old_at, new_at = _line_starts(old_lines), _line_starts(new_lines)
    first = _line_of(old_at, anchor.start)
    last = _line_of(old_at, anchor.end - 1)
    touched = [c for c in codes or opcodes(old_lines, new_lines)
               if c[1] <= last and c[2] > first]
    if len(touched) == 1 and touched[0][0] == "equal":
        shift = new_at[touched[0][3] + first - touched[0][1]] - old_at[first]
        return anchor.start + shift, anchor.end + shift
    low, high = new_at[touched[0][3]], new_at[touched[-1][4]] - 1
    expected = low + anchor.start - old_at[touched[0][1]]
    return _by_context(anchor, new, low, max(low, high), expected)


def _line_starts(lines: list[str]) -> list[int]:
    starts, at = [], 0
    for line in lines:
        starts.append(at)
        at += len(line) + 1
    starts.append(at)  # one past the end, so a block's end line has a start too
    return starts


def _line_of(starts: list[int], offset: int) -> int:
    low, high = 0, len(starts) - 2
    while low < high:
        mid = (low + high + 1) // 2
        if starts[mid] <= offset:
            low = mid
        else:
            high = mid - 1
    return low


def _by_context(anchor: Anchor, text: str, low: int, high: int,
                expected: int) -> tuple[int, int] | None:
    """The occurrence of the quote inside text[low:high] nearest `expected` whose context
    agrees (for a short quote: the 8 code points before or after it are as they were)."""
    quote, best = anchor.quote, None
    at = text.find(quote, low, high)
    while at != -1:
        agrees = (text[max(0, at - 8):at] == anchor.before[-8:]
                  or text[at + len(quote):at + len(quote) + 8] == anchor.after[:8])
        if (agrees or len(quote) >= SHORT_QUOTE) and (
                best is None or abs(at - expected) < abs(best - expected)):
            best = at
        at = text.find(quote, at + 1, high)
    return None if best is None else (best, best + len(quote))


class PassagePlaces:
    """Where each passage comment sits in a page blob: computed once, kept in the database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def places(self, text: str, blob: str, anchors: Mapping[int, Anchor],
               text_at: Callable[[str], str | None]) -> dict[int, Place]:
        """The place of every anchor (by comment id) in `text`, the page's blob `blob`.

        Args:
            text_at: the page's source at a revision (None when it had none there).
        """
        table = passage_places
        cached = {int(i): (s, e) for i, s, e in self.db.connect().execute(
            select(table.c.comment_id, table.c.start, table.c.end).where(table.c.blob == blob))}
        spans: dict[int, tuple[int | None, int | None]] = {
            i: cached[i] for i in anchors if i in cached}
        missing = [i for i in anchors if i not in cached]
        if missing:
            spans.update(self._compute(text, {i: anchors[i] for i in missing}, text_at))
            rows = [{"comment_id": i, "blob": blob, "start": spans[i][0], "end": spans[i][1]}
                    for i in missing]
            with self.db.transaction() as write:  # two first views at once: the same rows
                for at in range(0, len(rows), BATCH):
                    write.execute(dbdialect.upsert_rows(
                        self.db.dialect, table, rows[at:at + BATCH], keys=("comment_id",)))
        return {i: Place(s, e, 0 if s is None else occurrence_of(text, anchors[i].quote, s))
                for i, (s, e) in spans.items()}

    @staticmethod
    def _compute(text: str, anchors: Mapping[int, Anchor],
                 text_at: Callable[[str], str | None]) -> dict[int, tuple[int | None, int | None]]:
        olds: dict[str, str | None] = {}
        diffs: dict[str, list[tuple[str, int, int, int, int]]] = {}
        spans: dict[int, tuple[int | None, int | None]] = {}
        for comment_id, anchor in anchors.items():
            rev = anchor.revision
            if rev not in olds:
                olds[rev] = text_at(rev)
            old = olds[rev]
            if old is None:  # renamed since, or unreadable: find it by its context
                span = _by_context(anchor, text, 0, len(text), anchor.start)
            else:
                if rev not in diffs:
                    diffs[rev] = opcodes(old.split("\n"), text.split("\n"))
                span = reanchor(anchor, old, text, diffs[rev])
            spans[comment_id] = span if span else (None, None)
        return spans
