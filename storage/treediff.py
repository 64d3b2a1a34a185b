"""What changed between two trees, and who last changed a file: the one tree diff.

The search indexer (catching up from the commit it reflects), the push
checks (every new commit against its first parent) and the "last changed
by" walk all ask the same question of libgit2, here, in-process: no git
process per commit. Answers are plain values with hex ids and git's
numeric file modes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import pygit2

from storage.repository import Person

MODE_BLOB = int(pygit2.enums.FileMode.BLOB)  # 0o100644
MODE_EXECUTABLE = int(pygit2.enums.FileMode.BLOB_EXECUTABLE)  # 0o100755
MODE_LINK = int(pygit2.enums.FileMode.LINK)  # 0o120000
MODE_SUBMODULE = int(pygit2.enums.FileMode.COMMIT)  # 0o160000
MODE_TREE = int(pygit2.enums.FileMode.TREE)  # 0o040000


class GitHandle(Protocol):
    """Anything with a libgit2 handle: `storage.repository.Repository`, an incoming push."""

    @property
    def git(self) -> pygit2.Repository:
        """The libgit2 repository (used only inside storage/)."""
        ...


@dataclass(frozen=True)
class TreeChange:
    """One file that differs: git's status letter (A, M, D, T), its new blob and mode.

    A deleted file has the all-zero blob id and mode 0.
    """

    path: str
    status: str
    blob: str
    mode: int

    @property
    def deleted(self) -> bool:
        """True when the file is gone in the newer tree."""
        return self.status == "D"


def diff_commits(source: GitHandle, old: str | None, new: str) -> list[TreeChange]:
    """Files that differ between the trees of commits `old` (None: empty tree) and `new`."""
    return _diff(None if old is None else commit_tree(source, old), commit_tree(source, new))


def commit_changes(source: GitHandle, commit: str) -> list[TreeChange]:
    """Files `commit` changed relative to its first parent (every file for a root commit)."""
    return _first_parent_diff(_commit(source, commit))


def last_changes(source: GitHandle, head: str, paths: Iterable[str],
                 hide: str | None = None) -> dict[str, tuple[Person, datetime]]:
    """Author and date of the newest commit (from `head`, back to `hide`) changing each path.

    Paths no walked commit added or changed are left out.
    """
    wanted = set(paths)
    found: dict[str, tuple[Person, datetime]] = {}
    walker = source.git.walk(pygit2.Oid(hex=head), pygit2.enums.SortMode.TIME)
    if hide is not None:
        walker.hide(pygit2.Oid(hex=hide))
    for commit in walker:
        if not wanted:
            break
        stamp = datetime.fromtimestamp(commit.author.time, UTC)
        for change in _first_parent_diff(commit):
            if change.path in wanted:
                wanted.discard(change.path)
                found[change.path] = (Person(commit.author.name, commit.author.email), stamp)
    return found


def commit_tree(source: GitHandle, commit: str) -> pygit2.Tree:
    """The root tree of a commit (for other storage modules)."""
    return _commit(source, commit).tree


def tree_entry(tree: pygit2.Tree, path: str) -> tuple[str, int] | None:
    """The blob id and file mode at `path` in `tree`, or None when nothing is there."""
    try:
        entry = tree[path]
    except KeyError:
        return None
    return str(entry.id), int(entry.filemode)


def _commit(source: GitHandle, revision: str) -> pygit2.Commit:
    commit = source.git[revision]
    if not isinstance(commit, pygit2.Commit):
        raise ValueError(f"{revision} is not a commit")
    return commit


def _first_parent_diff(commit: pygit2.Commit) -> list[TreeChange]:
    return _diff(commit.parents[0].tree if commit.parents else None, commit.tree)


def _diff(old: pygit2.Tree | None, new: pygit2.Tree) -> list[TreeChange]:
    diff = new.diff_to_tree(swap=True) if old is None else old.diff_to_tree(new)
    changes = []
    for delta in diff.deltas:
        status = delta.status_char()
        file = delta.old_file if status == "D" else delta.new_file
        blob = str(delta.new_file.id)
        changes.append(TreeChange(file.path, status, blob, int(delta.new_file.mode)))
    return changes
