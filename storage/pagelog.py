"""The first-parent history of `main` as plain values, read in one git call: for caches of git.

`first_parent_log` answers what `git log --first-parent --raw --numstat -M`
says about every commit after `since` up to `head`, oldest first: author,
committer, message, the files each commit changed against its first parent
(with git's own rename detection, the same `-M` that `git log` and `git
diff-tree -M` use) and the lines it added and removed. A cache built from
these answers gives the same history as git, because git computed it.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from storage.gitcmd import GitFailed, run_git

RECORD = "\x1e"
UNIT = "\x1f"
FORMAT = f"--format={RECORD}%H %P{UNIT}%an{UNIT}%ae{UNIT}%at{UNIT}%cn{UNIT}%ce{UNIT}%B{UNIT}"
LOG_TIMEOUT = 1800.0  # a first build reads the whole history


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


def _parse(record: str) -> LoggedCommit:
    parts = record.split(UNIT)
    ids, author, email, stamp, committer, committer_email = parts[:6]
    revision, *parents = ids.split()
    changes: list[RawChange] = []
    added = removed = 0
    for line in parts[-1].splitlines():
        if line.startswith(":"):
            changes.append(_raw_change(line))
            continue
        fields = line.split("\t")
        if len(fields) >= 3 and fields[0].isdigit() and fields[1].isdigit():
            added += int(fields[0])
            removed += int(fields[1])
    return LoggedCommit(revision, tuple(parents), author, email, int(stamp), committer,
                        committer_email, UNIT.join(parts[6:-1]).strip(), tuple(changes),
                        added, removed)


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
