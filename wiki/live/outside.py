"""Changes from outside a live room: what git did to the page since the room last looked.

A push, an API save, a classic save, a revert, a rename or a delete can land in
git while people type in a room. The keeper asks `page_fate` what became of
the page between the revision the room knows and the head, and brings a
changed text into the room with `merged_live_text`: a three-way merge (git's
old text, the live text, git's new text) with `git merge-file` semantics, so
the outside edit lands as an edit and nothing typed live is replaced. Where
both touched the same lines, both versions stay, one after the other, for the
people in the room to settle.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.merge import merge_texts
from storage.names import page_file, page_name_from_file
from wiki.datadir import Services
from wiki.live.rooms import edits

SAME, CHANGED, DELETED, RENAMED = "same", "changed", "deleted", "renamed"


@dataclass(frozen=True)
class PageFate:
    """What happened to a live page in git since the revision a room knows.

    Attributes:
        kind: SAME (the page's text did not change), CHANGED, DELETED or RENAMED.
        revision: the head it was looked at.
        text: the page's text at the head (CHANGED, SAME).
        account: the account of whoever made the change (0 when no account has that email).
        to: the new name (RENAMED).
    """

    kind: str
    revision: str
    text: str = ""
    account: int = 0
    to: str = ""


def page_fate(services: Services, page: str, known_revision: str, known_text: str) -> PageFate:
    """Compare the page at the head with `known_text`, its text at `known_revision`."""
    head = services.repo.head() or ""
    path = page_file(page)
    data = services.repo.read(head, path)
    if data is not None:
        text = data.decode("utf-8", "replace")
        if text == known_text:
            return PageFate(SAME, head, text)
        last = services.history.last_change(path, rev=head)
        return PageFate(CHANGED, head, text, account_of(services, last.email if last else ""))
    # git log finds renames by itself; the newest commit that took the page away tells which.
    for entry in services.history.log(None, limit=200, rev=f"{known_revision}..{head}"):
        for change in entry.changes:
            if change.path == path or change.old_path == path:
                account = account_of(services, entry.email)
                to = page_name_from_file(change.path) if change.status.startswith("R") else None
                if to is not None and change.old_path == path:
                    return PageFate(RENAMED, head, account=account, to=to)
                return PageFate(DELETED, head, account=account)
    return PageFate(DELETED, head)


def account_of(services: Services, email: str) -> int:
    """The id of the account with this email, or 0."""
    wanted = email.casefold()
    return next((user.id for user in services.accounts.all_users()
                 if wanted and user.email.casefold() == wanted), 0)


def merged_live_text(git_old: str, live: str, git_new: str) -> str:
    """The live text with git's change from `git_old` to `git_new` merged in.

    A clean `git merge-file` is the answer. Where it sees an overlap (it also
    refuses changes on neighbouring lines, which is common while people type),
    the two sets of changed spans are merged character by character when they
    do not touch each other; only a real overlap keeps the live version
    followed by git's, so neither side's words are lost.
    """
    result = merge_texts(git_old, live, git_new)
    if result.clean:
        return result.text
    spans = merge_spans(git_old, live, git_new)
    if spans is not None:
        return spans
    return result.resolve(["both"] * len(result.conflicts))


def merge_spans(base: str, ours: str, theirs: str) -> str | None:
    """`base` with both sides' replaced spans applied, or None when two spans overlap.

    Two insertions at one spot keep ours first.
    """
    both = sorted([(start, end, text, 0) for start, end, text in edits(base, ours)]
                  + [(start, end, text, 1) for start, end, text in edits(base, theirs)],
                  key=lambda span: (span[0], span[1], span[3]))
    for (_s1, end1, _t1, _w1), (start2, _e2, _t2, _w2) in zip(both, both[1:], strict=False):
        if start2 < end1:
            return None
    merged = base
    for start, end, text, _who in reversed(both):
        merged = merged[:start] + text + merged[end:]
    return merged


def page_text(services: Services, page: str, revision: str) -> str | None:
    """The page's text at `revision` (None when it did not exist there)."""
    data = services.repo.read(revision, page_file(page))
    return None if data is None else data.decode("utf-8", "replace")
