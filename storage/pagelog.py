"""The first-parent history of `main` as plain values: for caches of git.

`first_parent_log` answers what `git log --first-parent --raw --numstat -M`
says about every commit after `since` up to `head`, oldest first: author,
committer, message, the files each commit changed against its first parent
(with git's own rename detection, the same `-M` that `git log` and `git
diff-tree -M` use) and the lines it added and removed. A cache built from
these answers gives the same history as git, because git computed it.

`new_commits` gives the same answer in process (libgit2 tree diffs, no git
process) when a few commits are new (a follow-up commit, a small push); more
(a first build, a large push) are read by one `git log`, faster per commit.
`logged_commit` reads one commit, comparing only the paths the caller knows
it changed (a web save names its page). Where a commit both deletes and adds
files, only git's own `-M` can say which adds are renames, so that one
commit is read with `git diff-tree -M` (as is a file turned into a link:
libgit2 counts no lines for it, git does). `shown_commits` reads commits off
the chain (pushed side branches) as plain `git log` shows them.
"""

from __future__ import annotations

import codecs
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import pygit2

from storage.gitcmd import GitFailed, run_git
from storage.treediff import GitHandle
from storage.treesplice import entry_at

RECORD = "\x1e"
UNIT = "\x1f"
FORMAT = f"--format={RECORD}%H %P{UNIT}%an{UNIT}%ae{UNIT}%at{UNIT}%cn{UNIT}%ce{UNIT}%B{UNIT}"
LOG_TIMEOUT = 1800.0  # a first build reads the whole history
IN_PROCESS_LIMIT = 20  # more new commits than this: one `git log` reads them faster
ARGUMENTS_PER_RUN = 2_000  # commit ids on one `git log --no-walk` command line
ZERO = "0" * 40
TYPECHANGE = pygit2.enums.DiffOption.INCLUDE_TYPECHANGE


@dataclass(frozen=True)
class RawChange:
    """One file a commit changed: git's status letter (A M D T R), path, new blob and mode."""

    status: str
    path: str
    blob: str
    mode: str
    old_path: str | None = None


@dataclass(frozen=True)
class LoggedCommit:
    """A commit on the first-parent chain with its changes against the first parent."""

    revision: str
    parents: tuple[str, ...]
    author: str
    email: str
    time: int
    committer: str
    committer_email: str
    message: str
    changes: tuple[RawChange, ...]
    added: int
    removed: int


class HistoryRewritten(Exception):
    """`since` is no longer on the first-parent chain of the head (or no longer exists)."""


def first_parent_log(git_dir: str, head: str, since: str | None) -> list[LoggedCommit]:
    """Commits after `since` (None: from the root) up to `head`, oldest first.

    Raises HistoryRewritten when `since` is not a first-parent ancestor of
    `head`: the caller then starts again from the root.
    """
    revisions = [head] if since is None else [f"{since}..{head}"]
    try:
        out = run_git("-c", "core.quotePath=false", "log", "--first-parent", "--reverse",
                      "--raw", "--numstat", "-M", "--no-abbrev", FORMAT, git_dir=git_dir,
                      revisions=revisions, timeout=LOG_TIMEOUT).text
    except GitFailed as exc:
        if since is None:
            raise
        raise HistoryRewritten(str(exc)) from exc
    commits = [_parse(record) for record in out.split(RECORD)[1:]]
    if since is not None and (not commits or commits[0].parents[:1] != (since,)):
        raise HistoryRewritten(f"{since} is not a first-parent ancestor of {head}")
    return commits


def new_commits(source: GitHandle, head: str, since: str | None) -> list[LoggedCommit]:
    """What `first_parent_log` answers, read in process when at most IN_PROCESS_LIMIT
    commits are new (else by `git log`). Raises HistoryRewritten like it."""
    chain: list[pygit2.Commit] = []
    commit = _commit(source, head)
    while since is None or str(commit.id) != since:
        if len(chain) == IN_PROCESS_LIMIT:
            return first_parent_log(source.git.path, head, since)
        chain.append(commit)
        if not commit.parents:
            if since is not None:
                raise HistoryRewritten(f"{since} is not a first-parent ancestor of {head}")
            break
        commit = commit.parents[0]
    return [_logged(source, c, None) for c in reversed(chain)]


def shown_commits(source: GitHandle, revisions: Sequence[str]) -> list[LoggedCommit]:
    """Commits off the first-parent chain as plain `git log` shows them, in the order given:
    a commit's changes against its first parent, none for a merge (git lists no files for
    one). Read in process when few, else by `git log --no-walk`."""
    if len(revisions) <= IN_PROCESS_LIMIT:
        return [_logged(source, c, None if len(c.parents) < 2 else ())
                for c in (_commit(source, r) for r in revisions)]
    commits = []
    for start in range(0, len(revisions), ARGUMENTS_PER_RUN):
        out = run_git("-c", "core.quotePath=false", "log", "--no-walk=unsorted", "--raw",
                      "--numstat", "-M", "--no-abbrev", FORMAT, git_dir=source.git.path,
                      revisions=revisions[start:start + ARGUMENTS_PER_RUN],
                      timeout=LOG_TIMEOUT).text
        commits += [_parse(record) for record in out.split(RECORD)[1:]]
    return commits


def logged_commit(source: GitHandle, revision: str,
                  paths: Collection[str] | None = None) -> LoggedCommit:
    """One commit as `first_parent_log` lists it. With `paths`, the caller knows the commit
    changed nothing else against its first parent, and only these are compared."""
    return _logged(source, _commit(source, revision), paths)


