"""The wiki's language: what the wiki itself writes (commit messages, the welcome page, exports).

People read in their own interface language (wiki/views/i18n.py); texts the wiki
writes into git or into a whitepaper are read by everyone, so they are written in
one language per wiki. `COWIKI_LANGUAGE` is the default; a facilitator may change
it on the admin page, and the choice is kept in the database so every worker and
the export processes agree. The English texts are marked with N_ so pybabel puts
them in the same catalogs as the interface (translations/); no flask here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from html import escape
from pathlib import Path

from babel.support import NullTranslations, Translations
from sqlalchemy import select

from storage.errors import N_, fill
from wiki.db import Database
from wiki.dbdialect import upsert
from wiki.dbschema import wiki_settings

__all__ = ["COMMIT_MESSAGES", "ENGLISH", "LANGUAGES", "N_", "WikiLanguage", "footnote_titles",
           "moment", "translate", "translations"]

LANGUAGES = ("en", "nl")
CATALOGS = Path(__file__).resolve().parent.parent / "translations"
SETTING = "language"

# What the wiki writes into git, by key: the English text is the catalog's msgid.
COMMIT_MESSAGES = {
    "create": N_("Create {name}"),
    "update": N_("Update {name}"),
    "delete": N_("Delete {name}"),
    "rename": N_("Rename {name} to {to}"),
    "revert": N_("Restore {name} to the version of {author}, {date} ({revision})"),
    "upload": N_("Upload {name}"),
    "outline": N_("Update the outline"),
    "follow_rename": N_("Follow the rename of {old} to {new}: links and outline"),
    "leave_outline": N_("Remove {name} from the outline"),
    "join_outline": N_("Add {name} to the outline"),
    "import": N_("Import {count} pages from {source}"),
    "import_one": N_("Import one page from {source}"),
    "import_folder": N_("a folder"),
    "init": N_("Create the wiki"),
}


@lru_cache(maxsize=4)
def translations(language: str) -> NullTranslations:
    """The compiled catalog of `language` (English texts pass through unchanged)."""
    if language not in LANGUAGES or language == "en":
        return NullTranslations()
    return Translations.load(str(CATALOGS), [language])


def translate(language: str, text: str, **values: object) -> str:
    """`text` (an English catalog msgid with `{name}` placeholders) in `language`, filled in."""
    return fill(translations(language).gettext(text), values)


# Python-Markdown's footnote backlinks carry an English title (its BACKLINK_TITLE); the
# rendered HTML is cached for readers of both languages, so it is translated when shown.
BACKLINK_TITLE = re.compile(r'title="Jump back to footnote (\d+) in the text"')
BACKLINK_TEXT = N_("Back to footnote {number} in the text")


def footnote_titles(html: str, language: str) -> str:
    """`html` with its footnote backlinks' tooltips in `language`."""
    if "footnote-backref" not in html:
        return html
    return BACKLINK_TITLE.sub(
        lambda m: f'title="{escape(translate(language, BACKLINK_TEXT, number=m.group(1)))}"', html)


def moment(timestamp: float | datetime) -> str:
    """A commit's time as commit messages write it: readable, and unambiguous (UTC)."""
    when = timestamp if isinstance(timestamp, datetime) else datetime.fromtimestamp(timestamp, UTC)
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


class WikiLanguage:
    """The wiki's language: a facilitator's choice in the database, else the configured default.

    Without a database (tests, tools) it is just the default.
    """

    def __init__(self, default: str = "en", db: Database | None = None) -> None:
        self.default = default if default in LANGUAGES else "en"
        self.db = db

    def get(self) -> str:
        """'en' or 'nl'."""
        if self.db is None:
            return self.default
        value = self.db.connect().execute(
            select(wiki_settings.c.value).where(wiki_settings.c.key == SETTING)).scalar()
        return str(value) if value in LANGUAGES else self.default

    def set(self, language: str) -> None:
        """Write from now on in `language` (one of LANGUAGES; the caller validated it)."""
        if self.db is None or language not in LANGUAGES:
            raise ValueError(language)
        with self.db.transaction() as conn:
            conn.execute(upsert(self.db.dialect, wiki_settings,
                                {"key": SETTING, "value": language}, keys=("key",)))

    def text(self, text: str, **values: object) -> str:
        """An English catalog text in the wiki's language."""
        return translate(self.get(), text, **values)

    def commit_message(self, key: str, **values: object) -> str:
        """The commit message of `key` (COMMIT_MESSAGES) in the wiki's language."""
        return self.text(COMMIT_MESSAGES[key], **values)


ENGLISH = WikiLanguage("en")
