"""Commits built without a work tree, published by compare-and-swap, checked with real git."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pygit2
import pytest

from storage.errors import InvalidRevision
from storage.history import History
from storage.repository import MAIN_REF, Person, Repository

SERVER = Person("cowiki", "cowiki@localhost")
ANNA = Person("Anna de Vries", "anna@example.org")


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    return Repository.init(tmp_path / "repo.git", SERVER)


def git(repo: Repository, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo.path), *args], capture_output=True, text=True,
                          check=True).stdout


def test_repository_is_bare_with_no_work_tree(repo: Repository) -> None:
    assert git(repo, "rev-parse", "--is-bare-repository").strip() == "true"
    repo.commit(lambda head: {"Home.md": b"# Home\n"}, ANNA, "Create Home")
    assert not (repo.path / "Home.md").exists()


def test_commit_has_editor_as_author_and_server_as_committer(repo: Repository) -> None:
    repo.commit(lambda head: {"Home.md": b"# Home\n"}, ANNA, "Create Home")
    out = git(repo, "log", "-1", "--format=%an|%ae|%cn|%ce|%s", "main")
    assert out.strip() == "Anna de Vries|anna@example.org|cowiki|cowiki@localhost|Create Home"


def test_content_is_read_from_git_objects(repo: Repository) -> None:
    commit = repo.commit(lambda head: {"a/b.md": b"text\n"}, ANNA, "m")
    assert repo.read(commit, "a/b.md") == b"text\n"
    assert repo.read(commit, "a") is None
    assert [e.path for e in repo.files(commit)] == ["a/b.md"]


def test_deleting_the_last_file_of_a_folder_removes_the_folder(repo: Repository) -> None:
    repo.commit(lambda head: {"a/b.md": b"x\n", "c.md": b"y\n"}, ANNA, "m")
    head = repo.commit(lambda head: {"a/b.md": None}, ANNA, "m")
    assert [e.path for e in repo.files(head)] == ["c.md"]


def test_a_lost_race_rebuilds_on_the_new_head(repo: Repository) -> None:
    repo.commit(lambda head: {"a.md": b"1\n"}, ANNA, "first")
    calls: list[str | None] = []

    def build(head: str | None) -> dict[str, bytes | None]:
        calls.append(head)
        if len(calls) == 1:  # someone else publishes while we build
            repo.commit(lambda h: {"b.md": b"2\n"}, ANNA, "theirs")
        return {"c.md": b"3\n"}

    new = repo.commit(build, ANNA, "ours")
    assert len(calls) == 2 and calls[0] != calls[1]
    assert {e.path for e in repo.files(new)} == {"a.md", "b.md", "c.md"}
    assert git(repo, "rev-list", "--count", "main").strip() == "3"


def test_many_threads_committing_lose_nothing(repo: Repository) -> None:
    def worker(n: int) -> None:
        for i in range(10):
            repo.commit(lambda head, n=n, i=i: {f"p{n}-{i}.md": b"x\n"}, ANNA, f"{n}/{i}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert git(repo, "rev-list", "--count", "main").strip() == "60"
    assert len(list(repo.files(repo.head()))) == 60
    git(repo, "fsck", "--strict")


def test_nothing_to_change_makes_no_commit(repo: Repository) -> None:
    first = repo.commit(lambda head: {"a.md": b"1\n"}, ANNA, "m")
    assert repo.commit(lambda head: {"a.md": b"1\n"}, ANNA, "m") is None
    assert repo.commit(lambda head: None, ANNA, "m") is None
    assert repo.head() == first


def test_cas_refuses_a_stale_old_value(repo: Repository) -> None:
    first = repo.commit(lambda head: {"a.md": b"1\n"}, ANNA, "m")
    second = repo.commit(lambda head: {"a.md": b"2\n"}, ANNA, "m")
    assert first and second
    raw = pygit2.Repository(str(repo.path))
    stale = raw.references[MAIN_REF]
    repo.commit(lambda head: {"a.md": b"3\n"}, ANNA, "m")
    with pytest.raises(pygit2.GitError):
        stale.set_target(first)


@pytest.mark.parametrize("rev", ["main", "HEAD", "--all", "0000000", "a" * 40])
def test_resolve_accepts_only_existing_hex_commits(repo: Repository, rev: str) -> None:
    repo.commit(lambda head: {"a.md": b"1\n"}, ANNA, "m")
    with pytest.raises(InvalidRevision):
        repo.resolve(rev)


def test_resolve_accepts_short_ids(repo: Repository) -> None:
    head = repo.commit(lambda h: {"a.md": b"1\n"}, ANNA, "m")
    assert head is not None
    assert repo.resolve(head[:8]) == head


def test_history_follows_renames_and_blames_authors(repo: Repository) -> None:
    bob = Person("Bob", "bob@example.org")
    repo.commit(lambda h: {"old.md": b"line one\nline two\n"}, ANNA, "create")
    repo.commit(lambda h: {"old.md": None, "new.md": b"line one\nline two\n"}, bob, "rename")
    repo.commit(lambda h: {"new.md": b"line one\nline 2\n"}, bob, "edit")
    history = History(repo.path)
    log = history.log("new.md")
    assert [e.message for e in log] == ["edit", "rename", "create"]
    assert log[1].changes[0].old_path == "old.md"
    head = repo.head()
    assert head is not None
    blame = history.blame(head, "new.md")
    assert [(b.text, b.author) for b in blame] == [("line one", "Anna de Vries"),
                                                   ("line 2", "Bob")]


def test_history_follows_two_renames_and_pages_across_them(repo: Repository) -> None:
    text = b"one\ntwo\nthree\n"
    repo.commit(lambda h: {"a.md": text}, ANNA, "create a")
    repo.commit(lambda h: {"a.md": text + b"four\n"}, ANNA, "edit a")
    repo.commit(lambda h: {"a.md": None, "b.md": text + b"four\n"}, ANNA, "a to b")
    repo.commit(lambda h: {"other.md": b"x\n"}, ANNA, "unrelated")
    repo.commit(lambda h: {"b.md": None, "c.md": text + b"four\n"}, ANNA, "b to c")
    repo.commit(lambda h: {"c.md": text + b"five\n"}, ANNA, "edit c")
    history = History(repo.path)
    messages = [e.message for e in history.log("c.md")]
    assert messages == ["edit c", "b to c", "a to b", "edit a", "create a"]
    assert [e.message for e in history.log("c.md", limit=2, skip=2)] == ["a to b", "edit a"]
    renames = [(c.old_path, c.path) for e in history.log("c.md") for c in e.changes
               if c.status == "R"]
    assert renames == [("b.md", "c.md"), ("a.md", "b.md")]


def test_housekeeping_writes_a_commit_graph_with_changed_paths(repo: Repository) -> None:
    for i in range(5):
        repo.commit(lambda h, i=i: {f"p{i}.md": b"x\n"}, ANNA, "m")
    History(repo.path).maintain()
    graphs = list((repo.path / "objects" / "info").rglob("*graph*"))
    assert graphs
    git(repo, "commit-graph", "verify")


def test_housekeeping_packs_loose_objects_that_take_much_room_though_few(
        repo: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    # A folder of many pages: each save leaves a large tree; git gc --auto counts only.
    git(repo, "config", "gc.auto", "0")  # so only the size can make housekeeping pack
    repo.commit(lambda h: {f"map/p{n}.md": f"Pagina {n}\n".encode() for n in range(300)},
                ANNA, "many")
    for i in range(10):
        repo.commit(lambda h, i=i: {"map/p7.md": f"Versie {i}\n".encode()}, ANNA, "one")
    history = History(repo.path)
    history.maintain()  # under the limit: stays loose
    loose = history.loose_bytes()
    assert loose > 10 * 300 * 20  # ten trees of 300 entries, at least
    monkeypatch.setattr("storage.history.LOOSE_PACK_BYTES", loose - 1)
    history.maintain()
    assert history.loose_bytes() == 0
    assert git(repo, "show", "main:map/p7.md") == "Versie 9\n"
    assert len(git(repo, "rev-list", "main").split()) == 11
    git(repo, "fsck", "--strict", "--no-dangling")
