"""Export jobs as processes: reaped when done, found from any folder, honest when they die,
queued so only a few run at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage.repository import Person
from tests.conftest import ROOT
from tests.wiki.export_sample import make_sample
from wiki.errors import PageTooLarge, TooManyRequests
from wiki.export.build import resolve
from wiki.export.jobs import Jobs, Limits

FACILITATOR = Person("Anna de Vries", "anna@example.org")


def process_state(pid: int) -> str | None:
    """The kernel's state letter for `pid` (Z: a zombie nobody reaped), None when gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return None


def test_finished_export_process_is_reaped_not_left_a_zombie(tmp_path: Path) -> None:
    services = make_sample(tmp_path / "data")
    jobs = Jobs(tmp_path / "data")
    job = jobs.wait(jobs.start(resolve(services.repo, None), "md").id, timeout=60)
    assert job.status == "done" and job.pid, job.error
    deadline = time.monotonic() + 10
    while process_state(job.pid) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process_state(job.pid) is None  # a zombie would stay "Z" until this process ends


def test_cli_exports_with_a_relative_data_dir_from_another_folder(tmp_path: Path) -> None:
    make_sample(tmp_path / "wiki-data")
    done = subprocess.run(
        [sys.executable, "-m", "cowiki", "--data", "wiki-data", "export", "--format", "md",
         "--out", "paper.zip"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "paper.zip").stat().st_size > 1000


def test_worker_that_dies_on_an_error_says_which_not_a_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    services = make_sample(tmp_path / "data")
    monkeypatch.setenv("COWIKI_MAX_PAGE_BYTES", "lots")  # the worker cannot read its settings
    jobs = Jobs(tmp_path / "data")
    job = jobs.wait(jobs.start(resolve(services.repo, None), "md").id, timeout=60)
    assert job.status == "failed"
    assert "invalid literal for int()" in job.error and "limit" not in job.error


def test_one_export_runs_at_a_time_and_the_next_waits_with_its_position(
        tmp_path: Path) -> None:
    services = make_sample(tmp_path / "data")
    jobs = Jobs(tmp_path / "data", Limits(running=1))
    source = resolve(services.repo, None)
    first, second = jobs.start(source, "html"), jobs.start(source, "md")
    assert (first.status, jobs.position(first)) == ("running", 0)
    assert (second.status, jobs.position(second)) == ("queued", 1)
    deadline = time.monotonic() + 120
    states = [jobs.get(first.id), jobs.get(second.id)]
    while any(s.status in ("queued", "running") for s in states):
        assert sum(s.status == "running" for s in states) <= 1
        assert time.monotonic() < deadline, states
        time.sleep(0.05)
        states = [jobs.get(first.id), jobs.get(second.id)]
    assert [s.status for s in states] == ["done", "done"], [s.error for s in states]


def test_export_of_a_page_over_the_budget_is_refused_with_its_name(tmp_path: Path) -> None:
    services = make_sample(tmp_path / "data")
    table = "# Tabel\n\n| a | b |\n|---|---|\n" + "| cel | cel |\n" * 20_000
    services.repo.commit(lambda head: {"Methode.md": table.encode()}, FACILITATOR, "Big table")
    jobs = Jobs(tmp_path / "data", Limits(page_bytes=100_000))
    with pytest.raises(PageTooLarge, match="Methode is too large to export"):
        jobs.start(resolve(services.repo, None), "pdf")
    assert not list((tmp_path / "data" / "exports").glob("*.json"))


def test_full_queue_refuses_another_export_until_one_finishes(tmp_path: Path) -> None:
    services = make_sample(tmp_path / "data")
    jobs = Jobs(tmp_path / "data", Limits(running=0, queued=1))  # paused: nothing runs
    source = resolve(services.repo, None)
    waiting = jobs.start(source, "md", owner="user:1")
    with pytest.raises(TooManyRequests, match="1 exports are waiting already") as refused:
        jobs.start(source, "html", owner="user:2")
    assert refused.value.retry_after > 0
    assert jobs.start(source, "md", owner="user:2").id == waiting.id  # the same export is shared
