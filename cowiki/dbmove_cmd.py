"""`cowiki migrate-db --to URL`: move a wiki's database to PostgreSQL, or back to SQLite.

The wiki must be stopped while its database is copied: what is written after
the copy's snapshot would be left behind. The command refuses while the wiki's
live-editing process answers, and compares every table's rows afterwards, so a
write during the copy shows up as a difference (exit 2) rather than as a lost
comment. The old database is left as it was.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from wiki import dbcopy
from wiki.config import Settings
from wiki.db import DEFAULT_FILE, Database, open_database
from wiki.live import livesock


def add_parser(sub: Any) -> None:
    """Register `migrate-db` on the CLI's subparsers."""
    move = sub.add_parser("migrate-db", help="copy the wiki's database to an empty PostgreSQL"
                          " or SQLite database (stop the wiki first)")
    move.add_argument("--to", required=True, metavar="URL",
                      help="postgresql+psycopg://USER:PASSWORD@HOST/DB or sqlite:///PATH")


def cmd_migrate_db(args: argparse.Namespace, settings: Settings) -> int:
    """Copy, report each table's rows, and say how to switch the wiki over."""
    data_dir = Path(settings.data_dir).absolute()
    source = open_database(settings)
    refuse_source(data_dir, source, args.to)
    target = dbcopy.open_target(args.to)
    try:
        try:
            source.migrate()  # as the wiki does when it starts
        except SQLAlchemyError as exc:
            raise dbcopy.CopyError(f"cannot read {source.describe()}: {exc}") from exc
        copied = dbcopy.copy_database(source, target)
        now = dbcopy.count_rows(source)
    finally:
        target.dispose()
        source.dispose()
    print(f"Copied {source.describe()} to {target.describe()}:")
    empty = [c for c in copied if not c.target and not now[c.table]]
    for count in copied:
        if count not in empty:
            print(f"  {count.table} {now[count.table]} → {count.target}")
    print(f"  ({len(empty)} other tables are empty in both)")
    differ = [c.table for c in copied if c.target != now[c.table]]
    if differ:
        raise dbcopy.CopyError(f"rows differ in {', '.join(differ)}: the wiki was written"
                               " during the copy; stop it and copy again into an empty"
                               " database")
    print(next_steps(data_dir, target))
    return 0


def refuse_source(data_dir: Path, source: Database, url: str) -> None:
    """CopyError for a folder without a wiki, a running wiki, or a copy onto itself."""
    if not (data_dir / "repo.git" / "HEAD").exists() or (
            source.path is not None and not source.path.exists()):
        raise dbcopy.CopyError(f"no wiki in {data_dir}")
    try:
        livesock.connect(data_dir, timeout=1.0).close()
    except livesock.LiveUnavailable:
        pass
    else:
        raise dbcopy.CopyError(f"the wiki in {data_dir} is running; stop it, then copy its"
                               " database")
    if Database(dbcopy.checked_url(url)).url == source.url:
        raise dbcopy.CopyError(f"the wiki already uses {source.describe()}")


def next_steps(data_dir: Path, target: Database) -> str:
    """What the operator does now that the rows are copied."""
    if target.path is not None and target.path.resolve() == (data_dir / DEFAULT_FILE).resolve():
        switch = "remove COWIKI_DATABASE_URL from the wiki's environment"
    else:
        url = make_url(target.url)
        secret = " (with its password)" if url.password else ""
        switch = (f"set COWIKI_DATABASE_URL={url.render_as_string(hide_password=True)}{secret}"
                  " for the wiki")
    return (f"Next: {switch} and start the wiki again. The old database is unchanged;"
            " remove it once the wiki runs well on the new one.")
