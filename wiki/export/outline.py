"""The whitepaper's outline: title, subtitle, authorship line and ordered chapter pages.

It lives in the repository as `outline.json` at the root, so it is versioned
with the pages it orders and a frozen version carries its own outline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from storage.errors import InvalidPageName
from storage.names import normalize_page_name, page_file, page_name_from_file
from storage.repository import Person, Repository
from wiki.changes import Change, ChangeDoor, Kind, Origin
from wiki.errors import N_, InvalidInput
from wiki.wikilang import ENGLISH, WikiLanguage

OUTLINE_FILE = "outline.json"
MAX_TEXT = 300
MAX_PAGES = 2000
LANGUAGES = ("nl", "en")
MAX_UNORDERED_CHAPTERS = 40  # without an outline, the sidebar lists a small wiki's pages


@dataclass(frozen=True)
class Outline:
    """What the facilitator decided the whitepaper is."""

    title: str = "Whitepaper"
    subtitle: str = ""
    authors: str = ""
    pages: tuple[str, ...] = field(default=())
    lang: str = "nl"

    def to_json(self) -> dict[str, Any]:
        """The API's (and the file's) JSON shape."""
        return {"title": self.title, "subtitle": self.subtitle, "authors": self.authors,
                "pages": list(self.pages), "lang": self.lang}


def parse(data: object, default_lang: str = "nl") -> Outline:
    """Validate an outline from JSON; every page path goes through storage/names.py.

    Without a `lang`, the outline is in `default_lang` (the wiki's language).

    Raises:
        InvalidInput: a field is missing, of the wrong type, too long, or repeated.
        InvalidPageName: a page path breaks the naming rules.
    """
    if not isinstance(data, dict):
        raise InvalidInput(N_("the outline must be a JSON object"))
    title = _text(data, "title", required=True)
    if not title.strip():
        raise InvalidInput(N_("the outline needs a title"))
    pages = data.get("pages", [])
    if not isinstance(pages, list) or len(pages) > MAX_PAGES:
        raise InvalidInput(N_("'pages' must be a list of at most {count} page paths"),
                           count=MAX_PAGES)
    names: list[str] = []
    for raw in pages:
        if not isinstance(raw, str):
            raise InvalidInput(N_("every entry of 'pages' must be a page path"))
        name = normalize_page_name(raw.removesuffix(".md"))
        if name.casefold() in (n.casefold() for n in names):
            raise InvalidInput(N_("'{name}' is listed twice"), name=name)
        names.append(name)
    lang = _text(data, "lang") or default_lang
    if lang not in LANGUAGES:
        raise InvalidInput(N_("'lang' must be one of {languages}"),
                           languages=", ".join(LANGUAGES))
    return Outline(title.strip(), _text(data, "subtitle").strip(),
                   _text(data, "authors").strip(), tuple(names), lang)


def _text(data: dict[str, Any], key: str, required: bool = False) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise InvalidInput(N_("'{key}' must be text of at most {count} characters"), key=key,
                           count=MAX_TEXT)
    return " ".join(value.split())


def load(repo: Repository, commit: str | None, default_title: str = "Whitepaper",
         default_lang: str = "nl") -> Outline:
    """The outline at `commit`; without an outline file, every page in name order.

    An outline that names no language is in `default_lang` (the wiki's language).
    """
    raw = repo.read(commit, OUTLINE_FILE)
    if raw is not None:
        try:
            return parse(json.loads(raw.decode("utf-8")), default_lang)
        except (ValueError, InvalidInput, InvalidPageName):
            pass  # a broken file (pushed by hand) falls back to the default outline
    names = sorted((n for e in repo.files(commit) if (n := page_name_from_file(e.path))),
                   key=str.casefold)
    return Outline(title=default_title, pages=tuple(names), lang=default_lang)


def existing_pages(repo: Repository, commit: str | None, outline: Outline) -> list[str]:
    """The outline's pages that exist at `commit`, in outline order."""
    return [n for n in outline.pages if repo.blob_id(commit, page_file(n)) is not None]


def missing_pages(repo: Repository, commit: str | None, outline: Outline) -> list[str]:
    """The outline's pages that do not exist at `commit` (an export leaves them out)."""
    found = set(existing_pages(repo, commit, outline))
    return [n for n in outline.pages if n not in found]


def save(repo: Repository, outline: Outline, author: Person, door: ChangeDoor,
         origin: Origin, language: WikiLanguage = ENGLISH) -> str | None:
    """Commit the outline as `outline.json` by `author`; None when nothing changed.

    The commit message is in the wiki's `language`.
    """
    change = Change(Kind.OUTLINE, (OUTLINE_FILE,), author, origin.account, via=origin.via)
    door.check(change)
    data = (json.dumps(outline.to_json(), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    commit = repo.commit(lambda _head: {OUTLINE_FILE: data}, author,
                         language.commit_message("outline"))
    if commit:
        door.publish(change.committed(commit))
    return commit


def move(pages: tuple[str, ...], index: int, step: int) -> tuple[str, ...]:
    """The page list with the page at `index` moved `step` places (clamped)."""
    if not 0 <= index < len(pages):
        return pages
    items = list(pages)
    item = items.pop(index)
    items.insert(max(0, min(len(items), index + step)), item)
    return tuple(items)


def arrange(entries: list[tuple[str, str]], removed: set[str], added: str = "") -> tuple[str, ...]:
    """The page order from the outline form: (page, position) pairs, removals, one addition.

    Positions are numbers typed by the facilitator (or set by drag and drop);
    a blank or unreadable position keeps the page where it was.
    """
    keyed = []
    for index, (name, position) in enumerate(entries):
        if name in removed:
            continue
        try:
            rank = float(position)
        except ValueError:
            rank = index + 1.0
        keyed.append((rank, index, name))
    pages = [name for _, _, name in sorted(keyed)]
    if added and added not in pages:
        pages.append(added)
    return tuple(pages)


def chapters(repo: Repository, commit: str | None,
             titles: dict[str, str]) -> list[tuple[str, str]]:
    """(name, title) of the whitepaper's chapters for the sidebar, in outline order.

    `titles` maps every existing page to its title. Without an outline file a
    small wiki lists all its pages by name (cheaper than `load`, which lists the
    tree); a large one lists none, since hundreds of links guide nobody.
    """
    if repo.read(commit, OUTLINE_FILE) is None:
        if len(titles) > MAX_UNORDERED_CHAPTERS:
            return []
        return sorted(titles.items(), key=lambda item: item[0].casefold())
    return [(name, titles[name]) for name in load(repo, commit).pages if name in titles]
