"""A root of many wikis (`cowiki --root DIR serve`): its layout and each wiki's settings.

ROOT/<slug>/ is one wiki's data dir, exactly what `cowiki --data DIR init` makes
(its own bare repository, index, exports, SQLite database and secret key), and
the wiki answers at /w/<slug>/. Nothing else is shared between the wikis: each
has its own accounts, locks, background threads and live process. With a
PostgreSQL COWIKI_DATABASE_URL the wikis share that database, each in a schema
of its own (wiki_<slug>). No Flask here:
the server's master imports this module too.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from storage.errors import InvalidPageName
from storage.names import validate_slug
from wiki.config import ENV_PREFIX, Settings
from wiki.dbdialect import schema_url

PREFIX = "/w/"
REPOSITORY = "repo.git"
MOVING = "moving.json"  # in ROOT/<slug>/ while `move-wiki` moves that wiki to another node


def url_prefix(slug: str) -> str:
    """The path a wiki answers under: /w/<slug>."""
    return PREFIX + validate_slug(slug)


def wiki_dir(root: Path, slug: str) -> Path:
    """The data dir of wiki `slug` (validated: never a path outside the root)."""
    return Path(root).absolute() / validate_slug(slug)


def slugs(root: Path) -> list[str]:
    """The wikis in `root`: folders named as slugs (anything else there is left alone)."""
    found = []
    for entry in sorted(Path(root).iterdir()) if Path(root).is_dir() else ():
        try:
            slug = validate_slug(entry.name)
        except InvalidPageName:
            continue
        if entry.is_dir():
            found.append(slug)
    return found


def wiki_overrides(root: Path, slug: str, settings: Settings) -> dict[str, str]:
    """The settings that differ per wiki, as create_app config (strings).

    A configured secret key (COWIKI_SECRET_KEY) is not shared as it is: each wiki
    signs its sessions and live tickets with its own key derived from it, so a
    cookie or ticket from one wiki is worthless in another. Without one, each
    wiki keeps its own generated DIR/secret_key.
    """
    prefix = url_prefix(slug)
    overrides = {"data_dir": str(wiki_dir(root, slug)), "url_prefix": prefix}
    if settings.secret_key:
        overrides["secret_key"] = hmac.new(settings.secret_key.encode(),
                                           b"cowiki wiki " + slug.encode(),
                                           hashlib.sha256).hexdigest()
    if settings.base_url:
        overrides["base_url"] = settings.base_url.rstrip("/") + prefix
    if settings.database_url:
        # One PostgreSQL database for the whole root: each wiki's tables in a schema of
        # its own. (A SQLite URL cannot be shared: each wiki keeps its own file.)
        shared = schema_url(settings.database_url, "wiki_" + slug)
        overrides["database_url"] = "" if shared == settings.database_url else shared
    return overrides


def wiki_settings(root: Path, slug: str, settings: Settings) -> Settings:
    """The full settings of wiki `slug`: the environment's, with its own overrides."""
    return Settings.load(wiki_overrides(root, slug, settings))


def wiki_environment(root: Path, slug: str, settings: Settings) -> dict[str, str]:
    """The overrides as COWIKI_* variables, for a process of this wiki (its live process)."""
    return {ENV_PREFIX + key.upper(): value
            for key, value in wiki_overrides(root, slug, settings).items()}


def is_wiki(root: Path, slug: str) -> bool:
    """True when `slug` names a wiki folder in `root` (damaged or not)."""
    try:
        return wiki_dir(root, slug).is_dir()
    except InvalidPageName:
        return False
