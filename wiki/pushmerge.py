"""A push the wiki merges: `git push origin HEAD:refs/for/main`.

A push to `refs/heads/main` must be a fast-forward, and git's client checks
that itself before it sends anything: while people save on the web, main
moves faster than anyone can fetch and push. A push to `refs/for/main` is
handed to us by the proc-receive hook (`cowiki/hooks.py`) after the
pre-receive checks accepted the pushed commits, and lands like a stale web save:

- main is an ancestor of the pushed commit: main moves to it (no merge commit);
- otherwise a three-way merge with the merge base, file by file: what only the
  push changed is taken, what only the wiki changed is kept, and a page (or
  the outline) both changed is merged with `git merge-file` semantics
  (`merge_texts`, the pusher's text as "ours"). Overlaps, a delete against an
  edit and two different versions of an attachment are conflicts: the push
  is refused, naming the files, and main does not change;
- the merged result must still obey the rules (page size, a valid outline, no
  case twins); the merge commit has the pusher as author, the server as
  committer, and main and the pushed commit as parents.

main moves by the repository's compare-and-swap; a web save in between makes
the merge run again on the new head.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from storage.errors import InvalidPageName
from storage.incoming import is_fast_forward, merge_base
from storage.merge import merge_texts
from storage.names import PAGE_SUFFIX
from storage.repository import Changes, Person, Repository
from storage.treediff import TreeChange, diff_commits
from wiki.errors import WikiError
from wiki.export import outline
from wiki.push import PushRefused

TEXT_FILES = (PAGE_SUFFIX,)


@dataclass(frozen=True)
class Landed:
    """Where main went: from `old` to `new`, by a merge commit or by a fast-forward."""

    old: str | None
    new: str
    merged: bool


def land_push(repo: Repository, pushed: str, pusher: Person, max_page_bytes: int) -> Landed:
    """Move main to `pushed` or to a merge of it, or raise PushRefused and leave main alone."""
    outcome: dict[str, Landed] = {}

    def step(head: str | None) -> str | None:
        if head is None or is_fast_forward(repo, head, pushed):
            outcome["landed"] = Landed(head, pushed, False)
            return pushed
        if is_fast_forward(repo, pushed, head):  # already in main: nothing to do
            outcome["landed"] = Landed(head, head, False)
            return head
        base = merge_base(repo, head, pushed)
        if base is None:
            raise PushRefused(["your history has nothing in common with the wiki's;"
                               " clone the wiki again and copy your changes over"])
        changes = merged_changes(repo, base, head, pushed, max_page_bytes)
        merge = repo.write_commit(head, changes, pusher, f"Merge push by {pusher.name}",
                                  merged=pushed)
        assert merge is not None  # a merge commit is always written
        outcome["landed"] = Landed(head, merge, True)
        return merge

    repo.advance(step)
    return outcome["landed"]


def merged_changes(repo: Repository, base: str, head: str, pushed: str,
                   max_page_bytes: int) -> Changes:
    """What to change on `head` to bring in what the push changed since `base`."""
    on_main = {change.path: change for change in diff_commits(repo, base, head)}
    changes: dict[str, bytes | None] = {}
    conflicts: list[str] = []
    for mine in diff_commits(repo, base, pushed):
        theirs = on_main.get(mine.path)
        if theirs is None:
            changes[mine.path] = None if mine.deleted else repo.read_blob(mine.blob)
        elif theirs.blob != mine.blob:
            merged = merge_file(repo, base, mine, theirs)
            if merged is None:
                conflicts.append(mine.path)
            else:
                changes[mine.path] = merged
    if conflicts:
        raise PushRefused([f"{path}: changed both on the wiki and in your push, in the same"
                           " place" for path in conflicts]
                          + ["git pull shows the conflicts; resolve them, commit, and push again"])
    problems = merge_problems(repo, head, changes, max_page_bytes)
    if problems:
        raise PushRefused(problems)
    return changes


def merge_file(repo: Repository, base: str, mine: TreeChange,
               theirs: TreeChange) -> bytes | None:
    """A file both sides changed, merged; None when they conflict."""
    if mine.deleted or theirs.deleted or not is_text_file(mine.path):
        return None
    try:
        base_text = (repo.read(base, mine.path) or b"").decode("utf-8")
        result = merge_texts(base_text, repo.read_blob(mine.blob).decode("utf-8"),
                             repo.read_blob(theirs.blob).decode("utf-8"))
    except UnicodeDecodeError:
        return None
    return result.text.encode("utf-8") if result.clean else None


def is_text_file(path: str) -> bool:
    """Pages and the outline merge line by line; attachments do not."""
    return path.endswith(TEXT_FILES) or path == outline.OUTLINE_FILE


def merge_problems(repo: Repository, head: str, changes: Changes,
                   max_page_bytes: int) -> list[str]:
    """Rules the merged result breaks though each side kept them."""
    problems = []
    for path, data in changes.items():
        if data is None:
            continue
        if len(data) > max_page_bytes and is_text_file(path):
            problems.append(f"{path}: merged with the wiki, it is larger than"
                            f" {max_page_bytes} bytes")
        if path == outline.OUTLINE_FILE:
            try:
                outline.parse(json.loads(data.decode("utf-8")))
            except (ValueError, InvalidPageName, WikiError) as exc:
                problems.append(f"{path}: merged with the wiki, it is not a valid outline: {exc}")
    return problems + case_twins(repo, head, changes)


def case_twins(repo: Repository, head: str, changes: Changes) -> list[str]:
    """Pages the merge adds whose names differ only in case from another page."""
    pages = {entry.path for entry in repo.files(head) if entry.path.endswith(PAGE_SUFFIX)}
    pages = (pages - {p for p, d in changes.items() if d is None}) | {
        p for p, d in changes.items() if d is not None and p.endswith(PAGE_SUFFIX)}
    seen: dict[str, str] = {}
    twins = []
    for path in sorted(pages):
        twin = seen.setdefault(path.casefold(), path)
        if twin != path and (path in changes or twin in changes):
            twins.append(f"{path} and {twin} differ only in case; page names must be unique")
    return twins
