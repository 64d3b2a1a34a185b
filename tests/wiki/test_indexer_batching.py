"""The search indexer under a burst of saves: one catch-up for many saves, a lone save
and a waiting search served at once, and several processes sharing the pause.
Real git, real Whoosh, real database, temp dirs."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from storage.repository import Person
from wiki import indexer
from wiki.config import Settings
from wiki.datadir import Services, open_data_dir

ANNA = Person("Anna de Vries", "anna@example.org")
BURST = 30


@pytest.fixture
def services(data_dir: Path) -> Services:
    opened = open_data_dir(Settings.load({"data_dir": str(data_dir)}))
    opened.indexer.catch_up()
    return opened


def save(services: Services, name: str, text: str) -> None:
    found = services.pages.find(name)
    base = services.pages.get(found).revision if found else None
    services.pages.save(name, text, base, ANNA)


def index_commits(services: Services) -> int:
    """How many times Whoosh committed the current generation (the number in `_MAIN_<n>.toc`)."""
    tocs = services.indexer.index.current_directory().glob("*.toc")
    return max(int(toc.stem.rsplit("_", 1)[1]) for toc in tocs)


def fresh_by_itself(services: Services, seconds: float) -> bool:
    """True when the index reaches the head within `seconds` without anyone searching."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if services.indexer.is_fresh():
            return True
        time.sleep(0.02)
    return False


def quiet_for_a_while(services: Services) -> None:
    """Make the index look as if it last moved a minute ago (no save in the meantime)."""
    pointer = services.indexer.index.directory / "indexed_commit"
    past = time.time() - 60
    os.utime(pointer, (past, past))


def test_a_burst_of_saves_is_indexed_in_a_few_commits_and_all_found(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(indexer, "BATCH_SECONDS", 2.0)  # longer than the burst takes
    before = index_commits(services)
    start = time.monotonic()
    for number in range(BURST):
        save(services, f"burst/page-{number}", f"# Page {number}\n\nkievitsbloem{number} groeit.\n")
    took = time.monotonic() - start
    assert fresh_by_itself(services, 10.0)
    commits = index_commits(services) - before
    # One catch-up per BATCH_SECONDS, and one after the burst; without batching the
    # index would commit after nearly every save.
    assert commits <= 2 + took / indexer.BATCH_SECONDS
    for number in (0, BURST // 2, BURST - 1):
        hits = services.indexer.search(f"kievitsbloem{number}").hits
        assert [hit.path for hit in hits] == [f"burst/page-{number}"]


def test_a_save_after_a_quiet_while_is_indexed_at_once(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(indexer, "BATCH_SECONDS", 30.0)
    quiet_for_a_while(services)
    save(services, "grutto", "# Grutto\n\nDe grutto broedt in het weiland.\n")
    assert fresh_by_itself(services, 5.0)


def test_saves_in_quick_succession_wait_for_the_batch(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(indexer, "BATCH_SECONDS", 30.0)
    quiet_for_a_while(services)
    save(services, "grutto", "# Grutto\n\nDe grutto broedt in het weiland.\n")
    assert fresh_by_itself(services, 5.0)  # the index just moved: the next save waits
    save(services, "tureluur", "# Tureluur\n\nDe tureluur roept boven de sloot.\n")
    assert not fresh_by_itself(services, 1.0)


def test_a_search_does_not_wait_for_the_batch(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(indexer, "BATCH_SECONDS", 30.0)
    quiet_for_a_while(services)
    save(services, "grutto", "# Grutto\n\nDe grutto broedt in het weiland.\n")
    assert fresh_by_itself(services, 5.0)
    save(services, "tureluur", "# Tureluur\n\nDe tureluur roept boven de sloot.\n")
    results = services.indexer.search("tureluur")
    assert results.fresh
    assert [hit.path for hit in results.hits] == ["tureluur"]


def test_a_waiting_search_is_told_when_the_catch_up_ends(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not found on its next look: with a look every 20 s, the search would take 20 s."""
    monkeypatch.setattr(indexer, "POLL_SECONDS", 20.0)
    monkeypatch.setattr(indexer, "SEARCH_WAIT_SECONDS", 30.0)
    quiet_for_a_while(services)
    services.indexer.notify = lambda: None  # type: ignore[method-assign]  # the search wakes it
    save(services, "grutto", "# Grutto\n\nDe grutto broedt in het weiland.\n")
    del services.indexer.notify
    started = time.monotonic()
    results = services.indexer.search("grutto")
    assert time.monotonic() - started < 10.0
    assert results.fresh and [hit.path for hit in results.hits] == ["grutto"]


def test_two_processes_saving_at_once_share_one_index_and_lose_no_page(
        services: Services, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(indexer, "BATCH_SECONDS", 2.0)
    other = open_data_dir(Settings.load({"data_dir": str(data_dir)}))  # as a second worker
    before = index_commits(services)
    start = time.monotonic()

    def burst(each: Services, prefix: str) -> None:
        for number in range(BURST // 2):
            save(each, f"{prefix}/page-{number}", f"# {prefix} {number}\n\n{prefix}{number}.\n")

    threads = [threading.Thread(target=burst, args=(each, prefix))
               for each, prefix in ((services, "weidevogel"), (other, "akkervogel"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.monotonic() - start
    assert fresh_by_itself(services, 10.0)
    assert other.indexer.is_fresh()
    # The pause is the index's, not each process's: the two do not double the commits.
    assert index_commits(services) - before <= 2 + took / indexer.BATCH_SECONDS
    for word in ("weidevogel0", "akkervogel14"):
        assert len(services.indexer.search(word).hits) == 1
