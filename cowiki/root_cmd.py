"""Commands for a root of many wikis: `cowiki --root DIR create-wiki SLUG ...` and
`cowiki --root DIR serve` (cowiki/root.py has the layout, cowiki/multi.py the dispatch).

Like every command, a problem (a bad slug, a wiki that exists, a refused
password) exits 2 with one line through cli.main.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

from cowiki import root as wikiroot
from storage.names import validate_slug
from wiki.accounts import Accounts, NotAMember, check_new_account
from wiki.config import Settings
from wiki.datadir import open_data_dir
from wiki.db import open_database
from wiki.errors import InvalidInput

ROOT_COMMANDS = ("serve", "create-wiki", "move-wiki", "placement")


def add_parsers(sub: Any) -> None:
    """Register `create-wiki` on the CLI's subparsers."""
    create = sub.add_parser("create-wiki", help="create a wiki in --root DIR, served at"
                            " /w/SLUG/, with its first facilitator")
    create.add_argument("slug", metavar="SLUG",
                        help="2-40 lower-case letters, digits and '-' (its address /w/SLUG/)")
    create.add_argument("--facilitator", required=True, metavar="NAME")
    create.add_argument("--email", required=True)
    create.add_argument("--password-stdin", action="store_true",
                        help="read the facilitator's password from standard input")


def root_settings(args: argparse.Namespace, settings: Settings) -> Settings:
    """The settings a command runs with under `--root`: create-wiki's are its new wiki's.

    Raises:
        InvalidInput: --root with --data, or with a command for one wiki.
        InvalidPageName: a bad slug.
    """
    if args.data:
        raise InvalidInput("give --data DIR for one wiki or --root DIR for many, not both")
    if args.command not in ROOT_COMMANDS:
        raise InvalidInput(f"--root is for {' and '.join(ROOT_COMMANDS)}; run {args.command}"
                           " on one wiki with --data ROOT/SLUG")
    if args.command == "create-wiki":
        return wikiroot.wiki_settings(Path(args.root), validate_slug(args.slug), settings)
    return settings


def cmd_create_wiki(args: argparse.Namespace, settings: Settings) -> int:
    """Make ROOT/SLUG like `init` does and add its facilitator; nothing is left on failure."""
    from cowiki.cli import read_password  # cli imports this module

    if args.root is None:
        raise InvalidInput("create-wiki needs --root DIR (the folder that holds the wikis)")
    slug = validate_slug(args.slug)
    password = read_password(args.password_stdin)
    folder = Path(settings.data_dir)
    taken = InvalidInput(f"a wiki called {slug!r} exists already in {folder.parent}")
    if folder.exists():
        raise taken
    # Refuse a bad facilitator before anything exists: once the data dir is open, its
    # background work (index, page cache) would keep writing into a folder being removed.
    existing = _has_shared_account(settings, slug, args.facilitator, password)
    if not existing:
        check_new_account(args.facilitator, args.email, "facilitator", password)
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir()  # claims the name: two creators of one slug cannot both succeed
    except FileExistsError:
        raise taken from None
    try:
        accounts = open_data_dir(settings).accounts
        user = accounts.log_in(args.facilitator, password, None, joining="facilitator") \
            if existing else None
        user = user or accounts.add_user(args.facilitator, args.email, "facilitator",
                                         password)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    print(f"Wiki {slug!r} ready in {folder} with facilitator {user.name} <{user.email}>;"
          f" served at {wikiroot.url_prefix(slug)}/ by `cowiki --root {folder.parent} serve`.")
    return 0


def _has_shared_account(settings: Settings, slug: str, name: str, password: str) -> bool:
    """True when the wikis of the root share accounts and `name` has one: this must be
    its password (InvalidInput otherwise). Asked before the wiki's folder exists (its
    schema is made already; a schema left empty by a refused try is used again).

    A schema of that name with members is a wiki already, served by another node of
    the fleet (or set aside here): refused, never taken over.
    """
    if not settings.database_url:
        return False
    db = open_database(settings)
    try:
        db.migrate()
        accounts = Accounts(db)
        if accounts.count():
            raise InvalidInput(f"the database holds a wiki called {slug!r} already (served"
                               " by another node?); pick another name")
        if not accounts.shared:
            return False
        try:
            accounts.log_in(name, password, None)
        except NotAMember:
            return True
        if accounts.has_account(name):
            raise InvalidInput(f"{name} has an account on this server already: give its"
                               " password to make it this wiki's facilitator")
        return False
    finally:
        db.dispose()


COMMANDS = {"create-wiki": cmd_create_wiki}
