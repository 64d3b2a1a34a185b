"""What a rename or delete changes elsewhere in the text: the outline and `[[links]]`.

When a page is renamed, every `[[Old name]]` link (any case, with or without
a label) is rewritten to the new name and the outline lists the new name in
the old one's place. When a page is deleted, it leaves the outline. Both are
one follow-up commit by the person who renamed or deleted, so the history
shows who changed what and nothing happens behind anyone's back.
"""

from __future__ import annotations

import json
import re

from storage.errors import InvalidPageName
from storage.names import normalize_page_name, page_file, page_name_from_file
from storage.repository import Repository
from wiki.changes import Change, Kind, Listener
from wiki.export.outline import OUTLINE_FILE
from wiki.wikilang import WikiLanguage

WIKILINK = re.compile(r"\[\[([^\]\[|\n]{1,200})(\|[^\]\[\n]{1,200})?\]\]")


def rewrite_links(text: str, old: str, new: str) -> str:
    """`text` with every wiki link to page `old` (compared ignoring case) pointing at `new`."""
    folded = old.casefold()

    def replace(match: re.Match[str]) -> str:
        try:
            target = normalize_page_name(match.group(1).strip())
        except InvalidPageName:
            return match.group(0)
        if target.casefold() != folded:
            return match.group(0)
        return f"[[{new}{match.group(2) or ''}]]"

    return WIKILINK.sub(replace, text)


def outline_after(raw: bytes | None, old: str, new: str | None) -> bytes | None:
    """The outline file with `old` replaced by `new` (or removed); None if unchanged."""
    if raw is None:
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
        pages = data["pages"]
    except (ValueError, KeyError, TypeError):
        return None  # a broken outline (pushed by hand) is left for a person to mend
    if not isinstance(pages, list):
        return None
    folded = old.casefold()
    moved = [new if isinstance(p, str) and p.removesuffix(".md").casefold() == folded else p
             for p in pages]
    moved = [p for p in moved if p is not None]
    if moved == pages:
        return None
    data["pages"] = moved
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def follow_renames_and_deletes(repo: Repository, language: WikiLanguage) -> Listener:
    """A listener that updates links and the outline after a rename or a delete."""

    def listener(change: Change) -> None:
        if change.kind is Kind.RENAMED:
            old, new = change.pages
            message = language.commit_message("follow_rename", old=old, new=new)
        elif change.kind is Kind.DELETED:
            old, new = change.pages[0], None
            message = language.commit_message("leave_outline", name=old)
        else:
            return

        def build(head: str | None) -> dict[str, bytes | None] | None:
            updates: dict[str, bytes | None] = {}
            outline = outline_after(repo.read(head, OUTLINE_FILE), old, new)
            if outline is not None:
                updates[OUTLINE_FILE] = outline
            if new is not None:
                updates.update(_linking_pages(repo, head, old, new))
            return updates or None

        repo.commit(build, change.author, message)

    return listener


def outline_with(raw: bytes | None, name: str) -> bytes | None:
    """The outline file with page `name` added at the end; None if unchanged or no outline."""
    if raw is None:
        return None  # no outline yet: the default lists every page already
    try:
        data = json.loads(raw.decode("utf-8"))
        pages = data["pages"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(pages, list) or name.casefold() in (
            p.removesuffix(".md").casefold() for p in pages if isinstance(p, str)):
        return None
    data["pages"] = [*pages, name]
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def new_pages_join_the_outline(repo: Repository, language: WikiLanguage) -> Listener:
    """A listener that adds a page created in the wiki to the end of the outline.

    Nobody has to remember to add a chapter for it to reach the whitepaper;
    a facilitator moves or removes it on /export.
    """

    def listener(change: Change) -> None:
        if change.kind is not Kind.CREATED:
            return
        name = change.pages[0]

        def build(head: str | None) -> dict[str, bytes | None] | None:
            if repo.read(head, page_file(name)) is None:
                return None  # deleted again meanwhile
            outline = outline_with(repo.read(head, OUTLINE_FILE), name)
            return None if outline is None else {OUTLINE_FILE: outline}

        repo.commit(build, change.author, language.commit_message("join_outline", name=name))

    return listener


def _linking_pages(repo: Repository, head: str | None, old: str,
                   new: str) -> dict[str, bytes | None]:
    """Pages at `head` whose links to `old` now point at `new`, with their new text."""
    needle = b"[["
    updates: dict[str, bytes | None] = {}
    for entry in repo.files(head):
        if page_name_from_file(entry.path) is None:
            continue
        data = repo.read_blob(entry.blob)
        if needle not in data:
            continue
        text = data.decode("utf-8", errors="replace")
        changed = rewrite_links(text, old, new)
        if changed != text:
            updates[entry.path] = changed.encode("utf-8")
    return updates
