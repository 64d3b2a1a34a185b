"""The rules a `git push` must obey: the same names, types and sizes as a web save.

Called by the pre-receive hook (`cowiki/hooks.py`) before git moves any ref.
Only `refs/heads/main` may change, only forwards, or (over the web, where
the proc-receive hook merges it: wiki/pushmerge.py) `refs/for/main`; every
new commit in the pushed range (not just the tip) may add or change only valid
`*.md` pages, attachments in `attachments/` and a valid `outline.json`.
Problems are collected and reported together, one line each, so the git
client shows them all at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from storage.errors import InvalidPageName
from storage.incoming import (
    ZERO,
    ChangedEntry,
    IncomingRepo,
    RefUpdate,
    changed_entries,
    changed_paths,
    is_fast_forward,
    merge_base,
    new_commits,
    read_blob,
    tree_paths,
)
from storage.names import ATTACHMENT_DIR, PAGE_SUFFIX, normalize_page_name, page_name_from_file
from storage.repository import MAIN_REF
from storage.treediff import MODE_BLOB, MODE_EXECUTABLE, MODE_LINK, MODE_SUBMODULE
from wiki.attachments import check_content
from wiki.errors import WikiError
from wiki.export import outline

MAX_REPORTED = 20
FORBIDDEN_FILES = frozenset({".gitmodules", ".gitattributes"})
MODE_PROBLEMS = {
    MODE_LINK: "symbolic links are not allowed",
    MODE_SUBMODULE: "submodules are not allowed",
    MODE_EXECUTABLE: "executable files are not allowed (git update-index --chmod=-x FILE)",
}
FETCH_FIRST = "fetch first (git pull), then push again"
# Pushed here, the wiki merges the push with main (wiki/pushmerge.py).
PUSH_MERGE_REF = "refs/for/main"
MERGE_HINT = f"or push with `git push origin HEAD:{PUSH_MERGE_REF}` and the wiki merges it"
SUGGESTION_REFS = "refs/suggestions/"  # written by the wiki only (wiki/suggestions.py)


@dataclass(frozen=True)
class PushLimits:
    """Size limits for one push: per page, per attachment and for all new files together."""

    max_page_bytes: int
    max_attachment_bytes: int
    max_push_bytes: int


def _nothing_frozen(_path: str) -> str | None:
    return None


@dataclass(frozen=True)
class PushPolicy:
    """What this pusher's role allows, as on the web: participants may not change the
    outline (a facilitator's job) nor anything a facilitator froze. The default
    (a facilitator, or a push on the server's own file system) allows both."""

    edit_outline: bool = True
    frozen: Callable[[str], str | None] = _nothing_frozen  # path -> why it is frozen


class PushRefused(WikiError):
    """A push breaks the wiki's rules; `problems` holds one readable line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


def check_push(repo: IncomingRepo, updates: Sequence[RefUpdate], limits: PushLimits,
               current_main: str | None, policy: PushPolicy | None = None,
               merging: bool = False) -> None:
    """Raise PushRefused unless every ref update and every new commit obeys the rules.

    `merging`: a push to PUSH_MERGE_REF will be merged (the proc-receive hook runs).
    """
    problems = [p for u in updates for p in check_ref(repo, u, current_main, merging)]
    if problems:
        raise PushRefused(problems)
    for update in updates:
        base = pushed_base(repo, update, current_main)
        problems += check_commits(repo, new_commits(repo, update.new, base), limits)
        problems += check_role(changed_paths(repo, base, update.new), policy or PushPolicy())
    if problems:
        if len(problems) > MAX_REPORTED:
            problems = [*problems[:MAX_REPORTED], f"... and {len(problems) - MAX_REPORTED} more"]
        raise PushRefused(problems)


def pushed_base(repo: IncomingRepo, update: RefUpdate, current_main: str | None) -> str:
    """Where the pushed work starts: the ref's old value, or for a push to be merged the
    merge base with main (so only the pusher's own changes are checked)."""
    if update.ref != PUSH_MERGE_REF or current_main is None:
        return update.old
    return merge_base(repo, current_main, update.new) or ZERO


def check_ref(repo: IncomingRepo, update: RefUpdate, current_main: str | None,
              merging: bool = False) -> list[str]:
    """Problems with one ref update: wrong ref, deletion, stale base or non-fast-forward."""
    if update.ref == PUSH_MERGE_REF and merging and not update.is_delete:
        if current_main is not None and merge_base(repo, current_main, update.new) is None:
            return [f"{PUSH_MERGE_REF}: your history has nothing in common with the wiki's;"
                    " clone the wiki again and copy your changes over"]
        return []
    if update.ref.startswith(SUGGESTION_REFS):
        return [f"{update.ref}: suggestions are made in the wiki (Suggest in the editor, or"
                " the API); pushes cannot create, change or delete them"]
    if update.ref != MAIN_REF:
        return [f"{update.ref}: only refs/heads/main can be pushed to this wiki"
                f" ({PUSH_MERGE_REF} to have it merged)"]
    if update.is_delete:
        return [f"{MAIN_REF}: deleting the wiki's main branch is not allowed"]
    if update.old != (current_main or ZERO):
        return [f"{MAIN_REF}: someone saved on the server while you pushed; {FETCH_FIRST},"
                f" {MERGE_HINT}"]
    if not is_fast_forward(repo, update.old, update.new):
        return [f"{MAIN_REF}: not a fast-forward (force pushes are refused); {FETCH_FIRST}"]
    return []


def check_commits(repo: IncomingRepo, commits: Sequence[str], limits: PushLimits) -> list[str]:
    """Problems in every commit (hex ids) of a push, each with the commit's short id."""
    problems: list[str] = []
    checked: dict[tuple[str, str, int], str | None] = {}
    sizes: dict[str, int] = {}
    for commit in commits:
        added_page = False
        for entry in changed_entries(repo, commit):
            key = (entry.path, entry.blob, entry.mode)
            if key not in checked:
                checked[key] = check_entry(repo, entry, limits)
            if checked[key] is not None:
                problems.append(f"commit {entry.commit[:10]}: {entry.path}: {checked[key]}")
            sizes[entry.blob] = entry.size
            added_page = added_page or (entry.added and entry.path.endswith(PAGE_SUFFIX))
        if added_page:
            problems += [f"commit {commit[:10]}: {twin}" for twin in case_twins(repo, commit)]
    total = sum(sizes.values())
    if total > limits.max_push_bytes:
        problems.append(f"the push adds {total} bytes, more than the {limits.max_push_bytes}"
                        " allowed at once; push in smaller parts")
    return problems


def check_role(paths: Sequence[str], policy: PushPolicy) -> list[str]:
    """Problems with what the push changes overall, for the pusher's role."""
    problems = []
    for path in paths:
        if path == outline.OUTLINE_FILE and not policy.edit_outline:
            problems.append(f"{path}: only facilitators may change the whitepaper's outline")
        elif (reason := policy.frozen(path)) is not None:
            problems.append(f"{path}: {reason}")
    return problems


def check_entry(repo: IncomingRepo, entry: ChangedEntry, limits: PushLimits) -> str | None:
    """Why a changed file breaks the rules, or None when it is a valid page or attachment."""
    if entry.mode in MODE_PROBLEMS:
        return MODE_PROBLEMS[entry.mode]
    if entry.mode != MODE_BLOB:
        return f"file mode {entry.mode:o} is not allowed"
    if entry.path.rsplit("/", 1)[-1] in FORBIDDEN_FILES:
        return "git attribute and submodule files are not allowed"
    if entry.path.startswith(f"{ATTACHMENT_DIR}/"):
        return _attachment_problem(repo, entry, limits.max_attachment_bytes)
    if entry.path == outline.OUTLINE_FILE:
        return _outline_problem(repo, entry, limits.max_page_bytes)
    return _page_problem(repo, entry, limits.max_page_bytes)


def _attachment_problem(repo: IncomingRepo, entry: ChangedEntry, limit: int) -> str | None:
    name = entry.path[len(ATTACHMENT_DIR) + 1:]
    if "/" in name:
        return f"{ATTACHMENT_DIR}/ has no sub-folders"
    if entry.size > limit:
        return f"attachment is larger than {limit} bytes"
    try:
        check_content(name, read_blob(repo, entry.blob), limit)
    except (InvalidPageName, WikiError) as exc:
        return str(exc)
    return None


def _outline_problem(repo: IncomingRepo, entry: ChangedEntry, limit: int) -> str | None:
    """The whitepaper's outline may be edited by hand, but must stay a valid outline."""
    if entry.size > limit:
        return f"the outline is larger than {limit} bytes"
    try:
        outline.parse(json.loads(read_blob(repo, entry.blob).decode("utf-8")))
    except (ValueError, InvalidPageName, WikiError) as exc:
        return f"not a valid outline: {exc}"
    return None


def _page_problem(repo: IncomingRepo, entry: ChangedEntry, limit: int) -> str | None:
    if not entry.path.endswith(PAGE_SUFFIX):
        return f"only Markdown pages (*{PAGE_SUFFIX}) and files in {ATTACHMENT_DIR}/ are allowed"
    if page_name_from_file(entry.path) is None:
        try:
            normalize_page_name(entry.path[: -len(PAGE_SUFFIX)])
        except InvalidPageName as exc:
            return f"not a valid page name: {exc}"
        return "not a valid page name: use NFC and no spaces around '/' or at the ends"
    if entry.size > limit:
        return f"page is larger than {limit} bytes"
    data = read_blob(repo, entry.blob)
    if b"\x00" in data:
        return "pages are text; this file is binary"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "pages are UTF-8 text; this file is in another encoding"
    return None


def case_twins(repo: IncomingRepo, commit: str) -> Iterator[str]:
    """Pages in the commit's tree whose names differ only in upper/lower case."""
    seen: dict[str, str] = {}
    for path in tree_paths(repo, commit):
        if not path.endswith(PAGE_SUFFIX):
            continue
        folded = path.casefold()
        if folded in seen:
            yield f"{path} and {seen[folded]} differ only in case; page names must be unique"
        seen[folded] = path
