"""History questions answered by the git command line: log, blame, contributors.

git's own log and blame use the commit-graph and its changed-path (Bloom)
filters, which keeps long histories fast; `storage.gitcmd.run_git` runs the
commands. Every call puts `--end-of-options` before revisions and `--` before
paths, and revisions reach this module only after `names.validate_revision`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from storage.gitcmd import DEFAULT_TIMEOUT, GitFailed, run_git
from storage.loose import remove_stale_spares
from storage.names import validate_revision
from storage.repository import MAIN_REF

RECORD = "\x1e"
UNIT = "\x1f"
MAX_RENAMES = 50  # renames followed back through one page's history
MAINTAIN_TIMEOUT = 3600.0
# Loose objects packed once they take this much room, however few they are (see `maintain`).
LOOSE_PACK_BYTES = 64 * 1024 * 1024
LOG_FORMAT = f"--format={RECORD}%H{UNIT}%an{UNIT}%ae{UNIT}%at{UNIT}%cn{UNIT}%ce{UNIT}%B{UNIT}"


@dataclass(frozen=True)
class FileChange:
    """One file changed by a commit: git's status letter and the paths."""

    status: str
    path: str
    old_path: str | None = None


@dataclass(frozen=True)
class LogEntry:
    """A commit as the history views show it."""

    revision: str
    author: str
    email: str
    date: datetime
    committer: str
    committer_email: str
    message: str
    changes: tuple[FileChange, ...] = field(default=())

    @property
    def subject(self) -> str:
        """First line of the message."""
        return self.message.split("\n", 1)[0]


@dataclass(frozen=True)
class BlameLine:
    """One line of a file with the commit and author that last changed it."""

    line: int
    text: str
    revision: str
    author: str
    email: str
    date: datetime
    summary: str


@dataclass(frozen=True)
class Contribution:
    """Commit and line counts of one author over the whole history."""

    name: str
    email: str
    commits: int
    lines_added: int
    lines_removed: int


class History:
    """Read-only history queries on the bare repository."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def _run(self, *args: str, timeout: float = DEFAULT_TIMEOUT) -> str:
        """git's output as text; raises GitFailed (with git's stderr) on an error."""
        return run_git("-c", "core.quotePath=false", *args, git_dir=self.path,
                       timeout=timeout).text

    def log(self, path: str | None = None, limit: int = 100, skip: int = 0,
            rev: str = MAIN_REF, author_email: str | None = None) -> list[LogEntry]:
        """Commits newest first; for a path, following its renames; optionally by one author."""
        if path is not None and author_email is None:
            return self._follow(path, limit, skip, rev)
        args = ["log", LOG_FORMAT, "--name-status", f"--max-count={limit}", f"--skip={skip}"]
        if path is not None:
            args.append("--follow")
        if author_email is not None:
            # A literal, case-insensitive match on the author's "<email>" (not a regex).
            args += ["--fixed-strings", "--regexp-ignore-case", f"--author=<{author_email}>"]
        args += ["--end-of-options", rev]
        if path is not None:
            args += ["--", path]
        try:
            return _parse_log(self._run(*args))
        except GitFailed:
            return []

    def _follow(self, path: str, limit: int, skip: int, rev: str) -> list[LogEntry]:
        """`git log --follow` done by hand, so the changed-path filters still apply.

        `--follow` makes git look for renames in every commit it walks, which
        switches the Bloom filters off (4x slower on a long history). Instead,
        walk the path's commits with the filters, and only where the file was
        added ask that one commit whether it was a rename; if so, go on from its
        parent under the old name.
        """
        wanted, entries = skip + limit, list[LogEntry]()
        for _ in range(MAX_RENAMES):
            try:
                found = _parse_log(self._run(
                    "log", LOG_FORMAT, "--name-status", f"--max-count={wanted - len(entries)}",
                    "--end-of-options", rev, "--", path))
            except GitFailed:
                break
            entries += found
            if len(entries) >= wanted or not found:
                break
            oldest = found[-1]
            added = any(c.status == "A" and c.path == path for c in oldest.changes)
            old_path = self._renamed_from(oldest.revision, path) if added else None
            if old_path is None:
                break
            entries[-1] = replace(oldest, changes=tuple(
                FileChange("R", path, old_path) if c.path == path else c for c in oldest.changes))
            path, rev = old_path, f"{oldest.revision}^"
        return entries[skip:wanted]

    def _renamed_from(self, revision: str, path: str) -> str | None:
        """The path `path` had before `revision` renamed it, or None if it was new."""
        try:
            out = self._run("diff-tree", "-r", "-M", "--name-status", "--no-commit-id",
                            "--root", "--end-of-options", revision)
        except GitFailed:
            return None
        return next((c.old_path for c in _parse_name_status(out)
                     if c.status == "R" and c.path == path), None)

    def last_change(self, path: str, rev: str = MAIN_REF) -> LogEntry | None:
        """The newest commit that touched `path` (no rename following needed)."""
        try:
            out = self._run("log", LOG_FORMAT, "--max-count=1", "--end-of-options", rev,
                            "--", path)
        except GitFailed:
            return None
        entries = _parse_log(out)
        return entries[0] if entries else None

    def blame(self, rev: str, path: str) -> list[BlameLine]:
        """Author of every line of `path` at `rev` (a full commit id)."""
        # git 2.39's blame does not accept --end-of-options; `rev` is a validated
        # hex id (never an option) and the path follows `--`.
        out = self._run("blame", "--porcelain", validate_revision(rev), "--", path)
        return _parse_blame(out)

    def contributions(self, rev: str = MAIN_REF) -> list[Contribution]:
        """Every author's commits and added/removed lines, most commits first."""
        try:
            out = self._run("log", "--no-merges", f"--format={RECORD}%an{UNIT}%ae",
                            "--numstat", "--end-of-options", rev)
        except GitFailed:
            return []
        totals: dict[str, list[int]] = {}
        names: dict[str, str] = {}
        for record in out.split(RECORD)[1:]:
            head, _, body = record.partition("\n")
            name, _, email = head.partition(UNIT)
            key = email.lower() or name
            names.setdefault(key, name)
            stats = totals.setdefault(key, [0, 0, 0])
            stats[0] += 1
            for line in body.splitlines():
                added, _, rest = line.partition("\t")
                removed = rest.partition("\t")[0]
                if added.isdigit() and removed.isdigit():
                    stats[1] += int(added)
                    stats[2] += int(removed)
        result = [Contribution(names[k], k, s[0], s[1], s[2]) for k, s in totals.items()]
        return sorted(result, key=lambda c: (-c.commits, -c.lines_added, c.name))

    def maintain(self) -> None:
        """Housekeeping: refresh the commit-graph with changed-path filters, gc if due,
        pack loose objects that take much room, and remove the spare object files of
        processes that have ended.

        `git gc --auto` counts loose objects (2,000), not their size. In a folder of
        10,000 pages every save writes the folder's 400 KB tree: some 670 saves and
        270 MB of loose trees between two packs, and page views slowed as they piled
        up. So loose objects are also packed once they pass LOOSE_PACK_BYTES, as `git
        gc --auto` would pack them (`git repack -d -l`: a new pack of the loose
        objects that are reachable; the rest wait for gc's own pruning)."""
        remove_stale_spares(self.path / "objects")
        self._run("commit-graph", "write", "--reachable", "--changed-paths", "--split",
                  timeout=MAINTAIN_TIMEOUT)
        self._run("gc", "--auto", "--quiet", timeout=MAINTAIN_TIMEOUT)
        if self.loose_bytes() > LOOSE_PACK_BYTES:
            self._run("repack", "-d", "-l", "-q", timeout=MAINTAIN_TIMEOUT)

    def loose_bytes(self) -> int:
        """The disk space the loose objects take (`git count-objects`)."""
        for line in self._run("count-objects", "-v").splitlines():
            key, _, value = line.partition(":")
            if key == "size":
                return int(value) * 1024
        return 0


