"""`authors_since`: who changed a file between two commits, as `git log` names them."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from storage.repository import Person, Repository
from storage.treediff import authors_since

PEOPLE = [Person(name, f"{name.lower()}@example.org") for name in ("Anna", "Bob", "Chris", "Dée")]
FILES = ["Plan.md", "Notes/Plan.md", "Other.md"]


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    return Repository.init(tmp_path / "repo.git", Person("cowiki", "cowiki@localhost"))


def git_authors(repo: Repository, base: str, head: str, path: str) -> tuple[str, ...]:
    out = subprocess.run(["git", "--git-dir", str(repo.path), "log", "--format=%an",
                          f"{base}..{head}", "--", path],
                         check=True, capture_output=True, text=True).stdout.split("\n")
    return tuple(dict.fromkeys(name for name in out if name))


@pytest.mark.parametrize("seed", range(4))
def test_authors_since_a_base_are_those_git_log_names(repo: Repository, seed: int) -> None:
    rng = random.Random(seed)
    heads: list[str] = []
    for step in range(40):
        path = rng.choice(FILES)
        data = None if rng.random() < 0.1 else f"{step}\n".encode()
        repo.commit(lambda head, p=path, d=data: {p: d}, rng.choice(PEOPLE), f"step {step}")
        head = repo.head()
        assert head is not None
        heads.append(head)
    for _ in range(20):
        first, last = sorted(rng.sample(range(len(heads)), 2))
        for path in FILES:
            assert authors_since(repo, heads[last], heads[first], path) == \
                git_authors(repo, heads[first], heads[last], path)


def test_authors_are_named_once_newest_first(repo: Repository) -> None:
    anna, bob, chris, _ = PEOPLE
    repo.commit(lambda head: {"Plan.md": b"1\n"}, anna, "start")
    base = repo.head()
    for who, text in ((bob, b"2\n"), (anna, b"3\n"), (bob, b"4\n")):
        repo.commit(lambda head, t=text: {"Plan.md": t}, who, "edit")
    repo.commit(lambda head: {"Other.md": b"x\n"}, chris, "elsewhere")
    head = repo.head()
    assert base is not None and head is not None
    assert authors_since(repo, head, base, "Plan.md") == ("Bob", "Anna")
    assert authors_since(repo, head, base, "Plan.md", limit=1) == ("Bob",)
    assert authors_since(repo, head, head, "Plan.md") == ()
