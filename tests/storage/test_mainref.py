"""Moving main keeps the replaced ref file open until the answer has gone out, and never more
than one; git reads the ref that was written, loose or packed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

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