def _parse_log(out: str) -> list[LogEntry]:
    entries = []
    for record in out.split(RECORD)[1:]:
        parts = record.split(UNIT)
        if len(parts) < 8:
            continue
        revision, author, email, stamp, committer, committer_email = parts[:6]
        message = UNIT.join(parts[6:-1])
        entries.append(
            LogEntry(
                revision=revision,
                author=author,
                email=email,
                date=datetime.fromtimestamp(int(stamp), UTC),
                committer=committer,
                committer_email=committer_email,
                message=message.strip(),
                changes=_parse_name_status(parts[-1]),
            )
        )
    return entries


def _parse_name_status(text: str) -> tuple[FileChange, ...]:
    changes = []
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) < 2 or not fields[0]:
            continue
        status = fields[0][0]
        if status in "RC" and len(fields) >= 3:
            changes.append(FileChange(status, fields[2], fields[1]))
        else:
            changes.append(FileChange(status, fields[1]))
    return tuple(changes)


def _parse_blame(out: str) -> list[BlameLine]:
    commits: dict[str, dict[str, str]] = {}
    lines: list[BlameLine] = []
    current: dict[str, str] = {}
    revision = ""
    final_line = 0
    for raw in out.split("\n"):
        if raw.startswith("\t"):
            info = commits.setdefault(revision, current)
            lines.append(
                BlameLine(
                    line=final_line,
                    text=raw[1:],
                    revision=revision,
                    author=info.get("author", ""),
                    email=info.get("author-mail", "").strip("<>"),
                    date=datetime.fromtimestamp(int(info.get("author-time", "0")), UTC),
                    summary=info.get("summary", ""),
                )
            )
            continue
        fields = raw.split(" ")
        if len(fields) >= 3 and len(fields[0]) == 40 and all(
            c in "0123456789abcdef" for c in fields[0]
        ):
            revision = fields[0]
            final_line = int(fields[2])
            current = commits.get(revision, {})
            commits[revision] = current
        elif fields and fields[0]:
            current[fields[0]] = " ".join(fields[1:])
    return lines
