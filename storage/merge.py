"""Three-way merge of page texts with `git merge-file` semantics.

git's own merge-file (xdiff) decides what is clean and what overlaps, so a
web save merges exactly as a `git merge` of the same texts would.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

MARKER_SIZE = 13
OURS, BASE, SEP, THEIRS = ("<" * MARKER_SIZE, "|" * MARKER_SIZE, "=" * MARKER_SIZE,
                           ">" * MARKER_SIZE)


@dataclass(frozen=True)
class ConflictHunk:
    """One region both sides changed differently; `line` is 1-based in the merged text."""

    line: int
    base: str
    ours: str
    theirs: str


@dataclass(frozen=True)
class MergeResult:
    """Merged text (with markers when conflicted) and the conflicting hunks."""

    text: str
    conflicts: tuple[ConflictHunk, ...]

    @property
    def clean(self) -> bool:
        """True when nothing overlapped."""
        return not self.conflicts


def merge_texts(base: str, ours: str, theirs: str) -> MergeResult:
    """Merge `ours` and `theirs`, both derived from `base`."""
    if ours == theirs or theirs == base:
        return MergeResult(ours, ())
    if ours == base:
        return MergeResult(theirs, ())
    with tempfile.TemporaryDirectory(prefix="cowiki-merge-") as tmp:
        files = []
        for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
            file = Path(tmp) / name
            file.write_text(text, encoding="utf-8")
            files.append(str(file))
        proc = subprocess.run(
            ["git", "merge-file", "-p", "--diff3", f"--marker-size={MARKER_SIZE}",
             "-L", "ours", "-L", "base", "-L", "theirs", "--", *files],
            capture_output=True, check=False,
        )
    if proc.returncode < 0 or proc.returncode > 127:
        raise RuntimeError(f"git merge-file failed: {proc.stderr.decode(errors='replace')}")
    merged = proc.stdout.decode("utf-8", errors="replace")
    if proc.returncode == 0:
        return MergeResult(merged, ())
    return MergeResult(merged, _hunks(merged))


def _hunks(merged: str) -> tuple[ConflictHunk, ...]:
    hunks = []
    section: str | None = None
    parts: dict[str, list[str]] = {}
    start = 0
    for number, line in enumerate(merged.splitlines(), start=1):
        marker = line[:MARKER_SIZE] if len(line) >= MARKER_SIZE else ""
        if marker == OURS and (len(line) == MARKER_SIZE or line[MARKER_SIZE] == " "):
            section, parts, start = "ours", {"ours": [], "base": [], "theirs": []}, number
        elif section == "ours" and marker == BASE:
            section = "base"
        elif section in ("ours", "base") and line == SEP:
            section = "theirs"
        elif section == "theirs" and marker == THEIRS:
            hunks.append(ConflictHunk(start, *("\n".join(parts[k]) for k in
                                               ("base", "ours", "theirs"))))
            section = None
        elif section is not None:
            parts[section].append(line)
    return tuple(hunks)
