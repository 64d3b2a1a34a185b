"""Diffs: git's line matching keeps hostile pairs of versions fast, and the views' rows add up."""

from __future__ import annotations

import random
import re
import time

import pytest

from storage.textdiff import changed_blocks as changed_lines
from wiki import diffs

RANDOM = random.Random(7)


def short_lines(count: int) -> str:
    return "".join(RANDOM.choice("abcdef") + RANDOM.choice("xyz") + "\n" for _ in range(count))


HOSTILE = {
    # stats (difflib.ndiff) took 7 s on 800 of these lines; 1,000 take longer still.
    "two versions of 1,000 short lines": (short_lines(1000), short_lines(1000)),
    # A 30 KB line rewritten word by word: over a minute in difflib's word matcher.
    "a 30 KB line rewritten word by word": (" ".join(f"w{i}" for i in range(5000)),
                                            " ".join(f"v{i}" for i in range(5000))),
}


@pytest.mark.parametrize(("old", "new"), HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_versions_diff_quickly(old: str, new: str) -> None:
    start = time.perf_counter()
    rows = diffs.side_by_side(old, new)
    lines = diffs.inline_rows(rows)
    added, removed = diffs.stats(old, new)
    text = diffs.unified(old, new, "a", "b")
    assert time.perf_counter() - start < 2.0
    assert (added, removed) == diffs.row_stats(rows) and added and removed
    assert len(lines) == sum(1 + (r.kind == "replace") for r in rows)
    assert text.startswith("--- a\n+++ b\n@@ ")


def test_a_long_changed_line_still_gets_word_highlights() -> None:
    old, new = HOSTILE["a 30 KB line rewritten word by word"]
    [row] = diffs.side_by_side(old, new)
    assert row.kind == "replace" and "<del>w0</del>" in row.left_html
    assert "<ins>v4999</ins>" in row.right_html


def test_past_the_word_budget_whole_lines_are_marked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diffs, "WORD_BUDGET", 40 + diffs.PAIR_COST)  # the first pair fits
    rows = diffs.side_by_side("alpha beta gamma\none two\n", "alpha BETA gamma\none TWO\n")
    assert rows[0].left_html == "alpha <del>beta</del> gamma"
    assert rows[1].left_html == "<del>one two</del>" and rows[1].right_html == "<ins>one TWO</ins>"


def test_past_the_line_budget_the_middle_is_replaced_whole(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diffs, "MAX_DIFF_LINES", 4)
    old, new = "top\na\nb\nc\nbottom\n", "top\nc\nb\na\nbottom\n"
    assert diffs.opcodes(old.splitlines(), new.splitlines()) == [
        ("equal", 0, 1, 0, 1), ("replace", 1, 4, 1, 4), ("equal", 4, 5, 4, 5)]


def rebuild(old: str, patch: str) -> str:
    """Apply a unified diff to `old` (what `patch` would do)."""
    lines, out, at = old.splitlines(keepends=True), [], 0
    for hunk in re.split(r"^@@ ", patch, flags=re.MULTILINE)[1:]:
        header, *body = hunk.splitlines(keepends=True)
        start = int(re.match(r"-(\d+)", header).group(1))  # type: ignore[union-attr]
        count = re.match(r"-\d+(?:,(\d+))?", header).group(1)  # type: ignore[union-attr]
        begin = start - 1 if count != "0" else start
        out += lines[at:begin]
        at = begin
        for line in body:
            if line[0] in " -":
                at += 1
            if line[0] in " +":
                out.append(line[1:])
    return "".join(out + lines[at:])


@pytest.mark.parametrize("seed", range(200))
def test_unified_diff_turns_old_into_new(seed: int) -> None:
    rnd = random.Random(seed)
    old = "".join(rnd.choice(["a\n", "b\n", "c\n", "d\n", "e\n"]) for _ in range(rnd.randrange(40)))
    new = "".join(rnd.choice(["a\n", "b\n", "x\n", "d\n"]) for _ in range(rnd.randrange(40)))
    patch = diffs.unified(old, new, "a", "b")
    assert rebuild(old, patch) == new
    assert patch == "" if old == new else patch.startswith("--- a\n+++ b\n@@ -")


def test_unified_diff_reads_as_difflib_wrote_it() -> None:
    old = "".join(f"line {n}\n" for n in range(1, 11))
    new = old.replace("line 2\n", "LINE 2\n").replace("line 9\n", "") + "line 11\n"
    assert diffs.unified(old, new, "a/p.md", "b/p.md") == (
        "--- a/p.md\n+++ b/p.md\n@@ -1,10 +1,10 @@\n line 1\n-line 2\n+LINE 2\n line 3\n"
        " line 4\n line 5\n line 6\n line 7\n line 8\n-line 9\n line 10\n+line 11\n")
    assert diffs.unified("a\r\nb\n", "a\nb\n", "x", "y") == (
        "--- x\n+++ y\n@@ -1,2 +1,2 @@\n-a\r\n+a\n b\n")


@pytest.mark.parametrize("seed", range(100))
def test_side_by_side_rows_hold_both_versions(seed: int) -> None:
    rnd = random.Random(seed)
    old = "\n".join(rnd.choice(["een twee", "drie", "vier <b>", ""])
                    for _ in range(rnd.randrange(30)))
    new = "\n".join(rnd.choice(["een drie", "drie", "vijf & zes", ""])
                    for _ in range(rnd.randrange(30)))
    rows = diffs.side_by_side(old, new)
    left = [r for r in rows if r.left_no is not None]
    right = [r for r in rows if r.right_no is not None]
    assert [r.left_no for r in left] == list(range(1, len(old.splitlines()) + 1))
    assert [r.right_no for r in right] == list(range(1, len(new.splitlines()) + 1))
    plain = re.compile(r"</?(?:del|ins)>")
    unescape = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}
    def text(html: str) -> str:
        return re.sub(r"&lt;|&gt;|&amp;", lambda m: unescape[m.group()], plain.sub("", html))
    assert [text(r.left_html) for r in left] == old.splitlines()
    assert [text(r.right_html) for r in right] == new.splitlines()
    assert diffs.row_stats(rows) == diffs.stats(old, new)
    starts = list(diffs.changed_blocks(rows))
    assert all(rows[i].kind != "equal" and (i == 0 or rows[i - 1].kind == "equal")
               for i in starts)


def test_changed_lines_come_from_git_in_order() -> None:
    old, new = ["a", "b", "c", "d"], ["a", "B", "c", "d", "e"]
    assert changed_lines(old, new) == [(1, 2, 1, 2), (4, 4, 4, 5)]
    assert changed_lines(old, old) == []
    assert changed_lines(["x\x00y"], ["x\x00z"]) == [(0, 1, 0, 1)]  # NUL is still text
