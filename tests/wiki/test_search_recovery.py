"""A failed or damaged index never leaves search silently empty. Real git, real Whoosh, and
a real full disk: the index directory on a small tmpfs with no byte or inode left (skipped
where mounting is not allowed, failed in CI)."""

from __future__ import annotations

import errno
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.repository import Person
from tests.ops_support import fill, free, small_tmpfs_for_test
from wiki.config import Settings
from wiki.datadir import Services, open_data_dir
from wiki.health import check_disk, check_index

ANNA = Person("Anna de Vries", "anna@example.org")


def open_services(data: Path) -> Services:
    return open_data_dir(Settings.load({"data_dir": str(data)}))


@pytest.fixture
def services(tmp_path: Path) -> Services:
    found = open_services(tmp_path / "data")
    found.pages.save("Moerasvogels", "# Moerasvogels\n\nDe roerdomp broedt in het riet.\n",
                    None, ANNA)
    found.indexer.catch_up()
    return found


def found_paths(services: Services, query: str) -> list[str]:
    return [hit.path for hit in services.indexer.index.search(query).hits]


@pytest.fixture
def full_index_disk(services: Services, tmp_path: Path) -> Iterator[Path]:
    """The index directory, its files copied onto a 2 MB tmpfs that is then filled up."""
    index = services.indexer.index.directory
    shutil.copytree(index, tmp_path / "index-copy")
    with small_tmpfs_for_test(index, "2m", 256):
        shutil.copytree(tmp_path / "index-copy", index, dirs_exist_ok=True)
        fill(index)
        yield index


def test_a_full_disk_keeps_the_old_pages_searchable_until_space_returns(
        services: Services, full_index_disk: Path) -> None:
    services.pages.save("Weidevogels", "# Weidevogels\n\nDe grutto is terug.\n", None, ANNA)
    with pytest.raises(OSError) as failure:
        services.indexer.catch_up()  # the update fails, and so does the rebuild after it
    assert failure.value.errno == errno.ENOSPC
    results = services.indexer.search("roerdomp")
    assert [hit.path for hit in results.hits] == ["Moerasvogels"] and not results.fresh
    free(full_index_disk)
    services.indexer.catch_up()
    assert found_paths(services, "grutto") == ["Weidevogels"]
    assert found_paths(services, "roerdomp") == ["Moerasvogels"]
    assert services.indexer.is_fresh()


def test_a_rebuild_on_a_full_disk_keeps_the_old_pages_searchable(
        services: Services, full_index_disk: Path) -> None:
    with pytest.raises(OSError) as failure:
        services.indexer.rebuild()
    assert failure.value.errno == errno.ENOSPC
    assert found_paths(services, "roerdomp") == ["Moerasvogels"]
    assert services.indexer.is_fresh()
    free(full_index_disk)
    assert services.indexer.rebuild() == 2  # Home and Moerasvogels
    assert found_paths(services, "roerdomp") == ["Moerasvogels"]


def damage_toc(services: Services) -> None:
    for toc in services.indexer.index.current_directory().glob("*.toc"):
        spare = toc.with_name(toc.name + ".damaged")  # replaced: readers map the old file
        spare.write_bytes(b"\x00garbage\xff" * 64)
        os.replace(spare, toc)


def test_healthz_reports_a_damaged_index_as_damaged(services: Services) -> None:
    damage_toc(services)
    restarted = open_services(services.settings.data_dir)
    finding = check_index(restarted.indexer.index, restarted.repo, full=False)
    assert not finding.ok and finding.facts["state"] == "damaged"
    assert "cowiki reindex" in finding.problems[0]


def test_a_damaged_index_answers_not_fresh_and_is_rebuilt(services: Services) -> None:
    damage_toc(services)
    restarted = open_services(services.settings.data_dir)
    first = restarted.indexer.search("roerdomp")
    assert not first.fresh
    deadline = time.monotonic() + 10
    while restarted.indexer.search("roerdomp").total == 0:
        assert time.monotonic() < deadline, "the damaged index was never rebuilt"
        time.sleep(0.05)
    again = restarted.indexer.search("roerdomp")
    assert [hit.path for hit in again.hits] == ["Moerasvogels"] and again.fresh
    assert check_index(restarted.indexer.index, restarted.repo, full=False).ok


def test_low_free_disk_space_is_reported(tmp_path: Path) -> None:
    assert check_disk(tmp_path).ok
    low = check_disk(tmp_path, minimum=2**62)
    assert not low.ok and "MiB free" in low.problems[0]
