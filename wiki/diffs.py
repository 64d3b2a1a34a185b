"""Line and word diffs of two page texts, as unified text or rows for the diff views.

Lines are matched by git's diff (`storage.textdiff`), whose time grows about
linearly; difflib's matchers went quadratic on hostile pages. A changed middle
of more than MAX_DIFF_LINES lines is shown replaced as a whole. Changed line
pairs get word highlights only while they are short enough (MAX_WORD_CHARS) and
the diff's word budget (WORD_BUDGET characters) lasts; past that, whole lines
are marked, so a diff of any two pages up to the size limit answers quickly.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from storage.textdiff import changed_blocks as _changed_lines

MAX_DIFF_LINES = 100_000  # changed lines (both sides) diffed line by line
MAX_WORD_CHARS = 100_000  # longest line pair (both sides) that gets a word diff
WORD_BUDGET = 400_000  # characters of changed pairs word-diffed in one diff, in reading order
PAIR_COST = 100  # what one pair's word diff costs beyond its characters, in characters

_WORDS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)
Opcode = tuple[str, int, int, int, int]


class Row(NamedTuple):
    """One row of a side-by-side diff. `kind` is equal, delete, insert or replace.

    The HTML fields are escaped text with changed words wrapped in <del>/<ins>.
    (A named tuple: a 1 MB diff makes hundreds of thousands of rows.)
    """

    kind: str
    left_no: int | None
    left_html: str
    right_no: int | None
    right_html: str


class Line(NamedTuple):
    """One line of an inline diff: kind is equal, delete or insert."""

    kind: str
    old_no: int | None
    new_no: int | None
    html: str


def opcodes(a: list[str], b: list[str]) -> list[Opcode]:
    """difflib-style opcodes (equal, replace, delete, insert) turning lines `a` into `b`."""
    codes: list[Opcode] = []
    i = j = 0
    for i1, i2, j1, j2 in _changed_lines(a, b, MAX_DIFF_LINES):
        if i1 > i:
            codes.append(("equal", i, i1, j, j1))
        kind = "replace" if i2 > i1 and j2 > j1 else "delete" if i2 > i1 else "insert"
        codes.append((kind, i1, i2, j1, j2))
        i, j = i2, j2
    if i < len(a) or j < len(b):
        codes.append(("equal", i, len(a), j, len(b)))
    return codes


def unified(old: str, new: str, old_label: str, new_label: str, context: int = 3) -> str:
    """A unified diff as git or patch would read it ('' when the texts are equal)."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    groups = list(_grouped(opcodes(_with_ends(a), _with_ends(b)), context))
    if not groups:
        return ""
    out = [f"--- {old_label}\n", f"+++ {new_label}\n"]
    for group in groups:
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n")
        for kind, i1, i2, j1, j2 in group:
            if kind == "equal":
                out += (" " + line for line in a[i1:i2])
                continue
            out += ("-" + line for line in a[i1:i2])
            out += ("+" + line for line in b[j1:j2])
    return "".join(line if line.endswith("\n") else line + "\n" for line in out)


