"""Loose objects written into spare files are the objects git writes, and no spare is lost.

Each test uses a real bare repository and checks with the git binary: `git
cat-file` reads the objects back, `git hash-object` names them the same, and
`git fsck` finds nothing wrong.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from storage.loose import (
    LARGE_BYTES,
    LARGE_SPARES,
    MAX_PIECES,
    SPARE_PREFIX,
    SPARES,
    STORED_BLOCK,
    LooseObjects,
    _spares_for,
    remove_stale_spares,
    stored_zlib,
)
from storage.repository import Person, Repository

ANNA = Person("Anna de Vries", "anna@example.org")
ROOT = Path(__file__).resolve().parents[2]


def git(repo: Path, *args: str, data: bytes | None = None) -> str:
    return subprocess.run(["git", "--git-dir", str(repo), *args], input=data,
                          capture_output=True, check=True).stdout.decode()


def spares_in(objects: Path) -> list[str]:
    return sorted(n for n in os.listdir(objects) if n.startswith(SPARE_PREFIX))


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    path = tmp_path / "repo.git"
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    return path


def test_objects_are_the_ones_git_writes(bare: Path) -> None:
    loose = LooseObjects(bare / "objects")
    text = "Één zin voor de workshop.\n".encode()
    blob = loose.blob(text)
    assert str(blob) == git(bare, "hash-object", "--stdin", data=text).strip()
    assert git(bare, "cat-file", "-p", str(blob)).encode() == text
    tree = loose.write(b"tree", b"100644 a.md\0" + blob.raw, level=0)  # stored blocks
    assert git(bare, "ls-tree", str(tree)).split() == ["100644", "blob", str(blob), "a.md"]
    commit = loose.commit(f"tree {tree}\nauthor A <a@b> 1 +0000\ncommitter A <a@b> 1 +0000"
                          "\n\nEen zin\n".encode())
    assert git(bare, "cat-file", "-t", str(commit)).strip() == "commit"
    git(bare, "update-ref", "refs/heads/main", str(commit))
    git(bare, "fsck", "--strict", "--no-dangling")
    mode = (bare / "objects" / str(blob)[:2] / str(blob)[2:]).stat().st_mode & 0o777
    assert mode == 0o444  # read-only, as git leaves its objects


def test_writes_fill_spares_made_ahead(bare: Path) -> None:
    objects = bare / "objects"
    loose = LooseObjects(objects)
    loose.blob(b"first")  # no spare yet: a new file
    assert spares_in(objects) == []
    loose.make_spares()  # after the answer, in the wiki
    ready = set(spares_in(objects))
    assert len(ready) == SPARES
    blob = loose.blob(b"second")
    assert len(ready - set(spares_in(objects))) == 1  # one spare became the object
    assert git(bare, "cat-file", "-p", str(blob)) == "second"
    # The 256 fan-out folders are made ahead: a new object's folder is already there.
    assert all((objects / f"{n:02x}").is_dir() for n in range(256))


def test_a_spare_that_git_removed_is_made_anew(bare: Path) -> None:
    objects = bare / "objects"
    loose = LooseObjects(objects)
    loose.make_spares()
    for name in spares_in(objects):
        (objects / name).unlink()  # as `git prune` removes old tmp_obj_ files
    blobs = [loose.blob(f"after prune {n}".encode()) for n in range(SPARES + 2)]
    assert [git(bare, "cat-file", "-p", str(b)) for b in blobs] == [
        f"after prune {n}" for n in range(SPARES + 2)]


def test_a_fan_out_folder_that_gc_removed_is_made_again(bare: Path) -> None:
    objects = bare / "objects"
    loose = LooseObjects(objects)
    loose.make_spares()
    text = b"a text"
    folder = objects / git(bare, "hash-object", "--stdin", data=text)[:2]
    folder.rmdir()  # empty: `git prune-packed` removes such folders
    assert git(bare, "cat-file", "-p", str(loose.blob(text))) == "a text"
    fan_out = [objects / f"{n:02x}" for n in range(256)]
    for empty in [f for f in fan_out if not any(f.iterdir())][:5]:
        empty.rmdir()  # git gc again: the next spares come with the folders
    loose.make_spares()
    assert all((objects / f"{n:02x}").is_dir() for n in range(256))


def test_an_object_that_is_there_is_kept_and_freshened(bare: Path) -> None:
    loose = LooseObjects(bare / "objects")
    blob = loose.blob(b"same")
    path = bare / "objects" / str(blob)[:2] / str(blob)[2:]
    os.utime(path, (1, 1))
    assert loose.blob(b"same") == blob
    assert path.stat().st_mtime > 1  # git would not prune it as old and unreachable


def test_spares_of_a_process_that_ended_are_removed_and_a_live_ones_kept(bare: Path) -> None:
    objects = bare / "objects"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (objects / f"{SPARE_PREFIX}{dead}_abc").touch()
    mine = objects / f"{SPARE_PREFIX}{os.getpid()}_def"
    mine.touch()
    assert remove_stale_spares(objects) == 1
    assert spares_in(objects) == [mine.name]


def test_a_process_leaves_no_spares_when_it_exits(bare: Path) -> None:
    script = ("import sys; from pathlib import Path; from storage.loose import LooseObjects\n"
              "LooseObjects(Path(sys.argv[1])).make_spares()\n")
    subprocess.run([sys.executable, "-c", script, str(bare / "objects")], cwd=ROOT,
                   check=True, timeout=30)
    assert spares_in(bare / "objects") == []


def test_a_forked_child_never_fills_its_parents_spares(bare: Path) -> None:
    objects = bare / "objects"
    loose = LooseObjects(objects)
    loose.make_spares()
    parents = _spares_for(objects)
    child = os.fork()
    if child == 0:  # pragma: no cover (runs in the child)
        code = 0 if _spares_for(objects) is not parents and loose.blob(b"child") else 1
        os._exit(code)
    _pid, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert git(bare, "cat-file", "-p", git(bare, "hash-object", "--stdin", data=b"child")
               .strip()) == "child"
    assert git(bare, "cat-file", "-p", str(loose.blob(b"parent again"))) == "parent again"


def test_saves_through_the_repository_pass_fsck(tmp_path: Path) -> None:
    repo = Repository.init(tmp_path / "repo.git", ANNA)
    for n in range(20):
        repo.commit(lambda _head, n=n: {f"pagina-{n % 7}.md": f"Tekst {n}\n".encode()},
                    ANNA, f"Bewerking {n}")
    git(repo.path, "fsck", "--strict")
    assert git(repo.path, "show", "main:pagina-5.md") == "Tekst 19\n"
    assert len(git(repo.path, "rev-list", "main").split()) == 20


def test_a_large_object_fills_a_spare_made_at_its_size(bare: Path) -> None:
    objects = bare / "objects"
    loose = LooseObjects(objects)
    first = os.urandom(LARGE_BYTES * 5)  # a large folder's tree, say
    loose.write(b"blob", first, level=0)
    loose.make_spares()
    assert len([n for n in spares_in(objects)
                if (objects / n).stat().st_size >= len(first)]) == LARGE_SPARES
    larger = first + os.urandom(1000)  # a page more: still fits the room made
    blob = loose.write(b"blob", larger, level=0)
    assert git(bare, "cat-file", "-s", str(blob)) == f"{len(larger)}\n"
    stored = (objects / str(blob)[:2] / str(blob)[2:]).read_bytes()
    assert zlib.decompress(stored) == b"blob %d\0" % len(larger) + larger  # cut to length
    small = loose.blob(b"klein")  # small objects never take a large spare
    assert (objects / str(small)[:2] / str(small)[2:]).stat().st_size < 100
    git(bare, "fsck", "--strict", "--no-dangling")


@pytest.mark.parametrize("size", [0, 1, STORED_BLOCK - 1, STORED_BLOCK, STORED_BLOCK + 1,
                                  STORED_BLOCK * MAX_PIECES])
def test_stored_blocks_are_a_zlib_stream_of_the_bytes_as_they_are(size: int) -> None:
    data = os.urandom(size)
    pieces = stored_zlib(data)
    assert len(pieces) <= MAX_PIECES  # one writev takes them all
    stream = b"".join(pieces)
    assert zlib.decompress(stream) == data
    assert len(stream) < size + 5 * (size // STORED_BLOCK + 1) + 7  # stored, not deflated


def open_handles(folder: Path) -> int:
    """This process's open files in `folder`: other tests' threads may open files
    elsewhere meanwhile (an index catching up), so the whole count is no measure."""
    handles = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed since the listing
            continue
        handles += target.startswith(f"{folder}/")
    return handles


def test_spares_wait_open_and_read_only_and_no_handle_is_left_behind(bare: Path) -> None:
    objects = bare / "objects"
    loose = LooseObjects(objects)
    before = open_handles(objects)
    loose.make_spares()
    assert open_handles(objects) == before + SPARES  # held open: a write needs no open()
    assert all((objects / n).stat().st_mode & 0o777 == 0o444 for n in spares_in(objects))
    blobs = [loose.blob(f"regel {n}".encode()) for n in range(SPARES + 3)]  # spares, then new
    assert open_handles(objects) == before
    assert [git(bare, "cat-file", "-p", str(b)) for b in blobs] == [
        f"regel {n}" for n in range(SPARES + 3)]
    loose.make_spares()
    _spares_for(objects).discard()
    assert open_handles(objects) == before and spares_in(objects) == []


def test_a_forked_child_closes_its_copies_of_the_parents_spares(bare: Path) -> None:
    objects = bare / "objects"
    loose = LooseObjects(objects)
    loose.make_spares()
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (runs in the child)
        before = open_handles(objects)
        _spares_for(objects)  # the child's own pool: the parent's handles are let go
        os.write(writer, b"%d" % (before - open_handles(objects)))
        os._exit(0)
    os.close(writer)
    _pid, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert int(os.read(reader, 16)) == SPARES
    os.close(reader)
    assert len(spares_in(objects)) == SPARES  # the parent's files are still its own
    assert git(bare, "cat-file", "-p", str(loose.blob(b"ouder"))) == "ouder"
