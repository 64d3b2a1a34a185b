"""Chapter templates: a name and Markdown text a new page can start from.

Facilitators keep them; participants start pages from them. They live in git
beside the outline, as `templates.json` at the root of the repository: git
is the source of truth for content, so templates are versioned, backed up and
cloned with the pages, and every change to them is a commit by the facilitator
who made it. The file is not a page (it does not end in `.md`), so the page
list, search and the export never see it; a push may not change it (wiki/push.py
accepts only pages, attachments and the outline), so templates are managed on
the web only.

Until a facilitator changes them, the wiki has one example template in the
wiki's language (from the catalogs, like the welcome page), so `init` makes no
extra commit and an English or Dutch wiki starts with an example in its own
language.

Writes are changes of kind `outline` (the whitepaper's structure, kept by
facilitators), so the change door's checks and listeners follow them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from storage.names import whole_number
from storage.repository import Person, Repository
from wiki.changes import Change, ChangeDoor, Kind, Origin
from wiki.errors import N_, InvalidInput, PageNotFound, PageTooLarge
from wiki.pages import clean_message, clean_text
from wiki.wikilang import WikiLanguage

log = logging.getLogger(__name__)
TEMPLATES_FILE = "templates.json"
MAX_NAME = 120
MAX_TEMPLATES = 100
PLACEHOLDERS = ("{title}", "{name}", "{date}")

# The example every wiki starts with, in its language: name, then the text's lines.
EXAMPLE_NAME = N_("Chapter: problem, approach, result")
EXAMPLE_LINES = (
    N_("## Problem"),
    N_("What is the problem, and for whom does it matter?"),
    N_("## Approach"),
    N_("How did we tackle it, and why this way?"),
    N_("## Result"),
    N_("What came out of it, and what does it mean for the reader?"),
)


@dataclass(frozen=True)
class ChapterTemplate:
    """One template: its number, its name and the Markdown a new page starts with."""

    id: int
    name: str
    markdown: str

    def to_json(self) -> dict[str, object]:
        """The API's (and the file's) JSON shape."""
        return {"id": self.id, "name": self.name, "markdown": self.markdown}


def example(language: WikiLanguage) -> ChapterTemplate:
    """The example template, in the wiki's language."""
    lines = [language.text(line) for line in EXAMPLE_LINES]
    paragraphs = ["# {title}", *lines]
    return ChapterTemplate(1, language.text(EXAMPLE_NAME), "\n\n".join(paragraphs) + "\n")


def fill(markdown: str, name: str, title: str, today: date) -> str:
    """A template's text for a new page: {title}, {name} and {date} filled in.

    Only these three are replaced; any other brace is text, as written.
    """
    values = {"{title}": title, "{name}": name, "{date}": today.isoformat()}
    for placeholder in PLACEHOLDERS:
        markdown = markdown.replace(placeholder, values[placeholder])
    return markdown


def parse(raw: bytes) -> list[ChapterTemplate]:
    """The templates in a `templates.json`; entries that are not a template are left out."""
    try:
        data = json.loads(raw.decode("utf-8"))
        entries = data["templates"]
    except (ValueError, KeyError, TypeError):
        log.warning("%s is not valid; no templates until a facilitator saves one",
                    TEMPLATES_FILE)
        return []
    found = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        number, name, text = whole_number(entry.get("id"), 1), entry.get("name"), entry.get(
            "markdown")
        if number is not None and isinstance(name, str) and isinstance(text, str):
            found.append(ChapterTemplate(number, name, text))
    return found


def serialize(templates: list[ChapterTemplate]) -> bytes:
    """The `templates.json` holding `templates`, readable in a diff."""
    data = {"templates": [t.to_json() for t in templates]}
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


