"""Three-way merges follow git merge-file: separate paragraphs merge, overlaps conflict."""

from __future__ import annotations

from storage.merge import merge_texts

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
