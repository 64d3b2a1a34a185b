"""Trees spliced from their old bytes are the trees libgit2's TreeBuilder and `git mktree` make.

Random edit sequences (inserts, replacements, deletes, files that become folders
and back) on names that sort around folders ("a.md", "a-b.md", the folder "a")
and Dutch names are applied by `Repository` and by the TreeBuilder code it
replaced; every tree id must match, `git mktree` must rebuild each tree with
the same id, and `git fsck` must find nothing wrong.
"""

from __future__ import annotations

import subprocess
import tempfile
import zlib
from pathlib import Path

import pygit2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.commitbytes import commit_object
from storage.errors import StorageError
from storage.repository import NestedChanges, Person, Repository, _nest
from storage.treesplice import (
    RAW_TREES,
    UNCOMPRESSED_BYTES,
    RawTrees,
    TreeEdit,
    entries_of,
    entry_at,
)

SERVER = Person("cowiki", "cowiki@localhost")
ANNA = Person("Anna de Vries", "anna@example.org")
BLOB = pygit2.enums.FileMode.BLOB
TREE = pygit2.enums.FileMode.TREE
# Names whose order differs between plain byte order and git's ("a" the folder sorts
# as "a/", after "a-b.md" and "a.md"), upper case, and UTF-8 beyond ASCII.
NAMES = ["a", "a.md", "a-b.md", "a b.md", "a0.md", "a.b", "ab", "b", "één.md", "Ürgent.md",
         "Zee.md", "z", "A", "a.md.md", "é"]
CONTENTS = [b"one\n", b"two\n", b"", "één\n".encode()]

paths = st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map("/".join)
change_sets = st.dictionaries(paths, st.one_of(st.none(), st.sampled_from(CONTENTS)),
                              min_size=1, max_size=5)


def git(repo: Repository, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(["git", "-C", str(repo.path), *args], capture_output=True,
                          text=True, check=True, input=stdin).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    return Repository.init(tmp_path / "repo.git", SERVER)


def reference_tree(repo: pygit2.Repository, tree: pygit2.Tree | None,
                   changes: NestedChanges) -> pygit2.Oid | None:
    """The tree as the TreeBuilder code before the splice wrote it."""
    builder = repo.TreeBuilder(tree) if tree is not None else repo.TreeBuilder()
    for name, change in changes.items():
        if isinstance(change, dict):
            sub: pygit2.Tree | None = None
            if tree is not None and name in tree and tree[name].filemode == TREE:
                found = repo.get(tree[name].id)
                assert isinstance(found, pygit2.Tree)
                sub = found
            written = reference_tree(repo, sub, change)
            if written is not None:
                builder.insert(name, written, TREE)
            elif builder.get(name) is not None:
                builder.remove(name)
        elif change is None:
            if builder.get(name) is not None:
                builder.remove(name)
        else:
            builder.insert(name, repo.create_blob(change), BLOB)
    return builder.write() if len(builder) else None


def check_with_git(repo: Repository) -> None:
    """`git fsck` is clean, and `git mktree` makes every tree of main with the same id."""
    git(repo, "fsck", "--full", "--strict", "--no-dangling")
    root = str(repo.commit_info(repo.head() or "").tree_id)
    trees = [root] + [line.split()[2] for line in git(repo, "ls-tree", "-r", "-t", root)
                      .splitlines() if line.split()[1] == "tree"]
    for tree in trees:
        listing = git(repo, "ls-tree", "-z", tree)
        made = subprocess.run(["git", "-C", str(repo.path), "mktree", "-z"], input=listing,
                              capture_output=True, text=True, check=True).stdout.strip()
        assert made == tree


def apply_and_compare(repo: Repository, changes: dict[str, bytes | None]) -> None:
    before = repo.head()
    old = repo.commit_info(before).tree if before is not None else None
    expected = reference_tree(repo.git, old, _nest(changes))
    repo.commit(lambda head: changes, ANNA, "edit")
    head = repo.head()
    assert head is not None
    got = repo.commit_info(head).tree_id
    assert got == (expected or repo.git.TreeBuilder().write())


@settings(max_examples=60, deadline=None)
@given(edits=st.lists(change_sets, min_size=1, max_size=8))
def test_spliced_trees_are_the_trees_treebuilder_writes(
        edits: list[dict[str, bytes | None]]) -> None:
    # The repository's spare object files are still being made as the folder goes.
    with tempfile.TemporaryDirectory(prefix="splice-", ignore_cleanup_errors=True) as tmp:
        repo = Repository.init(Path(tmp) / "repo.git", SERVER)
        for changes in edits:
            apply_and_compare(repo, changes)
        check_with_git(repo)


@pytest.fixture(scope="module")
def large_folder(tmp_path_factory: pytest.TempPathFactory) -> Repository:
    """A wiki with 2,000 pages in one folder (a 90 KB tree: cached and written uncompressed)."""
    repo = Repository.init(tmp_path_factory.mktemp("large") / "repo.git", SERVER)
    repo.commit(lambda head: {f"Pagina {n:04d}.md": b"%d\n" % n for n in range(2000)},
                ANNA, "many pages")
    subprocess.run(["git", "-C", str(repo.path), "gc", "--quiet"], check=True)  # read from a pack
    return repo


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.dictionaries(
    st.one_of(paths, st.integers(0, 2100).map(lambda n: f"Pagina {n:04d}.md")),
    st.one_of(st.none(), st.sampled_from(CONTENTS)), min_size=1, max_size=4),
    min_size=1, max_size=6))
