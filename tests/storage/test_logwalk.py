"""`walk_order` lists what `git log` lists, and a cache that resumes where it says stays exact.

Random histories of saves, pushed side branches and merges, with clocks that
run ahead, behind and tick equal, are walked after every move of `main`: once
from scratch and once from the order recorded at the previous head. Both must
equal `git log --format=%H` and each other.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pygit2
import pytest

from storage.logwalk import Walked, walk_order
from storage.repository import Person, Repository


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    return Repository.init(tmp_path / "repo.git", Person("cowiki", "cowiki@localhost"))


def git_log(repo: Repository, head: str) -> list[str]:
    return subprocess.run(["git", "--git-dir", str(repo.path), "log", "--format=%H", head],
                          check=True, capture_output=True, text=True).stdout.split()


@pytest.mark.parametrize("seed", range(6))
def test_resumed_walks_equal_git_log_after_every_push_and_save(repo: Repository,
                                                              seed: int) -> None:
    rng, git = random.Random(seed), repo.git
    tree = git.TreeBuilder().write()
    commits: list[str] = []

    def commit(parents: list[str], when: int) -> str:
        who = pygit2.Signature("Pat", "pat@example.org", when, 0)
        made = str(git.create_commit(None, who, who, f"c{len(commits)}\n", tree, parents))
        commits.append(made)
        return made

    head = commit([], 1_000_000)
    recorded: list[Walked] = []
    for step in range(1, 60):
        when = 1_000_000 + step * 60 + rng.choice([0, 0, 0, -600, 900, -86_400])
        if rng.random() < 0.6 or len(commits) < 4:
            head = commit([head], when)
        else:  # a clone's work on an older commit (perhaps merging main itself), merged in
            side = commit([rng.choice(commits[:-1])], when - rng.choice([0, 30, 3600]))
            if rng.random() < 0.3:
                side = commit([side, rng.choice(commits[:-1])], when)
            head = commit([head, side], when + rng.choice([0, 1]))
        known = {w.revision: w for w in recorded}
        order = walk_order(repo, head, known.get)
        resumed = list(order.shown)
        if order.resume is not None:
            resumed += recorded[[w.revision for w in recorded].index(order.resume):]
        whole = walk_order(repo, head, lambda _revision: None)
        assert whole.resume is None
        assert resumed == list(whole.shown)
        assert [w.revision for w in resumed] == git_log(repo, head)
        recorded = resumed
