"""Faults around publishing a save: a ref lock left by a killed writer, a disk too full
for the lock, a repository that cannot be written.

Real git and real file systems: the full disk is a tiny tmpfs mounted on
`refs/heads` (objects still fit, the ref lock does not); tests that need a
mount are skipped where mounting is not allowed, and fail in CI.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from storage import repository
from storage.errors import RefContention
from storage.repository import Person, Repository
from tests.ops_support import fill, git, small_tmpfs_for_test

PARTICIPANT = ("participant", "participant-pass-1")
ANNA = Person("Anna", "anna@example.org")


def ref_lock(app: Flask) -> Path:
    return Path(app.extensions["cowiki"].repo.path) / "refs" / "heads" / "main.lock"


def save(client: FlaskClient, name: str, text: str):  # type: ignore[no-untyped-def]
    return client.put(f"/api/v1/pages/{name}", json={"markdown": text}, auth=PARTICIPANT)


def test_stale_ref_lock_of_a_killed_writer_is_removed_and_the_save_succeeds(
        app: Flask, client: FlaskClient) -> None:
    lock = ref_lock(app)
    lock.write_text("0" * 40 + "\n")  # what `git update-ref` leaves when killed mid-update
    old = time.time() - 600
    os.utime(lock, (old, old))
    response = save(client, "After", "# After\n\nSaved past a stale lock.\n")
    assert response.status_code == 201, response.text
    assert not lock.exists()
    data = app.extensions["cowiki"].settings.data_dir
    assert git(data, "show", "refs/heads/main:After.md").startswith("# After")
    assert client.get("/healthz").status_code == 200


def test_fresh_ref_lock_is_respected_as_held_by_a_live_git(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = Repository.init(tmp_path / "repo.git", ANNA)
    first = repo.commit(lambda head: {"a.md": b"1\n"}, ANNA, "first")
    lock = repo.path / "refs" / "heads" / "main.lock"
    lock.write_text("0" * 40 + "\n")  # a push updating main right now
    monkeypatch.setattr(repository, "PUBLISH_SECONDS", 1.0)  # never stale within it
    with pytest.raises(RefContention):
        repo.commit(lambda head: {"a.md": b"2\n"}, ANNA, "second")
    assert lock.exists() and repo.head() == first


def test_a_save_waits_for_a_live_git_to_finish_with_the_ref(tmp_path: Path) -> None:
    repo = Repository.init(tmp_path / "repo.git", ANNA)
    first = repo.commit(lambda head: {"a.md": b"1\n"}, ANNA, "first")
    lock = repo.path / "refs" / "heads" / "main.lock"
    lock.write_text(f"{first}\n")
    # The push finishes: its lock becomes the ref, as git renames it.
    finish = threading.Timer(0.5, os.replace, (lock, lock.with_suffix("")))
    finish.start()
    second = repo.commit(lambda head: {"a.md": b"2\n"}, ANNA, "second")
    finish.join()
    assert second is not None and repo.head() == second
    assert [str(p) for p in repo.commit_info(second).parent_ids] == [first]


def test_a_dead_writers_lock_delays_a_save_until_it_is_stale_not_refuses_it(
        tmp_path: Path) -> None:
    # A worker killed inside its ref update: other saves wait for the lock to age out.
    repo = Repository.init(tmp_path / "repo.git", ANNA)
    repo.commit(lambda head: {"a.md": b"1\n"}, ANNA, "first")
    lock = repo.path / "refs" / "heads" / "main.lock"
    lock.write_text("0" * 40 + "\n")
    almost = time.time() - repository.STALE_REF_LOCK_SECONDS + 0.7
    os.utime(lock, (almost, almost))
    started = time.monotonic()
    second = repo.commit(lambda head: {"a.md": b"2\n"}, ANNA, "second")
    assert repo.head() == second and not lock.exists()
    assert 0.5 < time.monotonic() - started < repository.PUBLISH_SECONDS


@pytest.mark.parametrize("message", [
    "failed to lock file '{lock}' for writing",
    "failed to create locked file '{lock}': File exists",
])
def test_a_ref_lock_gone_by_the_time_we_look_is_a_retry(tmp_path: Path, message: str) -> None:
    # A push held main.lock when libgit2 tried, and finished before we looked: try again.
    repo = Repository.init(tmp_path / "repo.git", ANNA)
    lock = repo.path / "refs" / "heads" / "main.lock"
    assert repo._main._lock_in_the_way(OSError(message.format(lock=lock)))
    assert not repo._main._lock_in_the_way(OSError(f"could not write '{lock}': No space left"))


@pytest.fixture
def full_ref_disk(app: Flask) -> Iterator[Path]:
    """refs/heads on a tmpfs with no inode or byte left; the repository's objects still fit."""
    heads = ref_lock(app).parent
    main = (heads / "main").read_bytes()
    with small_tmpfs_for_test(heads, "64k", 32):
        (heads / "main").write_bytes(main)
        fill(heads)
        yield heads


def test_disk_too_full_for_the_ref_lock_answers_507_and_keeps_the_head(
        app: Flask, client: FlaskClient, full_ref_disk: Path) -> None:
    head = (full_ref_disk / "main").read_text().strip()
    started = time.monotonic()
    response = save(client, "Full", "# Full\n\nNo room for the lock.\n")
    assert response.status_code == 507, response.text
    assert response.json["error"] == "storage_full"
    assert "disk may be full" in response.json["message"]
    assert time.monotonic() - started < 3  # refused at once, not after retrying for seconds
    assert (full_ref_disk / "main").read_text().strip() == head


def test_unwritable_repository_answers_507_and_saves_nothing(
        app: Flask, client: FlaskClient) -> None:
    # As root, chmod stops nothing; a folder where the writer's lock file belongs makes
    # opening it fail the way a read-only repository does.
    repo_path = Path(app.extensions["cowiki"].repo.path)
    writer_lock = repo_path / "cowiki-writer.lock"
    if writer_lock.exists():
        writer_lock.unlink()
    writer_lock.mkdir()
    head = git(app.extensions["cowiki"].settings.data_dir, "rev-parse", "refs/heads/main")
    try:
        response = save(client, "Unwritten", "# Unwritten\n")
    finally:
        shutil.rmtree(writer_lock)
    assert response.status_code == 507, response.text
    assert response.json["error"] == "storage_full"
    assert "read-only" in response.json["message"] and "Errno" not in response.json["message"]
    data = app.extensions["cowiki"].settings.data_dir
    assert git(data, "rev-parse", "refs/heads/main") == head
    assert client.get("/api/v1/pages/Unwritten", auth=PARTICIPANT).status_code == 404
