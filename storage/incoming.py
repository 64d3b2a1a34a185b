"""What a push brings: ref updates, the new commits, and the files each commit changed.

`git receive-pack` keeps incoming objects in a quarantine directory until its
pre-receive hook accepts them; `open_incoming` adds that directory to the
object database, so the hook sees the pushed objects without them being in
the repository yet. Every new commit is compared with its first parent (or
the empty tree), so each changed entry is looked at once per commit and
unchanged files are never re-read. Commits, blobs and modes come back as
plain values (hex ids, git's numeric modes); the libgit2 handle stays inside.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pygit2

from storage.errors import StorageError
from storage.repository import MAIN_REF
from storage.treediff import (
    MODE_BLOB,
    MODE_EXECUTABLE,
    MODE_LINK,
    GitHandle,
    commit_changes,
    commit_tree,
    diff_commits,
)

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


@dataclass(frozen=True)
class IncomingRepo:
    """The repository as a push hook sees it; pass it to this module's functions."""

    git: pygit2.Repository

    def main(self) -> str | None:
        """Where `refs/heads/main` points before the push, or None in an empty wiki."""
        ref = self.git.references.get(MAIN_REF)
        return None if ref is None else str(ref.target)


def open_incoming(git_dir: str | os.PathLike[str]) -> IncomingRepo:
    """The repository as the hook must see it: with quarantined objects readable."""
    repo = pygit2.Repository(str(git_dir))
    quarantine = os.environ.get(QUARANTINE_ENV)
    if quarantine and Path(quarantine).is_dir():
        repo.odb.add_disk_alternate(quarantine)
    return IncomingRepo(repo)


def new_commits(repo: IncomingRepo, new: str, old: str, other_refs: bool = True) -> list[str]:
    """Commits reachable from `new` but not from `old`, oldest first.

    With `other_refs` (before the ref moved) commits any ref already reaches
    are left out too; after the update, pass False so `new` itself is not hidden.
    """
    git = repo.git
    walker = git.walk(pygit2.Oid(hex=new), pygit2.enums.SortMode.TOPOLOGICAL
                      | pygit2.enums.SortMode.REVERSE)
    hidden = {old} if old != ZERO else set()
    for ref in git.references.objects if other_refs else ():
        target = ref.resolve().target
        if isinstance(target, pygit2.Oid):
            hidden.add(str(target))
    for oid in hidden:
        if oid in git:
            walker.hide(pygit2.Oid(hex=oid))
    return [str(commit.id) for commit in walker]


def is_fast_forward(repo: GitHandle, old: str, new: str) -> bool:
    """True when `new` contains `old` in its history (or the ref is new)."""
    if old in (ZERO, new):
        return True
    return bool(repo.git.descendant_of(pygit2.Oid(hex=new), pygit2.Oid(hex=old)))


def merge_base(repo: GitHandle, one: str, other: str) -> str | None:
    """The best common ancestor of two commits, or None when their histories are unrelated."""
    base = repo.git.merge_base(pygit2.Oid(hex=one), pygit2.Oid(hex=other))
    return None if base is None else str(base)


def changed_entries(repo: IncomingRepo, commit: str) -> Iterator[ChangedEntry]:
    """Files `commit` adds or modifies relative to its first parent (all files for a root)."""
    for change in commit_changes(repo, commit):
        if change.deleted:
            continue
        size = _size(repo, change.blob) if change.mode in _BLOB_MODES else 0
        yield ChangedEntry(commit, change.path, change.mode, change.blob, size,
                           change.status == "A")


def changed_paths(repo: IncomingRepo, old: str, new: str) -> list[str]:
    """Every path that differs between two commits' trees (added, changed or deleted)."""
    return sorted({change.path for change in
                   diff_commits(repo, None if old == ZERO else old, new)})


def tree_paths(repo: IncomingRepo, commit: str) -> Iterator[str]:
    """Every file path in the commit's tree (no folders)."""
    stack: list[tuple[pygit2.Tree, str]] = [(commit_tree(repo, commit), "")]
    while stack:
        tree, prefix = stack.pop()
        for entry in tree:
            path = f"{prefix}{entry.name}"
            if isinstance(entry, pygit2.Tree):
                stack.append((entry, path + "/"))
            else:
                yield path


def read_blob(repo: IncomingRepo, blob: str) -> bytes:
    """The contents of a blob."""
    obj = repo.git[blob]
    if not isinstance(obj, pygit2.Blob):
        raise StorageError(f"{blob} is not a blob")
    data: bytes = obj.data
    return data


_BLOB_MODES = {MODE_BLOB, MODE_EXECUTABLE, MODE_LINK}


def _size(repo: IncomingRepo, blob: str) -> int:
    _kind, size = repo.git.odb.read_header(pygit2.Oid(hex=blob))
    return int(size)
