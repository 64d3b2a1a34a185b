"""Housekeeping's schedule: every EVERY_N_SAVES saves, at most once in REST_SECONDS for
the whole data dir (the lock file's time), at once after an import or a push."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from storage.history import History
from storage.repository import Person, Repository
from wiki.maintenance import EVERY_N_SAVES, REST_SECONDS, Housekeeper


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class CountingHistory(History):
    """A real repository's housekeeping (git runs), counted."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.runs = 0

    def maintain(self) -> None:
        super().maintain()
        self.runs += 1


@pytest.fixture
def repo_path(tmp_path: Path) -> Path:
    repo = Repository.init(tmp_path / "repo.git", Person("cowiki", "cowiki@localhost"))
    repo.commit(lambda head: {"Plan.md": b"# Plan\n"}, Person("Anna", "anna@example.org"),
                "start")
    return repo.path


def keeper(tmp_path: Path, history: CountingHistory, clock: Clock) -> Housekeeper:
    return Housekeeper(history, tmp_path / "housekeeping.lock", clock)


def save(housekeeper: Housekeeper, history: CountingHistory, times: int) -> int:
    """`times` saves counted; the runs housekeeping made once its thread is done."""
    for _ in range(times):
        housekeeper.saved()
    with housekeeper._running:  # held from the start of a background run to its end
        return history.runs


def test_a_run_follows_every_n_saves_when_rested(tmp_path: Path, repo_path: Path) -> None:
    history, clock = CountingHistory(repo_path), Clock()
    housekeeper = keeper(tmp_path, history, clock)
    assert save(housekeeper, history, EVERY_N_SAVES - 1) == 0
    assert save(housekeeper, history, 1) == 1
    clock.now += REST_SECONDS
    assert save(housekeeper, history, EVERY_N_SAVES) == 2


def test_a_burst_of_saves_runs_housekeeping_once_per_rest(tmp_path: Path,
                                                           repo_path: Path) -> None:
    history, clock = CountingHistory(repo_path), Clock()
    housekeeper = keeper(tmp_path, history, clock)
    assert save(housekeeper, history, EVERY_N_SAVES) == 1
    assert save(housekeeper, history, 10 * EVERY_N_SAVES) == 1
    clock.now += REST_SECONDS - 1
    assert save(housekeeper, history, 1) == 1
    clock.now += 1
    assert save(housekeeper, history, 1) == 2  # the saves counted meanwhile made it due


def test_another_process_run_counts_for_the_rest(tmp_path: Path, repo_path: Path) -> None:
    """Two workers of one data dir: the lock file's time tells each when the last ran."""
    clock = Clock()
    first, second = CountingHistory(repo_path), CountingHistory(repo_path)
    one, other = keeper(tmp_path, first, clock), keeper(tmp_path, second, clock)
    assert save(one, first, EVERY_N_SAVES) == 1
    assert save(other, second, EVERY_N_SAVES) == 0
    clock.now += REST_SECONDS
    assert save(other, second, 1) == 1


def test_an_import_or_push_runs_housekeeping_at_once(tmp_path: Path, repo_path: Path) -> None:
    history, clock = CountingHistory(repo_path), Clock()
    housekeeper = keeper(tmp_path, history, clock)
    assert save(housekeeper, history, EVERY_N_SAVES) == 1
    housekeeper.due()
    with housekeeper._running:
        assert history.runs == 2
