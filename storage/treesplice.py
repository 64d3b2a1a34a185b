"""A folder's new tree made from its old bytes: one entry replaced, inserted or removed.

A save changes one or two entries of a folder, yet libgit2's `TreeBuilder`
copies every entry, sorts them all and serialises them again: at 10,000 pages
in one folder that is most of a save (12 ms of 24). Here the tree's raw bytes
are kept as a list of entries in git's order; a change is a binary search and
a list splice, and the new tree is the entries joined. The bytes are exactly
what `TreeBuilder` writes (tests/storage/test_tree_splice.py compares them).

Git sorts a tree's entries by name as if a folder's name ended in "/": the
folder "a" comes after "a-b.md" and "a.md" ("-" and "." sort before "/").

Trees of 8 KB and up (about 200 pages in one folder) are written as loose
objects in stored zlib blocks, as git itself does with `core.looseCompression
= 0`, and every git reads them: deflating a 20 KB tree (500 pages) at level 1
takes 170 µs, storing it 10 µs; at 400 KB deflating costs about 4 ms, five
times the rest of the write. The object's id and contents are the same; `git
gc` packs and compresses it as usual (housekeeping packs loose objects once
they take 64 MB), and clones never see the difference. The file is written by
`storage/loose.py`, not by libgit2, whose level 0 writes no zlib stream at all
(neither git nor libgit2 can read that back).
"""

from __future__ import annotations

import bisect
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import pygit2

from storage.errors import StorageError
from storage.loose import BEST_SPEED, LooseObjects

TREE = pygit2.enums.ObjectType.TREE
FOLDER_MODE = b"40000"
OID_BYTES = 20
# Trees at least this large are written uncompressed (see the module docstring).
UNCOMPRESSED_BYTES = 8 * 1024
# Raw trees kept per process: the folders the last saves rewrote, so the next save
# splices without reading them again. Only trees worth it (small ones read fast).
CACHED_TREE_BYTES = 16 * 1024
CACHE_BYTES = 4 * 1024 * 1024  # of tree bytes; about twice that in memory as entry lists

# One entry: octal mode, space, name (no NUL), NUL, the 20-byte object id. The name
# ends at the first NUL, so matches from the start of a tree follow git's own parse.
_ENTRY = re.compile(rb"[0-7]+ [^\0]*\0.{20}", re.DOTALL)
_INVALID_NAMES = {b"", b".", b"..", b".git"}


def entries_of(raw: bytes) -> list[bytes]:
    """The entries of a tree object's bytes, in their order; StorageError if malformed."""
    entries: list[bytes] = _ENTRY.findall(raw)
    # findall skips what does not match: the entries must cover the bytes exactly.
    if sum(map(len, entries)) != len(raw):
        raise StorageError("a tree object could not be read: it is malformed")
    return entries


def _sort_key(entry: bytes) -> bytes:
    """Git's sort key of an entry: its name, with "/" after a folder's."""
    name = entry[entry.index(b" ") + 1:entry.index(b"\0")]
    return name + b"/" if entry.startswith(FOLDER_MODE + b" ") else name


class TreeEdit:
    """The entries of one folder, changed one name at a time, in git's order."""

    def __init__(self, entries: Sequence[bytes] = ()) -> None:
        self._entries = list(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, name: str) -> tuple[int, pygit2.Oid] | None:
        """The mode and object id of `name`, or None when it is not there."""
        index = self._find(_encode(name))
        return None if index is None else _mode_and_id(self._entries[index])

    def put(self, name: str, mode: int, oid: pygit2.Oid) -> None:
        """Add `name`, or replace it (a file may become a folder and back)."""
        encoded = _encode(name)
        self._remove(encoded)
        entry = b"%o %s\0%s" % (mode, encoded, oid.raw)
        key = encoded + b"/" if mode == pygit2.enums.FileMode.TREE else encoded
        self._entries.insert(bisect.bisect_left(self._entries, key, key=_sort_key), entry)

    def remove(self, name: str) -> None:
        """Remove `name` if it is there."""
        self._remove(_encode(name))

    def raw(self) -> bytes:
        """The tree object's bytes."""
        return b"".join(self._entries)

    def entries(self) -> tuple[bytes, ...]:
        """The entries as they are now, in git's order."""
        return tuple(self._entries)

    def _remove(self, name: bytes) -> None:
        index = self._find(name)
        if index is not None:
            del self._entries[index]

    def _find(self, name: bytes) -> int | None:
        return _find(self._entries, name)


def _find(entries: Sequence[bytes], name: bytes) -> int | None:
    """Where the entry called `name` is: a file's key is its name, a folder's name/."""
    for key in (name, name + b"/"):
        index = bisect.bisect_left(entries, key, key=_sort_key)
        if index < len(entries) and _sort_key(entries[index]) == key:
            return index
    return None


