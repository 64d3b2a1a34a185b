"""Backup bundles hold every ref as of one moment, even while saves move main."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from storage.bundle import create_bundle, fetch_bundle
from storage.gitcmd import GitFailed, run_git
from storage.repository import MAIN_REF, Changes, Person, Repository

SERVER = Person("cowiki", "cowiki@localhost")
ANNA = Person("Anna de Vries", "anna@example.org")


def page_change(number: int) -> Callable[[str | None], Changes]:
    """A build function that writes `number` into one of twenty pages."""
    return lambda head: {f"p{number % 20}.md": str(number).encode()}


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    repo = Repository.init(tmp_path / "repo.git", SERVER)
    repo.commit(lambda head: {"Home.md": b"# Home\n"}, ANNA, "Create Home")
    run_git("tag", "-a", "-m", "first", "whitepaper-v1", MAIN_REF, git_dir=repo.path)
    return repo


def test_a_bundle_taken_while_main_moves_still_holds_main(repo: Repository,
                                                          tmp_path: Path) -> None:
    # A plain `git bundle create --all` drops a ref that moves mid-bundle: most would lack main.
    stop = threading.Event()

    def keep_saving() -> None:
        number = 0
        while not stop.is_set():
            number += 1
            repo.commit(page_change(number), ANNA, "save")

    saver = threading.Thread(target=keep_saving)
    saver.start()
    try:
        bundles = [create_bundle(repo.path, tmp_path / f"b{n}.bundle") for n in range(8)]
    finally:
        stop.set()
        saver.join()
    assert all(set(b.refs) == {MAIN_REF, "refs/tags/whitepaper-v1"} for b in bundles)
    assert len({b.head for b in bundles}) > 1  # main did move while they were taken
    restored = Repository.init(tmp_path / "restored.git", SERVER)
    fetch_bundle(restored.path, tmp_path / "b7.bundle")
    assert restored.head() == bundles[-1].head
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".cowiki")] == []


def test_a_damaged_bundle_is_refused_with_gits_reason(repo: Repository, tmp_path: Path) -> None:
    bundle = tmp_path / "b.bundle"
    create_bundle(repo.path, bundle)
    data = bundle.read_bytes()
    bundle.write_bytes(data[:-40] + b"\0" * 40)
    restored = Repository.init(tmp_path / "restored.git", SERVER)
    with pytest.raises(GitFailed) as failed:
        fetch_bundle(restored.path, bundle)
    assert "fatal: pack has bad object" in failed.value.stderr
    assert "fatal: pack has bad object" in str(failed.value)  # git's reason reaches the message
    assert restored.head() is None
