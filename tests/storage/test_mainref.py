"""Moving main keeps the replaced ref file open until the answer has gone out, and never more
than one; git reads the ref that was written, loose or packed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage.mainref import STALE_REF_LOCK_SECONDS, MainRef
from storage.repository import Person, Repository

ANNA = Person("Anna de Vries", "anna@example.org")


def git(repo: Repository, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(repo.path), *args], capture_output=True,
                          text=True, check=True).stdout.strip()


def deleted_files_held() -> list[str]:
    """This process's handles on files that are no longer in any folder."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.endswith(" (deleted)"):
            held.append(target)
    return held


def save(repo: Repository, n: int) -> str | None:
    return repo.commit(lambda _head: {"pagina.md": f"Versie {n}\n".encode()}, ANNA, f"Versie {n}")


def test_the_replaced_ref_file_is_let_go_after_the_answer(tmp_path: Path) -> None:
    repo = Repository.init(tmp_path / "repo.git", ANNA)
    save(repo, 0)
    before = deleted_files_held()
    second = save(repo, 1)
    kept = [f for f in deleted_files_held() if f not in before]
    assert len(kept) == 1 and kept[0].startswith(str(repo.path / "refs" / "heads" / "main"))
    assert git(repo, "rev-parse", "main") == second  # git reads the new file meanwhile
    repo.after_answer()
    assert deleted_files_held() == before


def test_a_process_that_never_answers_keeps_one_file_at_most(tmp_path: Path) -> None:
    repo = Repository.init(tmp_path / "repo.git", ANNA)
    before = deleted_files_held()
    heads = [save(repo, n) for n in range(30)]  # the CLI: an import of many commits
    assert len([f for f in deleted_files_held() if f not in before]) == 1
    assert git(repo, "rev-list", "--count", "main") == "30"
    assert git(repo, "rev-parse", "main") == heads[-1]
    assert len(git(repo, "reflog", "main").splitlines()) == 30  # each move is in the reflog


def test_a_packed_main_moves_as_before(tmp_path: Path) -> None:
    repo = Repository.init(tmp_path / "repo.git", ANNA)
    save(repo, 0)
    git(repo, "pack-refs", "--all")  # housekeeping: main only in packed-refs
    assert not (repo.path / "refs" / "heads" / "main").exists()
    moved = save(repo, 1)
    assert git(repo, "rev-parse", "main") == moved
    repo.after_answer()
    git(repo, "fsck", "--strict")


def served(tmp_path: Path) -> Repository:
    """A repository as a server's worker holds it: spare files made after an answer."""
    repo = Repository.init(tmp_path / "repo.git", ANNA)
    save(repo, 0)
    save(repo, 1)  # asks for a spare lock file: made at the next answer
    repo.after_answer()
    return repo


def test_a_served_save_links_a_spare_as_the_lock_and_git_reads_all_of_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = served(tmp_path)
    monkeypatch.setattr(MainRef, "_move_by_libgit2", refuse)
    before = git(repo, "rev-parse", "main")
    moved = save(repo, 2)
    assert git(repo, "rev-parse", "main") == moved
    main = repo.path / "refs" / "heads" / "main"
    assert main.stat().st_mode & 0o777 == 0o644 and main.stat().st_nlink == 1
    assert not (repo.path / "refs" / "heads" / "main.lock").exists()
    newest = (repo.path / "logs" / "refs" / "heads" / "main").read_text().splitlines()[-1]
    assert newest.startswith(f"{before} {moved} Anna de Vries <anna@example.org> ")
    assert newest.endswith("\tcowiki: save")
    assert git(repo, "reflog", "-1", "--format=%H %gs", "main") == f"{moved} cowiki: save"
    git(repo, "fsck", "--strict")
    repo.after_answer()
    assert save(repo, 3) == git(repo, "rev-parse", "main")  # the next spare, linked again


def refuse(*_args: object) -> bool:
    raise AssertionError("libgit2 moved main: no spare was linked")


