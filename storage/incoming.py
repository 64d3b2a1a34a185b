"""What a push brings: ref updates, the new commits, and the files each commit changed.

`git receive-pack` keeps incoming objects in a quarantine directory until its
pre-receive hook accepts them; `open_incoming` adds that directory to the
object database, so the hook sees the pushed objects without them being in
the repository yet. Every new commit is compared with its first parent (or
the empty tree), so each changed entry is looked at once per commit and
unchanged files are never re-read.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pygit2

from storage.errors import StorageError

ZERO = "0" * 40
QUARANTINE_ENV = "GIT_QUARANTINE_PATH"


@dataclass(frozen=True)
class RefUpdate:
    """One line of a pre/post-receive hook's input: a ref moving from old to new."""

    old: str
    new: str
    ref: str

    @property
    def is_delete(self) -> bool:
        """True when the push deletes the ref."""
        return self.new == ZERO

    @property
    def is_create(self) -> bool:
        """True when the ref does not exist yet."""
        return self.old == ZERO


@dataclass(frozen=True)
class ChangedEntry:
    """A file a commit adds or changes: its path, git file mode, blob id and size."""

    commit: str
    path: str
    mode: int
    blob: str
    size: int
    added: bool


def parse_updates(lines: Iterable[str]) -> list[RefUpdate]:
    """Ref updates from hook input lines ("<old> <new> <ref>")."""
    updates = []
    for line in lines:
        parts = line.split()
        if len(parts) != 3:
            raise StorageError(f"unexpected hook input: {line!r}")
        updates.append(RefUpdate(*parts))
    return updates


def open_incoming(git_dir: str | os.PathLike[str]) -> pygit2.Repository:
    """The repository as the hook must see it: with quarantined objects readable."""
    repo = pygit2.Repository(str(git_dir))
    quarantine = os.environ.get(QUARANTINE_ENV)
    if quarantine and Path(quarantine).is_dir():
        repo.odb.add_disk_alternate(quarantine)
    return repo


def new_commits(repo: pygit2.Repository, new: str, old: str,
                other_refs: bool = True) -> list[pygit2.Commit]:
    """Commits reachable from `new` but not from `old`, oldest first.

    With `other_refs` (before the ref moved) commits any ref already reaches
    are left out too; after the update, pass False so `new` itself is not hidden.
    """
    walker = repo.walk(pygit2.Oid(hex=new), pygit2.enums.SortMode.TOPOLOGICAL
                       | pygit2.enums.SortMode.REVERSE)
    hidden = {old} if old != ZERO else set()
    for ref in repo.references.objects if other_refs else ():
        target = ref.resolve().target
        if isinstance(target, pygit2.Oid):
            hidden.add(str(target))
    for oid in hidden:
        if oid in repo:
            walker.hide(pygit2.Oid(hex=oid))
    return list(walker)


def is_fast_forward(repo: pygit2.Repository, old: str, new: str) -> bool:
    """True when `new` contains `old` in its history (or the ref is new)."""
    if old in (ZERO, new):
        return True
    return bool(repo.descendant_of(pygit2.Oid(hex=new), pygit2.Oid(hex=old)))


def changed_entries(repo: pygit2.Repository, commit: pygit2.Commit) -> Iterator[ChangedEntry]:
    """Files `commit` adds or modifies relative to its first parent (all files for a root)."""
    if commit.parents:
        diff = commit.parents[0].tree.diff_to_tree(commit.tree)
    else:
        diff = commit.tree.diff_to_tree(swap=True)
    for delta in diff.deltas:
        if delta.status == pygit2.enums.DeltaStatus.DELETED:
            continue
        new = delta.new_file
        size = _size(repo, new.id) if new.mode in _BLOB_MODES else 0
        added = delta.status == pygit2.enums.DeltaStatus.ADDED
        yield ChangedEntry(str(commit.id), new.path, int(new.mode), str(new.id), size, added)


def changed_paths(repo: pygit2.Repository, old: str, new: str) -> list[str]:
    """Every path that differs between two commits' trees (added, changed or deleted)."""
    new_tree = _commit(repo, new).tree
    if old == ZERO:
        diff = new_tree.diff_to_tree(swap=True)
    else:
        diff = _commit(repo, old).tree.diff_to_tree(new_tree)
    return sorted({path for delta in diff.deltas
                   for path in (delta.old_file.path, delta.new_file.path) if path})


def _commit(repo: pygit2.Repository, revision: str) -> pygit2.Commit:
    commit = repo[revision]
    if not isinstance(commit, pygit2.Commit):
        raise ValueError(f"{revision} is not a commit")
    return commit


def tree_paths(commit: pygit2.Commit) -> Iterator[str]:
    """Every file path in the commit's tree (no folders)."""
    stack: list[tuple[pygit2.Tree, str]] = [(commit.tree, "")]
    while stack:
        tree, prefix = stack.pop()
        for entry in tree:
            path = f"{prefix}{entry.name}"
            if isinstance(entry, pygit2.Tree):
                stack.append((entry, path + "/"))
            else:
                yield path


def read_blob(repo: pygit2.Repository, blob: str) -> bytes:
    """The contents of a blob."""
    obj = repo[blob]
    if not isinstance(obj, pygit2.Blob):
        raise StorageError(f"{blob} is not a blob")
    data: bytes = obj.data
    return data


_BLOB_MODES = {int(pygit2.enums.FileMode.BLOB), int(pygit2.enums.FileMode.BLOB_EXECUTABLE),
               int(pygit2.enums.FileMode.LINK)}


def _size(repo: pygit2.Repository, oid: pygit2.Oid) -> int:
    _kind, size = repo.odb.read_header(oid)
    return int(size)
