"""The search-index process (`python -m cowiki.indexing`): workers ring it after a change
and it keeps the index in step; while it is gone they catch up themselves; `cowiki
serve` starts it, starts it again when it dies and stops it. Real processes, real
sockets, real Whoosh."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storage.repository import Person
from tests.conftest import ROOT, module_pids, start_server, stop_server
from wiki import indexwake
from wiki.config import Settings
from wiki.datadir import Services, open_data_dir
from wiki.indexwake import Bell

ANNA = Person("Anna de Vries", "anna@example.org")
MODULE = "cowiki.indexing"


def wait_until(condition: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def indexer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "cowiki-indexer" and t.is_alive()]


@pytest.fixture
def services(data_dir: Path) -> Services:
    opened = open_data_dir(Settings.load({"data_dir": str(data_dir)}))
    opened.indexer.catch_up()
    wait_until(lambda: not indexer_threads())  # none left by the catch-up's notify
    return opened


@pytest.fixture
def index_process(data_dir: Path, services: Services) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-m", MODULE, "--data", str(data_dir)],
                               cwd=ROOT, stdin=subprocess.DEVNULL)
    try:
        wait_until(lambda: Bell(indexwake.socket_path(data_dir)).ring())
        yield process
    finally:
        process.terminate()
        process.wait(10)


def save(services: Services, name: str, text: str) -> None:
    found = services.pages.find(name)
    base = services.pages.get(found).revision if found else None
    services.pages.save(name, text, base, ANNA)


def test_nobody_listening_is_told_apart_from_a_ring_heard(tmp_path: Path) -> None:
    path = tmp_path / "run" / indexwake.SOCKET_NAME
    bell = Bell(path)
    assert bell.ring() is False  # no socket at all
    sock = indexwake.listen(path)
    assert bell.ring() and bell.ring(hurry=True)
    assert indexwake.rings(sock, 1.0) == indexwake.WAKE + indexwake.HURRY
    assert indexwake.rings(sock, 0.05) == b""
    filler = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    filler.setblocking(False)
    with pytest.raises(BlockingIOError):  # the index process is busy and its queue full
        for _ring in range(100_000):
            filler.sendto(indexwake.WAKE, str(path))
    assert bell.ring() is True  # it has rings to read: it was heard
    filler.close()
    sock.close()  # the file stays, nobody is bound to it: a killed index process
    assert path.exists() and bell.ring() is False


def test_a_deep_data_dir_is_reached_through_its_folder(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*["folder-with-a-long-name"] * 5) / indexwake.SOCKET_NAME
    assert len(os.fsencode(deep)) > 108
    sock = indexwake.listen(deep)
    assert Bell(deep).ring(hurry=True)
    assert indexwake.rings(sock, 1.0) == indexwake.HURRY
    sock.close()


def test_the_index_process_indexes_what_is_saved_here(
        services: Services, index_process: subprocess.Popen[bytes]) -> None:
    save(services, "grutto", "# Grutto\n\nDe grutto broedt in het weiland.\n")
    assert not indexer_threads()  # the index process was rung, this process does nothing
    wait_until(services.indexer.is_fresh, timeout=10)
    results = services.indexer.search("weiland")
    assert results.fresh and [hit.path for hit in results.hits] == ["grutto"]
    assert not indexer_threads()


def test_a_search_right_after_a_save_finds_it(
        services: Services, index_process: subprocess.Popen[bytes]) -> None:
    for number in range(5):
        save(services, f"vogel-{number}", f"# Vogel {number}\n\nkievit{number} in de wei\n")
        results = services.indexer.search(f"kievit{number}")
        assert results.fresh and [hit.path for hit in results.hits] == [f"vogel-{number}"]
    assert not indexer_threads()


def test_a_commit_nobody_announced_is_indexed_all_the_same(
        services: Services, index_process: subprocess.Popen[bytes]) -> None:
    services.indexer.notify = lambda hurry=False: True  # type: ignore[method-assign]  # rings no one
    save(services, "tureluur", "# Tureluur\n\nDe tureluur roept boven de sloot.\n")
    wait_until(services.indexer.is_fresh, timeout=10)  # the index process looked itself


def test_when_the_index_process_is_killed_the_saver_catches_up_itself(
        services: Services, index_process: subprocess.Popen[bytes]) -> None:
    index_process.send_signal(signal.SIGKILL)
    index_process.wait(10)
    save(services, "scholekster", "# Scholekster\n\nDe scholekster op het wad.\n")
    results = services.indexer.search("wad")
    assert results.fresh and [hit.path for hit in results.hits] == ["scholekster"]


def test_bad_arguments_exit_2_with_one_line(tmp_path: Path) -> None:
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    done = subprocess.run([sys.executable, "-m", MODULE, "--data", str(a_file)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("cowiki.indexing: error: ")


def test_serve_restarts_a_killed_index_process_and_stops_it_on_exit(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    server = start_server(data, workers=1)
    try:
        wait_until(lambda: len(module_pids(MODULE, data)) == 1)
        first = module_pids(MODULE, data)[0]
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: module_pids(MODULE, data) not in ([], [first]))
        assert "the index process stopped" in (data / "server.log").read_text()
    finally:
        stop_server(server)
    wait_until(lambda: module_pids(MODULE, data) == [], timeout=10)