def test_a_lock_held_by_git_is_respected_and_a_dead_writers_is_removed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = served(tmp_path)
    monkeypatch.setattr(MainRef, "_move_by_libgit2", refuse)
    head = git(repo, "rev-parse", "main")
    lock = repo.path / "refs" / "heads" / "main.lock"
    lock.write_text("0" * 40 + "\n")  # a push is updating main right now
    mover = MainRef(repo.path, ("cowiki", "cowiki@localhost"))
    assert mover.move(repo.git, "1" * 40, head) is False
    assert lock.exists() and git(repo, "rev-parse", "main") == head
    old = time.time() - STALE_REF_LOCK_SECONDS - 1
    os.utime(lock, (old, old))  # its writer was killed
    repo.after_answer()  # the spare the first try used is made again
    assert mover.move(repo.git, "1" * 40, head) is False  # removed; the caller tries again
    assert not lock.exists()
    repo.after_answer()
    assert save(repo, 5) == git(repo, "rev-parse", "main")


def test_a_ref_that_moved_meanwhile_is_not_overwritten(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = served(tmp_path)
    monkeypatch.setattr(MainRef, "_move_by_libgit2", refuse)
    first = git(repo, "rev-list", "--max-parents=0", "main")
    head = git(repo, "rev-parse", "main")
    git(repo, "update-ref", "refs/heads/main", first)  # a push moved main back
    mover = MainRef(repo.path, ("cowiki", "cowiki@localhost"))
    assert mover.move(repo.git, head, "2" * 40) is False  # built on a head that is gone
    assert git(repo, "rev-parse", "main") == first
    assert not (repo.path / "refs" / "heads" / "main.lock").exists()


def test_a_packed_main_is_compared_through_packed_refs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = served(tmp_path)
    monkeypatch.setattr(MainRef, "_move_by_libgit2", refuse)
    git(repo, "pack-refs", "--all")
    assert not (repo.path / "refs" / "heads" / "main").exists()
    moved = save(repo, 6)
    assert git(repo, "rev-parse", "main") == moved
    assert (repo.path / "refs" / "heads" / "main").read_text() == f"{moved}\n"
    git(repo, "fsck", "--strict")


SAVER = """
import sys
from pathlib import Path
from storage.repository import Person, Repository
repo = Repository(Path(sys.argv[1]), Person("cowiki", "cowiki@localhost"))
who = Person(sys.argv[2], sys.argv[2] + "@example.org")
for i in range(25):
    repo.commit(lambda head, i=i: {f"{sys.argv[2]}-{i}.md": b"x\\n"}, who, f"{sys.argv[2]} {i}")
    repo.after_answer()  # as a server after each answer: the next move links a spare
"""


def test_two_servers_and_git_taking_the_lock_lose_no_save(tmp_path: Path) -> None:
    repo = Repository.init(tmp_path / "repo.git", ANNA)
    save(repo, 0)
    root = Path(__file__).resolve().parents[2]
    savers = [subprocess.Popen([sys.executable, "-c", SAVER, str(repo.path), name], cwd=root)
              for name in ("anna", "bram")]
    while any(s.poll() is None for s in savers):  # git holds main.lock now and then
        head = git(repo, "rev-parse", "main")
        subprocess.run(["git", "--git-dir", str(repo.path), "update-ref", "-m", "git",
                        "refs/heads/main", head, head], capture_output=True)
    assert [s.returncode for s in savers] == [0, 0]
    assert git(repo, "rev-list", "--count", "main") == "51"
    assert len(git(repo, "ls-tree", "--name-only", "main").split()) == 51
    reflog = (repo.path / "logs" / "refs" / "heads" / "main").read_text()
    # Most moves linked a spare (a retry after git held the lock goes through libgit2).
    assert reflog.count(" cowiki <cowiki@localhost> ") > 25
    git(repo, "fsck", "--strict")


def test_the_lock_bears_the_time_of_the_move_not_of_the_spare(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Another writer would take a lock with the spare's old time for a dead writer's.
    repo = served(tmp_path)
    objects = repo.path / "objects"
    for name in os.listdir(objects):
        if name.startswith("tmp_obj_spare_"):
            os.utime(objects / name, (1, 1))  # made long before this save
    ages = []
    compare = MainRef._current

    def current(self: MainRef) -> str | None:
        ages.append(time.time() - (self.git_dir / "refs/heads/main.lock").stat().st_mtime)
        return compare(self)

    monkeypatch.setattr(MainRef, "_current", current)
    monkeypatch.setattr(MainRef, "_move_by_libgit2", refuse)
    assert save(repo, 7) == git(repo, "rev-parse", "main")
    assert len(ages) == 1 and ages[0] < STALE_REF_LOCK_SECONDS
