"""Line and word diffs of two page texts, as unified text or rows for the diff views."""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

_WORDS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class Row:
    """One row of a side-by-side diff. `kind` is equal, delete, insert or replace.

    The HTML fields are escaped text with changed words wrapped in <del>/<ins>.
    """

    kind: str
    left_no: int | None
    left_html: str
    right_no: int | None
    right_html: str


@dataclass(frozen=True)
class Line:
    """One line of an inline diff: kind is equal, delete or insert."""

    kind: str
    old_no: int | None
    new_no: int | None
    html: str


def unified(old: str, new: str, old_label: str, new_label: str, context: int = 3) -> str:
    """A unified diff as git or patch would read it."""
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 old_label, new_label, n=context)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def side_by_side(old: str, new: str) -> list[Row]:
    """Rows pairing old and new lines, with word-level highlights in changed pairs."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[Row] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            rows += [Row("equal", i + 1, _e(a[i]), j + 1, _e(b[j]))
                     for i, j in zip(range(i1, i2), range(j1, j2), strict=True)]
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            left = a[i1 + k] if i1 + k < i2 else None
            right = b[j1 + k] if j1 + k < j2 else None
            rows.append(_pair(left, right, i1 + k + 1, j1 + k + 1))
    return rows


def inline(old: str, new: str) -> list[Line]:
    """Deleted and inserted lines in reading order, with word-level highlights."""
    lines: list[Line] = []
    for row in side_by_side(old, new):
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
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        added += line.startswith("+ ")
        removed += line.startswith("- ")
    return added, removed


def _pair(left: str | None, right: str | None, left_no: int, right_no: int) -> Row:
    if left is None:
        return Row("insert", None, "", right_no, _wrap("ins", right or ""))
    if right is None:
        return Row("delete", left_no, _wrap("del", left), None, "")
    old_html, new_html = _word_diff(left, right)
    return Row("replace", left_no, old_html, right_no, new_html)


def _word_diff(left: str, right: str) -> tuple[str, str]:
    a, b = _WORDS.findall(left), _WORDS.findall(right)
    old_parts: list[str] = []
    new_parts: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
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


def changed_blocks(rows: list[Row]) -> Iterator[int]:
    """Indexes of the first row of each run of changes (for 'next change' links)."""
    previous = "equal"
    for index, row in enumerate(rows):
        if row.kind != "equal" and previous == "equal":
            yield index
        previous = row.kind