class ChapterTemplates:
    """Read and change the wiki's chapter templates; each change is a commit."""

    def __init__(self, repo: Repository, door: ChangeDoor, language: WikiLanguage,
                 max_bytes: int) -> None:
        self.repo = repo
        self.door = door
        self.language = language
        self.max_bytes = max_bytes  # a template is at most as large as a page

    def all(self) -> list[ChapterTemplate]:
        """Every template, in the order facilitators made them."""
        return self._at(self.repo.head())

    def get(self, template_id: int) -> ChapterTemplate:
        """The template with this number; PageNotFound if there is none."""
        found = next((t for t in self.all() if t.id == template_id), None)
        if found is None:
            raise PageNotFound(N_("template {id}"), id=template_id)
        return found

    def start(self, template_id: int, name: str, title: str) -> str:
        """The text a new page `name` with `title` starts with, from a template."""
        return fill(self.get(template_id).markdown, name, title, date.today())

    def add(self, name: str, markdown: str, author: Person, origin: Origin) -> ChapterTemplate:
        """Add a template; it gets the next free number."""
        name, markdown = self.check(name, markdown)
        made: list[ChapterTemplate] = []

        def change(templates: list[ChapterTemplate]) -> list[ChapterTemplate]:
            if len(templates) >= MAX_TEMPLATES:
                raise InvalidInput(N_("a wiki keeps at most {count} templates"),
                                   count=MAX_TEMPLATES)
            made[:] = [ChapterTemplate(max((t.id for t in templates), default=0) + 1, name,
                                       markdown)]
            return [*templates, made[0]]

        self._write(change, author, origin, N_("Add the template “{name}”"), name)
        return made[0]

    def update(self, template_id: int, name: str, markdown: str, author: Person,
               origin: Origin) -> ChapterTemplate:
        """Change a template's name and text."""
        name, markdown = self.check(name, markdown)
        changed = ChapterTemplate(template_id, name, markdown)

        def change(templates: list[ChapterTemplate]) -> list[ChapterTemplate]:
            self._require(templates, template_id)
            return [changed if t.id == template_id else t for t in templates]

        self._write(change, author, origin, N_("Change the template “{name}”"), name)
        return changed

    def delete(self, template_id: int, author: Person, origin: Origin) -> None:
        """Remove a template (pages started from it keep their text)."""
        name = self.get(template_id).name

        def change(templates: list[ChapterTemplate]) -> list[ChapterTemplate]:
            self._require(templates, template_id)
            return [t for t in templates if t.id != template_id]

        self._write(change, author, origin, N_("Remove the template “{name}”"), name)

    def check(self, name: str, markdown: str) -> tuple[str, str]:
        """A template's name and text, cleaned; InvalidInput or PageTooLarge when unfit."""
        name = " ".join(clean_message(name, "").split())
        if not name:
            raise InvalidInput(N_("give the template a name"))
        if len(name) > MAX_NAME:
            raise InvalidInput(N_("a template's name has at most {count} characters"),
                               count=MAX_NAME)
        markdown = clean_text(markdown)
        if len(markdown.encode("utf-8")) > self.max_bytes:
            raise PageTooLarge(N_("page is larger than {limit} bytes"), limit=self.max_bytes)
        return name, markdown

    def _at(self, head: str | None) -> list[ChapterTemplate]:
        raw = self.repo.read(head, TEMPLATES_FILE) if head else None
        return [example(self.language)] if raw is None else parse(raw)

    @staticmethod
    def _require(templates: list[ChapterTemplate], template_id: int) -> None:
        if not any(t.id == template_id for t in templates):
            raise PageNotFound(N_("template {id}"), id=template_id)

    def _write(self, change: Callable[[list[ChapterTemplate]], list[ChapterTemplate]],
               author: Person, origin: Origin, message: str, name: str) -> None:
        door_change = Change(Kind.OUTLINE, (TEMPLATES_FILE,), author, origin.account,
                             via=origin.via)
        self.door.check(door_change)
        commit = self.repo.commit(
            lambda head: {TEMPLATES_FILE: serialize(change(self._at(head)))}, author,
            self.language.text(message, name=name))
        if commit:
            self.door.publish(door_change.committed(commit))
