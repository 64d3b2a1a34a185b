"""Three-way merges follow git merge-file: separate paragraphs merge, overlaps conflict."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from storage.merge import merge_texts
from tests.conftest import ROOT

BASE = "# Plan\n\nFirst paragraph.\n\nSecond paragraph.\n\nThird paragraph.\n"


def test_edits_to_different_paragraphs_merge_cleanly() -> None:
    ours = BASE.replace("First paragraph.", "First paragraph, improved.")
    theirs = BASE.replace("Third paragraph.", "Third paragraph, extended.")
    result = merge_texts(BASE, ours, theirs)
    assert result.clean
    assert "First paragraph, improved." in result.text
    assert "Third paragraph, extended." in result.text


def test_edits_to_the_same_line_conflict_with_both_versions() -> None:
    ours = BASE.replace("Second paragraph.", "Tweede alinea.")
    theirs = BASE.replace("Second paragraph.", "Second paragraph, revised.")
    result = merge_texts(BASE, ours, theirs)
    assert not result.clean
    [hunk] = result.conflicts
    assert hunk.ours == "Tweede alinea."
    assert hunk.theirs == "Second paragraph, revised."
    assert hunk.base == "Second paragraph."


def test_identical_changes_are_not_a_conflict() -> None:
    ours = theirs = BASE + "\nSame addition.\n"
    assert merge_texts(BASE, ours, theirs).text == ours


def test_user_text_that_looks_like_markers_is_not_mistaken_for_a_conflict() -> None:
    ours = BASE.replace("First paragraph.", "<<<<<<< not a marker\n=======\n>>>>>>> neither")
    theirs = BASE.replace("Third paragraph.", "Third, changed.")
    result = merge_texts(BASE, ours, theirs)
    assert result.clean
    assert "<<<<<<< not a marker" in result.text


def test_resolving_keeps_clean_changes_from_both_sides() -> None:
    ours = BASE.replace("First paragraph.", "Mine first.").replace("Second paragraph.", "Mine.")
    theirs = BASE.replace("Second paragraph.", "Theirs.").replace("Third paragraph.", "T3.")
    result = merge_texts(BASE, ours, theirs)
    assert len(result.conflicts) == 1
    assert result.resolve() == "# Plan\n\nMine first.\n\nMine.\n\nT3.\n"
    assert result.resolve(["theirs"]) == "# Plan\n\nMine first.\n\nTheirs.\n\nT3.\n"
    assert result.resolve(["both"]) == "# Plan\n\nMine first.\n\nMine.\nTheirs.\n\nT3.\n"


KILLED_MID_MERGE = """
import os, signal, sys
import storage.gitcmd
import storage.merge

def killed(*args, **kwargs):  # the worker dies while git merge-file runs
    os.kill(os.getpid(), signal.SIGKILL)

storage.gitcmd.subprocess.run = killed  # the one place git is started
storage.merge.merge_texts("a\\nb\\nc\\n", "a\\nX\\nc\\n", "a\\nY\\nc\\n")
"""


def test_a_worker_killed_mid_merge_leaves_nothing_in_the_temp_folder(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    done = subprocess.run([sys.executable, "-c", KILLED_MID_MERGE], cwd=ROOT,
                          env={**os.environ, "TMPDIR": str(temp)}, capture_output=True)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert list(temp.iterdir()) == []