def test_edits_of_a_large_folder_match_treebuilder(
        large_folder: Repository, edits: list[dict[str, bytes | None]]) -> None:
    """Every example edits on from where the one before left the folder."""
    for changes in edits:
        apply_and_compare(large_folder, changes)


def test_the_large_folder_edits_leave_a_sound_repository(large_folder: Repository) -> None:
    check_with_git(large_folder)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=change_sets, asked=st.lists(st.one_of(
    paths, st.integers(0, 2100).map(lambda n: f"Pagina {n:04d}.md"),
    paths.map(lambda p: p + "/"), st.just("")), min_size=1, max_size=8))
def test_an_entry_looked_up_in_a_cached_tree_is_what_libgit2_finds(
        large_folder: Repository, changes: dict[str, bytes | None], asked: list[str]) -> None:
    """The large folder a save wrote is answered from the raw-tree cache, the small
    folders in it by libgit2: both give what libgit2's own lookup gives."""
    large_folder.commit(lambda head: changes, ANNA, "edit")
    tree = large_folder.commit_info(large_folder.head() or "").tree
    assert RAW_TREES.cached(tree.id) is not None
    for path in asked:
        try:
            entry = tree[path]
            expected = (int(entry.filemode), entry.id)
        except KeyError:
            expected = None
        assert entry_at(large_folder.git, tree.id, path) == expected, path


def test_a_folder_sorts_as_if_its_name_ended_in_a_slash(repo: Repository) -> None:
    head = repo.commit(lambda head: {"a/x.md": b"1\n", "a.md": b"2\n", "a-b.md": b"3\n",
                                     "a0.md": b"4\n", "ab/y.md": b"5\n"}, ANNA, "m")
    assert head is not None
    names = git(repo, "ls-tree", "--name-only", head).split()
    assert names == ["a-b.md", "a.md", "a", "a0.md", "ab"]
    check_with_git(repo)


def test_a_file_becomes_a_folder_and_back(repo: Repository) -> None:
    repo.commit(lambda head: {"a": b"file\n", "a.md": b"x\n"}, ANNA, "m")
    apply_and_compare(repo, {"a/b.md": b"inside\n"})
    assert git(repo, "ls-tree", "main", "a").split()[1] == "tree"
    apply_and_compare(repo, {"a": b"file again\n"})
    assert git(repo, "ls-tree", "main", "a").split()[1] == "blob"
    check_with_git(repo)


def test_a_large_tree_is_stored_uncompressed_and_git_reads_it(repo: Repository) -> None:
    count = UNCOMPRESSED_BYTES // 40 + 100
    head = repo.commit(lambda head: {f"Page-{n:05d}.md": b"%d\n" % n for n in range(count)},
                       ANNA, "many")
    assert head is not None
    tree = str(repo.commit_info(head).tree_id)
    loose = (repo.path / "objects" / tree[:2] / tree[2:]).read_bytes()
    assert loose[:2] == b"\x78\x01" and zlib.decompress(loose).startswith(b"tree ")
    assert len(loose) > UNCOMPRESSED_BYTES  # stored, not deflated
    assert git(repo, "cat-file", "-t", tree).strip() == "tree"
    assert len(git(repo, "ls-tree", tree).splitlines()) == count
    git(repo, "gc", "--quiet")
    check_with_git(repo)


def test_names_git_refuses_are_refused() -> None:
    oid = pygit2.Oid(hex="e69de29bb2d1d6434b8b29ae775ad8c2e48c5391")
    for name in ["", ".", "..", ".git", ".GIT", "a/b", "a\0b"]:
        with pytest.raises(StorageError):
            TreeEdit().put(name, BLOB, oid)


def test_a_malformed_tree_is_refused() -> None:
    with pytest.raises(StorageError):
        entries_of(b"100644 a.md\0" + b"x" * 19)


def test_the_raw_tree_cache_keeps_the_most_recent_within_its_budget() -> None:
    cache = RawTrees(budget=100_000)
    ids = [pygit2.Oid(raw=bytes([n]) * 20) for n in range(4)]
    for oid in ids:
        cache.keep(oid, (b"entry",), 40_000)
    odb = pygit2.Odb()  # empty: what is not cached cannot be read
    assert cache.read(odb, ids[3]) == (b"entry",)
    assert cache.read(odb, ids[2]) == (b"entry",)
    with pytest.raises(KeyError):
        cache.read(odb, ids[0])


@pytest.mark.parametrize(("name", "email", "offset"), [
    ("Anna de Vries", "anna@example.org", 60),
    ("Jürgen Ößterreich", "jürgen@example.org", -210),
    ("  Bram  ", " bram@example.org ", 0),
    ("Ēva", "eva@example.org", -60),
    ("Kim", "kim@example.org", 345),
])
def test_commit_bytes_are_what_libgit2_writes(repo: Repository, name: str, email: str,
                                               offset: int) -> None:
    first = repo.commit(lambda head: {"a.md": b"1\n"}, ANNA, "first")
    second = repo.commit(lambda head: {"b.md": b"2\n"}, ANNA, "second")
    assert first is not None and second is not None
    who = pygit2.Signature(name, email, 1_733_390_000, offset)
    server = pygit2.Signature("cowiki", "cowiki@localhost", 1_733_390_001, offset)
    tree = repo.commit_info(second).tree_id
    for parents in ([], [second], [second, first]):
        for message in ("Edit\n", "Één regel\n\nmet uitleg\n"):
            expected = repo.git.create_commit_string(who, server, message, tree,
                                                     [pygit2.Oid(hex=p) for p in parents])
            assert commit_object(tree, parents, who, server, message) == str(expected).encode()