def _logged(source: GitHandle, commit: pygit2.Commit,
            paths: Collection[str] | None) -> LoggedCommit:
    parent = commit.parents[0] if commit.parents else None
    if paths is not None:
        changes, added, removed = _path_changes(source, parent, commit, paths)
    else:
        changes, added, removed = _tree_changes(source, parent, commit)
    author, committer = commit.author, commit.committer
    return LoggedCommit(str(commit.id), tuple(str(p) for p in commit.parent_ids), author.name,
                        author.email, author.time, committer.name, committer.email,
                        commit.message.strip(), changes, added, removed)


def _tree_changes(source: GitHandle, parent: pygit2.Commit | None, commit: pygit2.Commit
                  ) -> tuple[tuple[RawChange, ...], int, int]:
    if parent is None:
        diff = commit.tree.diff_to_tree(flags=TYPECHANGE, swap=True)
    else:
        diff = parent.tree.diff_to_tree(commit.tree, flags=TYPECHANGE)
    deltas = list(diff.deltas)
    statuses = {delta.status_char() for delta in deltas}
    if parent is not None and ({"A", "D"} <= statuses or "T" in statuses):
        return _changes_by_git(source, str(parent.id), str(commit.id))
    changes = tuple(RawChange(d.status_char(), (d.old_file if d.status_char() == "D"
                                                else d.new_file).path,
                              str(d.new_file.id), f"{int(d.new_file.mode):06o}")
                    for d in deltas)
    stats = diff.stats
    return changes, stats.insertions, stats.deletions


def _path_changes(source: GitHandle, parent: pygit2.Commit | None, commit: pygit2.Commit,
                  paths: Collection[str]) -> tuple[tuple[RawChange, ...], int, int]:
    changes, added, removed = [], 0, 0
    for path in sorted(paths):
        old = _entry(source, parent.tree_id, path) if parent is not None else None
        new = _entry(source, commit.tree_id, path)
        if old == new:
            continue
        status = "A" if old is None else "D" if new is None else (
            "M" if (old[1] ^ new[1]) & 0o170000 == 0 else "T")
        blob, mode = new if new is not None else (ZERO, 0)
        changes.append(RawChange(status, path, blob, f"{mode:06o}"))
        patch = pygit2.Patch.create_from(_blob(source, old), _blob(source, new))
        _context, plus, minus = patch.line_stats
        added, removed = added + plus, removed + minus
    return tuple(changes), added, removed


def _entry(source: GitHandle, tree: pygit2.Oid, path: str) -> tuple[str, int] | None:
    """Blob id and mode at `path`; the tree a save just wrote is not parsed again."""
    found = entry_at(source.git, tree, path)
    return None if found is None else (str(found[1]), int(found[0]))


def _blob(source: GitHandle, entry: tuple[str, int] | None) -> pygit2.Blob | None:
    blob = None if entry is None else source.git[entry[0]]
    return blob if isinstance(blob, pygit2.Blob) else None


def _changes_by_git(source: GitHandle, parent: str, commit: str
                    ) -> tuple[tuple[RawChange, ...], int, int]:
    out = run_git("-c", "core.quotePath=false", "diff-tree", "-r", "-M", "--raw", "--numstat",
                  "--no-abbrev", git_dir=source.git.path, revisions=[parent, commit]).text
    return _raw_and_numstat(out)


def _commit(source: GitHandle, revision: str) -> pygit2.Commit:
    commit = source.git[revision]
    if not isinstance(commit, pygit2.Commit):
        raise HistoryRewritten(f"{revision} is not a commit")
    return commit


def _parse(record: str) -> LoggedCommit:
    parts = record.split(UNIT)
    ids, author, email, stamp, committer, committer_email = parts[:6]
    revision, *parents = ids.split()
    changes, added, removed = _raw_and_numstat(parts[-1])
    return LoggedCommit(revision, tuple(parents), author, email, int(stamp), committer,
                        committer_email, UNIT.join(parts[6:-1]).strip(), changes,
                        added, removed)


def _raw_and_numstat(text: str) -> tuple[tuple[RawChange, ...], int, int]:
    """git's `--raw` lines as changes, and its `--numstat` lines added up."""
    changes: list[RawChange] = []
    added = removed = 0
    for line in text.splitlines():
        if line.startswith(":"):
            changes.append(_raw_change(line))
            continue
        fields = line.split("\t")
        if len(fields) >= 3 and fields[0].isdigit() and fields[1].isdigit():
            added += int(fields[0])
            removed += int(fields[1])
    return tuple(changes), added, removed


def _raw_change(line: str) -> RawChange:
    """`:100644 100644 <old> <new> R100<TAB>old<TAB>new` as a RawChange."""
    head, *paths = line.split("\t")
    fields = head.split(" ")
    mode, blob, status = fields[1], fields[3], fields[4][0]
    names = [_unquote(p) for p in paths]
    if status in "RC" and len(names) >= 2:
        return RawChange(status, names[1], blob, mode, names[0])
    return RawChange(status, names[0], blob, mode)


def _unquote(path: str) -> str:
    """git's C-style quoting of unusual paths ("a\\tb"), undone."""
    if len(path) < 2 or not (path.startswith('"') and path.endswith('"')):
        return path
    raw = codecs.escape_decode(path[1:-1].encode("utf-8"))[0]
    return bytes(raw).decode("utf-8", errors="replace")