def side_by_side(old: str, new: str) -> list[Row]:
    """Rows pairing old and new lines, with word-level highlights in changed pairs."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[Row] = []
    budget = [WORD_BUDGET]
    for tag, i1, i2, j1, j2 in opcodes(a, b):
        if tag == "equal":
            rows += [Row("equal", i + 1, _e(a[i]), j + 1, _e(b[j]))
                     for i, j in zip(range(i1, i2), range(j1, j2), strict=True)]
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            left = a[i1 + k] if i1 + k < i2 else None
            right = b[j1 + k] if j1 + k < j2 else None
            rows.append(_pair(left, right, i1 + k + 1, j1 + k + 1, budget))
    return rows


def inline(old: str, new: str) -> list[Line]:
    """Deleted and inserted lines in reading order, with word-level highlights."""
    return inline_rows(side_by_side(old, new))


def inline_rows(rows: Iterable[Row]) -> list[Line]:
    """The inline view of side-by-side rows (so a view diffs once for both)."""
    lines: list[Line] = []
    for row in rows:
        if row.kind == "equal":
            lines.append(Line("equal", row.left_no, row.right_no, row.right_html))
            continue
        if row.left_no is not None:
            lines.append(Line("delete", row.left_no, None, row.left_html))
        if row.right_no is not None:
            lines.append(Line("insert", None, row.right_no, row.right_html))
    return lines


def stats(old: str, new: str) -> tuple[int, int]:
    """Lines added and removed."""
    added = removed = 0
    for _tag, i1, i2, j1, j2 in opcodes(old.splitlines(), new.splitlines()):
        if _tag != "equal":
            added += j2 - j1
            removed += i2 - i1
    return added, removed


def row_stats(rows: Iterable[Row]) -> tuple[int, int]:
    """Lines added and removed, counted from side-by-side rows."""
    added = removed = 0
    for row in rows:
        if row.kind != "equal":
            added += row.right_no is not None
            removed += row.left_no is not None
    return added, removed


def changed_blocks(rows: list[Row]) -> Iterator[int]:
    """Indexes of the first row of each run of changes (for 'next change' links)."""
    previous = "equal"
    for index, row in enumerate(rows):
        if row.kind != "equal" and previous == "equal":
            yield index
        previous = row.kind


def _grouped(codes: list[Opcode], context: int) -> Iterator[list[Opcode]]:
    """Hunks of opcodes with `context` equal lines around changes (difflib's grouping)."""
    if not any(code[0] != "equal" for code in codes):
        return
    if codes[0][0] == "equal":
        _, i1, i2, j1, j2 = codes[0]
        codes[0] = ("equal", max(i1, i2 - context), i2, max(j1, j2 - context), j2)
    if codes[-1][0] == "equal":
        _, i1, i2, j1, j2 = codes[-1]
        codes[-1] = ("equal", i1, min(i2, i1 + context), j1, min(j2, j1 + context))
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)))
            yield group
            group = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        yield group


def _with_ends(lines: list[str]) -> list[str]:
    """Lines compared with their line ends (a CRLF change is a change), minus the "\\n"."""
    return [line[:-1] + "\x00" if line.endswith("\n") else line for line in lines]


def _range(start: int, stop: int) -> str:
    """A unified diff range: 1-based start and length, as difflib writes it."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start if length == 0 else start + 1},{length}"


def _pair(left: str | None, right: str | None, left_no: int, right_no: int,
          budget: list[int]) -> Row:
    if left is None:
        return Row("insert", None, "", right_no, _wrap("ins", right or ""))
    if right is None:
        return Row("delete", left_no, _wrap("del", left), None, "")
    old_html, new_html = _word_diff(left, right, budget)
    return Row("replace", left_no, old_html, right_no, new_html)


def _word_diff(left: str, right: str, budget: list[int]) -> tuple[str, str]:
    """Both lines with changed words marked; whole lines once the budget is spent."""
    cost = len(left) + len(right) + PAIR_COST
    if cost > min(MAX_WORD_CHARS, budget[0]):
        return _wrap("del", left), _wrap("ins", right)
    budget[0] -= cost
    a, b = _WORDS.findall(left), _WORDS.findall(right)
    old_parts: list[str] = []
    new_parts: list[str] = []
    for tag, i1, i2, j1, j2 in opcodes(a, b):
        old_text, new_text = _e("".join(a[i1:i2])), _e("".join(b[j1:j2]))
        if tag == "equal":
            old_parts.append(old_text)
            new_parts.append(new_text)
            continue
        if old_text:
            old_parts.append(f"<del>{old_text}</del>")
        if new_text:
            new_parts.append(f"<ins>{new_text}</ins>")
    return "".join(old_parts), "".join(new_parts)


def _wrap(tag: str, text: str) -> str:
    return f"<{tag}>{_e(text)}</{tag}>" if text else ""


def _e(text: str) -> str:
    return html.escape(text, quote=False)
