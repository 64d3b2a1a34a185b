"""Under `--root`, a wiki's live process runs only while it is wanted: it starts when
an editor asks, and stops when the wiki moves away or has had no open room for a while.

Real wikis made by `create-wiki`, real live processes on their sockets.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cowiki import root as wikiroot
from cowiki.server import IDLE_STOP_SECONDS, LiveOnDemand
from tests.conftest import ROOT
from wiki.config import Settings
from wiki.live import livesock

PASSWORD = "long-enough-secret-1"


def create_wiki(root: Path, slug: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cowiki", "--root", str(root), "create-wiki", slug,
         "--facilitator", "Ann", "--email", f"ann@{slug}.example.org", "--password-stdin"],
        input=PASSWORD + "\n", capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def on_demand(tmp_path: Path) -> Iterator[LiveOnDemand]:
    for slug in ("alpha", "beta"):
        create_wiki(tmp_path, slug)
    keeper = LiveOnDemand(tmp_path, Settings.load({"data_dir": str(tmp_path)}))
    keeper.scan()
    yield keeper
    keeper.stop()


def ask_for_live(keeper: LiveOnDemand, slug: str) -> int:
    """An editor's wish (as a web worker makes it): the pid of the live process started."""
    data_dir = wikiroot.wiki_dir(keeper.root, slug)
    (livesock.socket_path(data_dir).parent / livesock.WANTED).touch()
    keeper.scan()
    pid = keeper.processes[slug].pid
    assert pid is not None
    deadline = time.monotonic() + 60
    while not livesock.socket_path(data_dir).exists():
        assert time.monotonic() < deadline, "the live process did not listen"
        time.sleep(0.1)
    return pid


def gone(pid: int, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"


def test_a_live_process_without_rooms_stops_after_a_while_and_starts_again(
        on_demand: LiveOnDemand) -> None:
    pid = ask_for_live(on_demand, "alpha")
    assert on_demand.retire(time.monotonic() + 60) == []  # idle a minute: keeps running
    assert on_demand.retire(time.monotonic() + IDLE_STOP_SECONDS + 60) == ["alpha"]
    assert gone(pid) and "alpha" not in on_demand.processes
    assert ask_for_live(on_demand, "alpha") != pid  # the next editor starts it again


def test_an_open_room_keeps_the_live_process_running(on_demand: LiveOnDemand) -> None:
    ask_for_live(on_demand, "alpha")
    rooms = wikiroot.wiki_dir(on_demand.root, "alpha") / "live"
    rooms.mkdir(exist_ok=True)
    (rooms / "a.journal").write_bytes(b"")  # a room's journal: the room is open
    later = time.monotonic() + IDLE_STOP_SECONDS + 60
    assert on_demand.retire(later) == []
    assert "alpha" in on_demand.processes


def test_a_wiki_that_is_moving_or_moved_away_loses_its_live_process(
        on_demand: LiveOnDemand) -> None:
    alpha, beta = ask_for_live(on_demand, "alpha"), ask_for_live(on_demand, "beta")
    (wikiroot.wiki_dir(on_demand.root, "alpha") / wikiroot.MOVING).write_text("{}")
    wikiroot.wiki_dir(on_demand.root, "beta").rename(on_demand.root / ".moved-beta")
    assert sorted(on_demand.retire(time.monotonic() + 20)) == ["alpha", "beta"]
    assert gone(alpha) and gone(beta)
