"""The one git runner, the one tree diff, object checks and fsck, against real git."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storage.gitcmd import GitFailed, run_git
from storage.inspect import descends_from, fsck, head_state, is_commit
from storage.repository import Person, Repository
from storage.treediff import MODE_BLOB, TreeChange, commit_changes, diff_commits, last_changes

SERVER = Person("cowiki", "cowiki@localhost")
ANNA = Person("Anna de Vries", "anna@example.org")
BRAM = Person("Bram Jansen", "bram@example.org")


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    return Repository.init(tmp_path / "repo.git", SERVER)


def save(repo: Repository, who: Person, changes: dict[str, bytes | None]) -> str:
    commit = repo.commit(lambda head: changes, who, "edit")
    assert commit is not None
    return commit


def test_a_failing_git_command_reports_gits_own_reason(repo: Repository) -> None:
    with pytest.raises(GitFailed) as failed:
        run_git("rev-parse", "--verify", git_dir=repo.path, revisions=["no-such-branch"])
    assert failed.value.returncode == 128
    assert "git rev-parse --verify failed (exit 128)" in str(failed.value)
    assert "Needed a single revision" in str(failed.value)
    assert "\n" not in str(failed.value)  # one line for logs and the CLI


def test_a_revision_that_looks_like_an_option_is_only_a_revision(repo: Repository,
                                                                 tmp_path: Path) -> None:
    save(repo, ANNA, {"Home.md": b"# Home\n"})
    trap = tmp_path / "written-by-git"
    with pytest.raises(GitFailed):
        run_git("log", "--oneline", git_dir=repo.path, revisions=[f"--output={trap}"])
    assert not trap.exists()


def test_a_git_command_past_its_timeout_fails_clearly(repo: Repository) -> None:
    with pytest.raises(GitFailed, match="timed out"):
        run_git("fsck", git_dir=repo.path, timeout=1e-6)


def test_tree_diff_lists_added_changed_and_deleted_files(repo: Repository) -> None:
    first = save(repo, ANNA, {"Home.md": b"# Home\n", "Old.md": b"# Old\n"})
    second = save(repo, BRAM, {"Home.md": b"# Home\n\nMore.\n", "Old.md": None,
                               "New/Page.md": b"# New\n"})
    changes = {c.path: c for c in diff_commits(repo, first, second)}
    assert {path: c.status for path, c in changes.items()} == {
        "Home.md": "M", "Old.md": "D", "New/Page.md": "A"}
    assert changes["New/Page.md"].blob == repo.blob_id(second, "New/Page.md")
    assert changes["New/Page.md"].mode == MODE_BLOB and changes["Old.md"].deleted
    assert commit_changes(repo, second) == diff_commits(repo, first, second)
    assert [c.path for c in commit_changes(repo, first)] == ["Home.md", "Old.md"]
    assert diff_commits(repo, None, first) == commit_changes(repo, first)
    assert all(isinstance(c, TreeChange) for c in changes.values())


def test_last_changes_names_the_newest_author_of_each_path(repo: Repository) -> None:
    first = save(repo, ANNA, {"A.md": b"a\n", "B.md": b"b\n"})
    save(repo, BRAM, {"B.md": b"b2\n"})
    head = repo.head()
    assert head is not None
    found = last_changes(repo, head, {"A.md", "B.md", "Gone.md"})
    assert {path: who.name for path, (who, _date) in found.items()} == {
        "A.md": ANNA.name, "B.md": BRAM.name}
    assert set(last_changes(repo, head, {"A.md", "B.md"}, hide=first)) == {"B.md"}


def test_object_checks_answer_plain_booleans(repo: Repository) -> None:
    first = save(repo, ANNA, {"A.md": b"a\n"})
    second = save(repo, ANNA, {"A.md": b"a2\n"})
    blob = repo.blob_id(second, "A.md")
    assert blob is not None
    assert is_commit(repo, first) and not is_commit(repo, blob)
    assert not is_commit(repo, "0" * 40) and not is_commit(repo, "not hex")
    assert descends_from(repo, second, first) and not descends_from(repo, first, second)
    assert not descends_from(repo, second, "0" * 40)
    assert head_state(repo).head == second and head_state(repo).problem is None


def test_fsck_is_clean_on_a_sound_repository_and_names_a_damaged_object(
        repo: Repository) -> None:
    save(repo, ANNA, {"Home.md": b"# Home\n"})
    assert fsck(repo.path) == []
    blob = repo.blob_id(repo.head(), "Home.md")
    assert blob is not None
    loose = repo.path / "objects" / blob[:2] / blob[2:]
    os.chmod(loose, 0o644)
    loose.write_bytes(b"not a zlib stream")
    problems = fsck(repo.path)
    assert problems and all(p.startswith("git fsck: ") for p in problems)
    assert any(blob in p for p in problems)
