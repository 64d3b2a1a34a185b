"""Three-way merges follow git merge-file: separate paragraphs merge, overlaps conflict."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pygit2
import pytest

from storage.merge import merge_blobs, merge_texts
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


LINES = ["alpha", "beta", "gamma", "", "-", "# Kop", "delta", "* punt", "epsilon", "zeta"]


def random_text(rng: random.Random, count: int) -> str:
    return "\n".join(rng.choice(LINES) + (str(rng.randrange(5)) if rng.random() < .5 else "")
                     for _ in range(count)) + "\n"


def random_edit(rng: random.Random, text: str) -> str:
    lines = text.split("\n")[:-1]
    for _ in range(rng.randrange(1, 4)):
        at, roll = rng.randrange(len(lines) + 1), rng.random()
        if roll < 0.4 and lines:
            lines[min(at, len(lines) - 1)] = f"changed {rng.randrange(1000)}"
        elif roll < 0.7:
            lines.insert(at, f"new {rng.randrange(1000)}")
        elif lines:
            del lines[min(at, len(lines) - 1)]
    edited = "\n".join(lines) + "\n"
    return edited.rstrip("\n") if rng.random() < 0.15 else edited


@pytest.mark.parametrize("seed", range(4))
def test_libgit2_merges_cleanly_exactly_where_git_merge_file_does(tmp_path: Path,
                                                                   seed: int) -> None:
    """The in-process merge (libgit2's xdiff) against git's, on random edits of both
    sides: same verdict, and for a clean merge the same text."""
    git = pygit2.init_repository(str(tmp_path / "repo.git"), bare=True)
    rng, clean = random.Random(seed), 0
    for _ in range(250):
        base = random_text(rng, rng.randrange(1, 40))
        ours = random_edit(rng, base)
        theirs = random_edit(rng, ours if rng.random() < 0.2 else base)
        blobs = [str(git.create_blob(text.encode())) for text in (base, ours, theirs)]
        expected, merged = merge_texts(base, ours, theirs), merge_blobs(git, *blobs)
        assert (merged is not None) == expected.clean, (base, ours, theirs)
        if merged is not None:
            assert merged == expected.text
            clean += 1
    assert 50 < clean < 200  # both verdicts were put to the test


def test_texts_that_are_not_utf8_go_to_git(tmp_path: Path) -> None:
    git = pygit2.init_repository(str(tmp_path / "repo.git"), bare=True)
    base, ours, theirs = (str(git.create_blob(data))
                          for data in (b"a\nb\nc\n", b"\xff\nb\nc\n", b"a\nb\nd\n"))
    assert merge_blobs(git, base, ours, theirs) is None
