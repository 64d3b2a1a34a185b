"""The `cowiki` command: init, serve, adduser, token, import (and more as features land).

Bad arguments or input exit 2 with one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import sqlite3
import sys
import tarfile
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from cowiki import account_cmd, dbmove_cmd, docx_cmd, export_cmd, fleet_cmd, ops_cmd, root_cmd
from storage.errors import StorageError
from storage.repository import GIT_FAILURES
from wiki import audit
from wiki.accounts import ROLES
from wiki.changes import Origin
from wiki.config import Settings
from wiki.datadir import Services, open_data_dir
from wiki.db import open_database
from wiki.dbdialect import fault
from wiki.errors import WikiError
from wiki.importer import import_tree

Command = Callable[[argparse.Namespace, Settings], int]
AUDIT_LOG = "audit.log"


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line and exits 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class UserError(Exception):
    """A problem with the user's input; printed as one line, exit 2."""


def build_parser() -> Parser:
    """The argument parser for every subcommand."""
    parser = Parser(prog="cowiki", description="A wiki for co-authoring a whitepaper in git.")
    parser.add_argument("--data", default=None, metavar="DIR",
                        help="data directory (default ./wiki-data or $COWIKI_DATA_DIR)")
    parser.add_argument("--root", default=None, metavar="DIR",
                        help="a folder of many wikis, one data directory each (serve,"
                             " create-wiki, move-wiki, placement)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    sub.add_parser("init", help="create the data directory")
    serve = sub.add_parser("serve", help="run the wiki with gunicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument("--threads", type=int, default=4)
    add = sub.add_parser("adduser", help="create an account")
    add.add_argument("name")
    add.add_argument("--email", required=True)
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from standard input")
    account_cmd.add_parsers(sub)
    root_cmd.add_parsers(sub)
    fleet_cmd.add_parsers(sub)
    token = sub.add_parser("token", help="print a new personal access token for a user")
    token.add_argument("name")
    token.add_argument("--label", default="cli")
    imp = sub.add_parser("import", help="import a folder of Markdown files, or a Word"
                         " document (.docx), as pages")
    imp.add_argument("source", metavar="DIR_OF_MARKDOWN|FILE.docx")
    imp.add_argument("--author", required=True, metavar="NAME")
    imp.add_argument("--page", metavar="NAME", help="the page a .docx becomes (default: its"
                     " file name)")
    sub.add_parser("reindex", help="rebuild the search index from git")
    export_cmd.add_parser(sub)
    ops_cmd.add_parsers(sub)
    dbmove_cmd.add_parser(sub)
    return parser


def open_services(settings: Settings) -> Services:
    """The data directory's services (creating it when new)."""
    return open_data_dir(settings)


def cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    services = open_services(settings)
    print(f"Wiki ready in {settings.data_dir} (head {services.repo.head()}).")
    if services.accounts.count() == 0:
        print(first_user_hint(settings))
    return 0


def first_user_hint(settings: Settings) -> str:
    """How to create the first facilitator."""
    return ("No accounts yet. Create the first facilitator:\n"
            f"  cowiki --data {settings.data_dir} adduser NAME --email EMAIL "
            "--role facilitator --password-stdin")


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from cowiki.server import check_keepalive, serve

    if not 1 <= args.port <= 65535 or not 1 <= args.workers <= 64 or not 1 <= args.threads <= 64:
        raise UserError("port must be 1-65535, workers and threads 1-64")
    check_keepalive(settings.keepalive_seconds)
    if args.root:
        return serve_root(args, settings)
    services = open_services(settings)
    if services.accounts.count() == 0:
        print(first_user_hint(settings), file=sys.stderr)
    print(f"cowiki on http://{args.host}:{args.port}/ (data: {settings.data_dir})",
          file=sys.stderr)
    serve(settings, args.host, args.port, args.workers, args.threads)
    return 0


def serve_root(args: argparse.Namespace, settings: Settings) -> int:
    """`cowiki --root DIR serve`: every wiki in DIR at /w/<slug>/ (see cowiki/multi.py)."""
    from cowiki import server

    root = Path(args.root).absolute()
    if not root.is_dir():
        raise UserError(f"{root} is not a folder; make it, then add wikis with create-wiki")
    print(f"cowiki on http://{args.host}:{args.port}/w/<slug>/ (wikis in {root})",
          file=sys.stderr)
    server.serve_root(root, settings, args.host, args.port, args.workers, args.threads)
    return 0


def read_password(from_stdin: bool) -> str:
    """The new password from stdin (first line) or an interactive prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UserError("no terminal to ask for a password; use --password-stdin")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise UserError("the passwords differ")
    return first


def cmd_adduser(args: argparse.Namespace, settings: Settings) -> int:
    services = open_services(settings)
    password = read_password(args.password_stdin)
    user = services.accounts.add_user(args.name, args.email, args.role, password)
    print(f"Added {user.name} <{user.email}> as {user.role}.")
    return 0


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    services = open_services(settings)
    user = services.accounts.by_name(args.name)
    if user is None:
        raise UserError(f"no user called {args.name!r}")
    print(services.accounts.create_token(user, args.label))
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    services = open_services(settings)
    user = services.accounts.by_name(args.author)
    if user is None:
        raise UserError(f"no user called {args.author!r}; add them first with adduser")
    source = Path(args.source)
    if docx_cmd.is_docx(source):
        return docx_cmd.import_docx_file(services, source, user, args.page)
    if args.page:
        raise UserError("--page is for a Word document (.docx) only")
    if not source.is_dir():
        raise UserError(f"{args.source} is not a folder")
    report = import_tree(services, source, user.person, Origin(user.id, "cli"))
    for skipped in report.skipped:
        print(f"skipped {skipped}", file=sys.stderr)
    print(f"Imported {report.pages} page(s) and {report.attachments} attachment(s)"
          f" in commit {report.revision or '(nothing new)'}.")
    return 0


def progress_bar(done: int, total: int) -> None:
    """Draw `done` of `total` as a bar on stderr (one line, redrawn)."""
    width = 30
    filled = width * done // total if total else width
    percent = 100 * done // total if total else 100
    end = "\n" if done >= total else ""
    print(f"\rIndexing [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {percent}%",
          end=end, file=sys.stderr, flush=True)


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    services = open_services(settings)
    started = time.monotonic()
    pages = services.indexer.rebuild(progress_bar)
    print(f"Indexed {pages} page(s) at {str(services.repo.head())[:10]} "
          f"in {time.monotonic() - started:.1f} s.")
    return 0


COMMANDS: dict[str, Command] = {
    "init": cmd_init,
    "serve": cmd_serve,
    "adduser": cmd_adduser,
    "token": cmd_token,
    "import": cmd_import,
    "reindex": cmd_reindex,
    "export": export_cmd.cmd_export,
    **ops_cmd.COMMANDS,
    "migrate-db": dbmove_cmd.cmd_migrate_db,
    **account_cmd.COMMANDS,
    **root_cmd.COMMANDS,
    **fleet_cmd.COMMANDS,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {}
    if args.data:
        overrides["data_dir"] = args.data
    settings: Settings | None = None
    try:
        settings = Settings.load(overrides)
        if args.root:
            settings = root_cmd.root_settings(args, settings)
        if args.command != "serve":  # the server's workers audit to the server log
            audit.configure(path=Path(settings.data_dir) / AUDIT_LOG)
        return COMMANDS[args.command](args, settings)
    except (UserError, WikiError, StorageError, ValueError, OSError, EOFError, zlib.error,
            tarfile.TarError, sqlite3.Error) as exc:
        return fail(str(exc))
    except (DBAPIError, PoolTimeout) as exc:
        return fail(database_failure(exc, settings))
    except GIT_FAILURES as exc:
        return fail(f"the repository could not be read or written ({exc}); "
                    "`git fsck` shows what is damaged")
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: still one line, never a traceback
        return fail(f"unexpected {type(exc).__name__}: {exc}")


def database_failure(exc: DBAPIError | PoolTimeout, settings: Settings | None) -> str:
    """One line for a database that failed: which one, what kind, the engine's words."""
    name = open_database(settings).describe() if settings is not None else "the database"
    kind = "busy" if isinstance(exc, PoolTimeout) else fault(exc)
    what = {"unreachable": "cannot be reached", "busy": "is busy; try again in a moment",
            "full": "is on a full disk; nothing was saved",
            "read-only": "accepts no changes (read-only)"}.get(kind or "", "failed")
    detail = exc.orig if isinstance(exc, DBAPIError) else exc
    return f"{name} {what} ({detail})"


def fail(message: str) -> int:
    """Print `message` as one line on stderr; the exit status of a failed command (2)."""
    print(f"cowiki: error: {' '.join(message.split()) or 'failed'}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
