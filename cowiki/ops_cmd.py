"""Operations commands: `backup --out FILE`, `restore FILE` and `check`.

None of them creates a data directory by accident: `backup` and `check` need
an existing wiki, `restore` needs an empty or new folder (and, for a wiki on
PostgreSQL, an empty database). Every archive holds the database as one SQLite
file, whichever engine the wiki runs on (wiki/backup.py). Problems a user can
fix (wrong folder, damaged archive) exit 2 with one line through cli.main.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from wiki.backup import create_backup, restore_backup
from wiki.config import Settings
from wiki.health import full_report


def add_parsers(sub: Any) -> None:
    """Register `backup`, `restore` and `check` on the CLI's subparsers."""
    backup = sub.add_parser("backup", help="write a backup archive (safe while the wiki runs)")
    backup.add_argument("--out", required=True, metavar="FILE",
                        help="the archive to write (.tar; .tar.gz compresses)")
    restore = sub.add_parser("restore", help="restore a backup into an empty data directory"
                             " (and an empty database when COWIKI_DATABASE_URL is set)")
    restore.add_argument("archive", metavar="FILE")
    sub.add_parser("check", help="verify repository, database and search index")


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    """Write the archive and say what it holds."""
    info = create_backup(Path(settings.data_dir), Path(args.out), settings.database_url)
    print(f"Backed up {settings.data_dir} to {info.path} ({info.size / 1e6:.1f} MB): "
          f"{info.refs} ref(s), main at {str(info.head)[:10]}, {info.users} user(s).")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    """Restore, rebuild the index, and say what came back."""
    from cowiki.cli import progress_bar

    info = restore_backup(Path(args.archive), settings, progress_bar)
    print(f"Restored {info.backup.path.name} (made {info.backup.created}) into {info.data_dir}: "
          f"main at {str(info.backup.head)[:10]}, {info.backup.users} user(s), "
          f"{info.pages_indexed} page(s) indexed.")
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    """Print the report; exit 1 when anything is wrong."""
    report = full_report(Path(settings.data_dir))
    for line in report.lines():
        print(line)
    if not report.ok:
        print("cowiki check: problems found", file=sys.stderr)
    return 0 if report.ok else 1


COMMANDS = {"backup": cmd_backup, "restore": cmd_restore, "check": cmd_check}
