"""The bare repository: read objects, build commits without a work tree, publish by CAS.

Reads and writes go through libgit2 (pygit2) in-process, which keeps a save
close to the cost of a raw commit. Publishing is a compare-and-swap of `refs/heads/main`
under the same `main.lock` file as `git update-ref` takes (storage/mainref.py), so web
workers and `git receive-pack` exclude each other; a lost race rebuilds on the new head
and tries again.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pygit2

from storage.commitbytes import commit_object
from storage.errors import N_, InvalidRevision, RefContention, RepositoryWriteFailed, StorageError
from storage.mainref import MAIN_REF as MAIN_REF
from storage.mainref import STALE_REF_LOCK_SECONDS, MainRef
from storage.merge import merge_blobs
from storage.names import validate_revision
from storage.objectcache import cache_large_trees
from storage.treesplice import TreeEdit, TreeWriter, entry_at

BLOB_MODE = pygit2.enums.FileMode.BLOB
TREE_MODE = pygit2.enums.FileMode.TREE
WRITER_LOCK = "cowiki-writer.lock"
PUBLISH_SECONDS = STALE_REF_LOCK_SECONDS + 2.0  # a save outwaits a dead writer's lock

log = logging.getLogger("cowiki.storage")

# What libgit2 raises when the repository cannot be read or written (a damaged pack,
# a missing object), for callers outside storage/ that must not import pygit2.
GIT_FAILURES: tuple[type[Exception], ...] = (pygit2.GitError,)

INIT_CONFIG = {
    "core.logAllRefUpdates": "true",
    "core.commitGraph": "true",
    "gc.writeCommitGraph": "true",
    "gc.auto": "2000",
    "receive.fsckObjects": "true",
    "transfer.fsckObjects": "true",
    "uploadpack.allowFilter": "true",
    "http.receivepack": "true",
}


@dataclass(frozen=True)
class Person:
    """A commit author or committer."""

    name: str
    email: str


@dataclass(frozen=True)
class Entry:
    """A file in a tree: its path, blob id and size."""

    path: str
    blob: str


# A change set maps repository paths to new bytes (or to blobs written already, as
# `storage/optimistic.py` does outside the writer lock), or to None to delete.
Changes = Mapping[str, bytes | None]
Blobs = Mapping[str, pygit2.Oid | None]
# Either, folder by folder: a name maps to new bytes or a blob, None, or the changes inside it.
NestedChanges = dict[str, "bytes | pygit2.Oid | None | NestedChanges"]


class Repository:
    """A bare git repository on disk with `refs/heads/main` as the only branch."""

    def __init__(self, path: str | os.PathLike[str], committer: Person) -> None:
        cache_large_trees()
        self.path = Path(path)
        self.committer = committer
        self._local = threading.local()
        self._thread_lock = threading.RLock()
        self._lock_depth = 0
        self._main = MainRef(self.path, (committer.name, committer.email))

    @classmethod
    def init(cls, path: str | os.PathLike[str], committer: Person) -> Repository:
        """Create the bare repository if it does not exist, and return it."""
        path = Path(path)
        if not (path / "HEAD").exists():
            repo = pygit2.init_repository(str(path), bare=True, initial_head="main")
            for key, value in INIT_CONFIG.items():
                repo.config[key] = value
        return cls(path, committer)

    @property
    def git(self) -> pygit2.Repository:
        """A libgit2 handle private to this thread and process (handles are not shared)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.repo = pygit2.Repository(str(self.path))
            local.trees = TreeWriter(local.repo)
            local.pid = os.getpid()
        repo: pygit2.Repository = local.repo
        return repo

    @property
    def _trees(self) -> TreeWriter:
        """This thread's tree reader and writer (see `git`)."""
        self.git  # noqa: B018  # makes the handles of this thread and process
        trees: TreeWriter = self._local.trees
        return trees

    # -- reading -------------------------------------------------------------

    def head(self) -> str | None:
        """Hex id of the commit `main` points to, or None for an empty wiki."""
        try:
            return str(self.git.references[MAIN_REF].target)
        except KeyError:
            return None

    def resolve(self, revision: str) -> str:
        """Full hex id of the commit named by a hex revision, or InvalidRevision."""
        rev = validate_revision(revision)
        try:
            obj = self.git.revparse_single(rev)
            commit = obj.peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError) as exc:
            raise InvalidRevision(N_("no such revision: {revision}"), revision=rev) from exc
        return str(commit.id)

    def commit_info(self, revision: str) -> pygit2.Commit:
        """The commit object of a resolved revision."""
        commit = self.git[revision]
        if not isinstance(commit, pygit2.Commit):
            raise InvalidRevision(N_("{revision} is not a commit"), revision=revision)
        return commit

    def blob_id(self, commit: str | None, path: str) -> str | None:
        """Blob id of `path` in `commit`, or None if absent (or a folder)."""
        if commit is None:
            return None
        found = entry_at(self.git, self.commit_info(commit).tree_id, path)
        if found is None or found[0] not in (BLOB_MODE, pygit2.enums.FileMode.BLOB_EXECUTABLE):
            return None
        return str(found[1])

    def merge_blobs(self, base: str, ours: str, theirs: str) -> str | None:
        """The clean three-way merge of three blobs, or None when they overlap
        (storage/merge.py)."""
        return merge_blobs(self.git, base, ours, theirs)

    def read_blob(self, blob_id: str) -> bytes:
        """Contents of a blob."""
        blob = self.git[blob_id]
        if not isinstance(blob, pygit2.Blob):
            raise StorageError(f"{blob_id} is not a blob")
        return bytes(blob.data)

    def read(self, commit: str | None, path: str) -> bytes | None:
        """Contents of `path` at `commit`, or None if absent."""
        blob = self.blob_id(commit, path)
        return None if blob is None else self.read_blob(blob)

    def files(self, commit: str | None, folder: str = "") -> Iterator[Entry]:
        """Every regular file under `folder` at `commit`, depth first."""
        if commit is None:
            return
        tree = self.commit_info(commit).tree
        if folder:
            try:
                sub = self.git[tree[folder].id]
            except KeyError:
                return
            if not isinstance(sub, pygit2.Tree):
                return
            tree = sub
        yield from self._walk(tree, folder)

    def _walk(self, tree: pygit2.Tree, prefix: str) -> Iterator[Entry]:
        for entry in tree:
            path = f"{prefix}/{entry.name}" if prefix else str(entry.name)
            if entry.filemode == TREE_MODE:
                sub = self.git[entry.id]
                assert isinstance(sub, pygit2.Tree)
                yield from self._walk(sub, path)
            elif entry.filemode == BLOB_MODE:
                yield Entry(path=path, blob=str(entry.id))

    # -- writing -------------------------------------------------------------

    def commit(self, build: Callable[[str | None], Changes | None], author: Person,
               message: str, committer: Person | None = None) -> str | None:
        """Build a commit on the current head and publish it; retry on a lost race.

        `build(head)` returns the changes on top of `head`, called again with the new head
        whenever another writer moved `main` first (merges see the real parent). Returns the
        new commit, or None when `build` had nothing to change; `committer` defaults to the server.
        """
        def step(head: str | None) -> str | None:
            if not (changes := build(head)):
                return None
            return self.write_commit(head, changes, author, message, None, committer)
        return self.advance(step)

    def write_blob(self, data: bytes) -> pygit2.Oid:
        """Store `data` as a blob (a loose object, as git writes it) and return its id."""
        return self._trees.loose.blob(data)

    def after_answer(self) -> None:
        """A save's file work put off until its answer has gone out: make the files the
        next saves write their objects into (storage/loose.py), free the old ref's file
        (storage/mainref.py)."""
        self._main.let_go()
        self._trees.loose.make_spares()

    def write_commit(self, head: str | None, changes: Changes | Blobs, author: Person, message: str,
                     merged: str | None = None, committer: Person | None = None) -> str | None:
        """An unpublished commit of `changes` on `head` (and `merged`, a second parent);
        None when the tree would not change, unless it is a merge (which records history)."""
        tree = self._write_tree(head, changes)
        if merged is None and head is not None and self.commit_info(head).tree_id == tree:
            return None
        return self._write_commit(tree, head, author, message, merged, committer)

    def advance(self, step: Callable[[str | None], str | None]) -> str | None:
        """Move `main` to the commit `step(head)` names (None: leave it); retry on a lost race.

        `step` runs under the writer lock, again with the new head whenever another
        writer moved `main` first. Returns where main went, or None."""
        with write_failures(), self._writer():
            vanished, attempt, deadline = 0, 0, time.monotonic() + PUBLISH_SECONDS
            while time.monotonic() < deadline:
                attempt += 1
                head = self.head()
                try:
                    new = step(head)
                except OSError as exc:
                    vanished += 1
                    if vanished > 3 or not folder_vanished(exc):
                        raise
                    continue
                if new is None or new == head or self._main.move(self.git, new, head):
                    return new
                time.sleep(min(0.001 * attempt, 0.02))
        raise RefContention(N_("refs/heads/main kept moving; try again"))

    @contextmanager
    def _writer(self) -> Iterator[None]:
        """One cowiki writer at a time, across threads and worker processes.

        Correctness rests on the CAS alone; this lock only stops concurrent saves
        from building commits that are bound to lose the race and be rebuilt
        (under load most of the work was thrown away). Re-entrant per thread, so
        a build that commits itself still works; `git receive-pack` does not take
        it and is still caught by the CAS.
        """
        with self._thread_lock:
            if self._lock_depth:
                self._lock_depth += 1
                try:
                    yield
                finally:
                    self._lock_depth -= 1
                return
            with open(self.path / WRITER_LOCK, "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
                self._lock_depth = 1
                try:
                    yield
                finally:
                    self._lock_depth = 0

    def _write_tree(self, head: str | None, changes: Changes | Blobs) -> pygit2.Oid:
        """The head's tree with `changes` applied, rewriting only the trees on changed paths.

        Untouched folders keep their tree ids, so a save writes a blob and the few
        trees above it instead of re-hashing (and re-checking) every tree in the wiki.
        Each rewritten tree is its old bytes with the changed entries spliced in
        (`storage/treesplice.py`): a large folder is not parsed and sorted again.
        """
        root = self.commit_info(head).tree_id if head is not None else None
        tree = self._apply(root, _nest(changes))
        return self._trees.write(TreeEdit()) if tree is None else tree  # None: the empty tree

    def _apply(self, tree: pygit2.Oid | None, changes: NestedChanges) -> pygit2.Oid | None:
        """Write `tree` with nested changes applied; None when the result is empty."""
        folder = self._trees.read(tree) if tree is not None else TreeEdit()
        for name, change in changes.items():
            if isinstance(change, dict):
                entry = folder.get(name)
                sub = entry[1] if entry is not None and entry[0] == TREE_MODE else None
                written = self._apply(sub, change)
                if written is not None:
                    folder.put(name, TREE_MODE, written)
                else:
                    folder.remove(name)
            elif change is None:
                folder.remove(name)
            else:
                blob = change if isinstance(change, pygit2.Oid) else self.write_blob(change)
                folder.put(name, BLOB_MODE, blob)
        return self._trees.write(folder) if len(folder) else None

    def _write_commit(self, tree: pygit2.Oid, parent: str | None, author: Person, message: str,
                      merged: str | None = None, committer: Person | None = None) -> str:
        now, offset, by = int(time.time()), _utc_offset_minutes(), committer or self.committer
        who = pygit2.Signature(author.name, author.email, now, offset)
        server = pygit2.Signature(by.name, by.email, now, offset)
        parents = [str(self.commit_info(p).id) for p in (parent, merged) if p is not None]
        text = message.strip() + "\n" if message.strip() else "Edit\n"
        # Not `create_commit`: pygit2 reads and parses the new tree (2 ms for a 400 KB folder).
        data = commit_object(tree, parents, who, server, text)
        return str(self._trees.loose.commit(data))

def folder_vanished(exc: OSError) -> bool:
    """True when libgit2 lost a race with `git gc`: it made objects/xx/ for a new object,
    then `git prune-packed` removed the still-empty folder before the object was renamed
    into it. Writing the objects again is safe: nothing was published."""
    text = str(exc)
    return "failed to rename lockfile" in text and "No such file or directory" in text


@contextmanager
def write_failures() -> Iterator[None]:
    """Report a failed object write as RepositoryWriteFailed; the ref is untouched then.

    The message names the likely causes; the raw text (libgit2 often loses the
    errno: "no error") is kept in `detail` for the log, not shown to people.
    """
    try:
        yield
    except (pygit2.GitError, OSError) as exc:
        detail = str(exc) if str(exc) not in ("", "no error") else "a write failed"
        raise RepositoryWriteFailed(
            N_("the wiki could not write its files: the disk may be full or read-only. "
               "Nothing was saved."), detail=detail) from exc


def _nest(changes: Changes | Blobs) -> NestedChanges:
    """{"a/b.md": x} as {"a": {"b.md": x}}, so each folder's tree is rewritten once."""
    nested: NestedChanges = {}
    for path, data in changes.items():
        folder = nested
        *parents, leaf = path.split("/")
        for part in parents:
            child = folder.get(part)
            if not isinstance(child, dict):
                child = folder[part] = {}
            folder = child
        folder[leaf] = data
    return nested


def _utc_offset_minutes() -> int:
    return -(time.altzone if time.localtime().tm_isdst > 0 else time.timezone) // 60