def _mode_and_id(entry: bytes) -> tuple[int, pygit2.Oid]:
    return int(entry[:entry.index(b" ")], 8), pygit2.Oid(raw=entry[-OID_BYTES:])


def _encode(name: str) -> bytes:
    """A tree entry name as git stores it; names no tree may hold (empty, ".", "..",
    ".git", with "/" or NUL) are refused, as `TreeBuilder` refuses them."""
    encoded = name.encode("utf-8")
    if encoded.lower() in _INVALID_NAMES or b"/" in encoded or b"\0" in encoded:
        raise StorageError(f"not a valid name in a folder: {name!r}")
    return encoded


class RawTrees:
    """Recently read or written large trees as entry lists, shared by a process's threads.

    Trees are named by their content, so a cached one is never stale, and one read
    from any repository is right for every repository that has that id.
    """

    def __init__(self, budget: int = CACHE_BYTES) -> None:
        self._budget = budget
        self._used = 0
        self._trees: OrderedDict[bytes, tuple[tuple[bytes, ...], int]] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, odb: pygit2.Odb, oid: pygit2.Oid) -> tuple[bytes, ...]:
        """The entries of tree `oid`, from the cache or the object database."""
        with self._lock:
            cached = self._trees.get(oid.raw)
            if cached is not None:
                self._trees.move_to_end(oid.raw)
                return cached[0]
        kind, raw = odb.read(oid)
        if kind != TREE:
            raise StorageError(f"{oid} is not a tree")
        entries = tuple(entries_of(raw))
        self.keep(oid, entries, len(raw))
        return entries

    def cached(self, oid: pygit2.Oid) -> tuple[bytes, ...] | None:
        """The entries of tree `oid` when they are in the cache, else None."""
        with self._lock:
            cached = self._trees.get(oid.raw)
        return None if cached is None else cached[0]

    def keep(self, oid: pygit2.Oid, entries: tuple[bytes, ...], size: int) -> None:
        """Remember a tree of `size` bytes, if it is large enough to be worth it."""
        if size < CACHED_TREE_BYTES or size > self._budget:
            return
        with self._lock:
            if oid.raw in self._trees:
                return
            self._trees[oid.raw] = (entries, size)
            self._used += size
            while self._used > self._budget:
                _oid, (_entries, dropped) = self._trees.popitem(last=False)
                self._used -= dropped


RAW_TREES = RawTrees()


def entry_at(git: pygit2.Repository, tree: pygit2.Oid, path: str
             ) -> tuple[int, pygit2.Oid] | None:
    """The mode and id at `path` under tree `tree`, or None when nothing is there.

    A large folder this process read or wrote for a save is looked up in its cached
    entries; libgit2 would parse all of it again (1 ms at 10,000 pages) for each new
    head in each thread. Other trees are libgit2's, parsed and cached by it.
    """
    name, slash, rest = path.partition("/")
    entries = RAW_TREES.cached(tree)
    if entries is None:
        obj = git[tree]
        if not isinstance(obj, pygit2.Tree):
            raise StorageError(f"{tree} is not a tree")
        try:
            entry = obj[path]
        except KeyError:
            return None
        return int(entry.filemode), entry.id
    index = _find(entries, name.encode("utf-8"))
    if index is None:
        return None
    mode, oid = _mode_and_id(entries[index])
    if not slash:
        return mode, oid
    if mode != pygit2.enums.FileMode.TREE:
        return None  # "name/" or "name/more" below a file
    return entry_at(git, oid, rest) if rest else (mode, oid)


class TreeWriter:
    """Writes trees for one repository handle: large ones uncompressed, and remembered."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self._odb = repo.odb
        self.loose = LooseObjects(Path(repo.path) / "objects",
                                  _config_flag(repo, "core.fsyncObjectFiles"))

    def read(self, oid: pygit2.Oid) -> TreeEdit:
        """Tree `oid`'s entries, ready to be changed."""
        return TreeEdit(RAW_TREES.read(self._odb, oid))

    def write(self, tree: TreeEdit) -> pygit2.Oid:
        """Store the tree and return its id (see the module docstring for large ones)."""
        raw = tree.raw()
        oid = self.loose.write(b"tree", raw, 0 if len(raw) >= UNCOMPRESSED_BYTES else BEST_SPEED)
        RAW_TREES.keep(oid, tree.entries(), len(raw))
        return oid


def _config_flag(repo: pygit2.Repository, key: str) -> bool:
    try:
        return bool(repo.config.get_bool(key))
    except (KeyError, pygit2.GitError):
        return False
