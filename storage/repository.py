"""The bare repository: read objects, build commits without a work tree, publish by CAS.

Reads and writes go through libgit2 (pygit2) in-process, which keeps a save
close to the cost of a raw commit. Publishing is a compare-and-swap of
`refs/heads/main` (libgit2 takes the same `main.lock` file as `git update-ref`,
so web workers and `git receive-pack` exclude each other). A lost race makes
the caller rebuild on the new head and try again.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pygit2

from storage.errors import InvalidRevision, RefContention, StorageError
from storage.names import validate_revision

MAIN_REF = "refs/heads/main"
BLOB_MODE = pygit2.enums.FileMode.BLOB
TREE_MODE = pygit2.enums.FileMode.TREE
MAX_PUBLISH_ATTEMPTS = 200

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


# A change set maps repository paths to new bytes, or to None to delete.
Changes = Mapping[str, bytes | None]


class Repository:
    """A bare git repository on disk with `refs/heads/main` as the only branch."""

    def __init__(self, path: str | os.PathLike[str], committer: Person) -> None:
        self.path = Path(path)
        self.committer = committer
        self._local = threading.local()

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
            local.pid = os.getpid()
        repo: pygit2.Repository = local.repo
        return repo

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
            assert isinstance(commit, pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError) as exc:
            raise InvalidRevision(f"no such revision: {rev}") from exc
        return str(commit.id)

    def commit_info(self, revision: str) -> pygit2.Commit:
        """The commit object of a resolved revision."""
        commit = self.git[revision]
        if not isinstance(commit, pygit2.Commit):
            raise InvalidRevision(f"{revision} is not a commit")
        return commit

    def blob_id(self, commit: str | None, path: str) -> str | None:
        """Blob id of `path` in `commit`, or None if absent (or a folder)."""
        if commit is None:
            return None
        try:
            entry = self.commit_info(commit).tree[path]
        except KeyError:
            return None
        if entry.filemode not in (BLOB_MODE, pygit2.enums.FileMode.BLOB_EXECUTABLE):
            return None
        return str(entry.id)

    def read_blob(self, blob_id: str) -> bytes:
        """Contents of a blob."""
        blob = self.git[blob_id]
        if not isinstance(blob, pygit2.Blob):
            raise StorageError(f"{blob_id} is not a blob")
        data: bytes = blob.data
        return data

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

    def commit(
        self,
        build: Callable[[str | None], Changes | None],
        author: Person,
        message: str,
    ) -> str | None:
        """Build a commit on the current head and publish it; retry on a lost race.

        `build(head)` returns the changes to apply on top of `head`; it is called
        again with the new head whenever another writer moved `main` first, so
        merges are always computed against what will really be the parent.
        Returns the new commit id, or None when `build` had nothing to change.
        """
        for attempt in range(MAX_PUBLISH_ATTEMPTS):
            head = self.head()
            changes = build(head)
            if not changes:
                return None
            tree = self._write_tree(head, changes)
            if head is not None and self.commit_info(head).tree_id == tree:
                return None
            new = self._write_commit(tree, head, author, message)
            if self._publish(new, head):
                return new
            time.sleep(min(0.001 * (attempt + 1), 0.02))
        raise RefContention("refs/heads/main kept moving; try again")

    def _write_tree(self, head: str | None, changes: Changes) -> pygit2.Oid:
        repo = self.git
        index = pygit2.Index()
        if head is not None:
            index.read_tree(self.commit_info(head).tree)
        for path, data in changes.items():
            if data is None:
                if path in index:
                    index.remove(path)
            else:
                blob = repo.create_blob(data)
                index.add(pygit2.IndexEntry(path, blob, BLOB_MODE))
        tree: pygit2.Oid = index.write_tree(repo)
        return tree

    def _write_commit(
        self, tree: pygit2.Oid, parent: str | None, author: Person, message: str
    ) -> str:
        now = int(time.time())
        offset = _utc_offset_minutes()
        who = pygit2.Signature(author.name, author.email, now, offset)
        server = pygit2.Signature(self.committer.name, self.committer.email, now, offset)
        parents = [] if parent is None else [parent]
        text = message.strip() + "\n" if message.strip() else "Edit\n"
        return str(self.git.create_commit(None, who, server, text, tree, parents))

    def _publish(self, new: str, old: str | None) -> bool:
        """Compare-and-swap `main` from `old` to `new`; False if someone else won."""
        repo = self.git
        try:
            if old is None:
                repo.references.create(MAIN_REF, new, force=False)
            else:
                ref = repo.references[MAIN_REF]
                if str(ref.target) != old:
                    return False
                ref.set_target(new, "cowiki: save")
        except (pygit2.GitError, pygit2.AlreadyExistsError, KeyError, ValueError):
            # Either the ref moved ("old reference value does not match") or
            # another process holds main.lock; both mean: rebuild and retry.
            return False
        return True


def _utc_offset_minutes() -> int:
    return -(time.altzone if time.localtime().tm_isdst > 0 else time.timezone) // 60
