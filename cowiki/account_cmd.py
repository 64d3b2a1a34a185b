"""Account commands: `passwd NAME` sets a new password, or prints a one-time reset link.

Like every command, a problem (no such person, a refused password) exits 2 with
one line through cli.main.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from wiki import audit
from wiki.config import Settings
from wiki.datadir import open_data_dir


def add_parsers(sub: Any) -> None:
    """Register `passwd` on the CLI's subparsers."""
    passwd = sub.add_parser("passwd", help="set a person's password (ends their sessions)")
    passwd.add_argument("name")
    passwd.add_argument("--reset-link", action="store_true",
                        help="print a one-time link (valid a day) for them to pick one")
    passwd.add_argument("--password-stdin", action="store_true",
                        help="read the password from standard input (the default when it "
                             "is not a terminal)")


def cmd_passwd(args: argparse.Namespace, settings: Settings) -> int:
    """Set the password read from stdin (or asked twice), or print a reset link."""
    from cowiki.cli import UserError, read_password

    # Not a wiki: make none. The repository tells, as the database may live elsewhere.
    if not (Path(settings.data_dir) / "repo.git").is_dir():
        raise UserError(f"no wiki in {settings.data_dir} (see --data)")
    services = open_data_dir(settings)
    user = services.accounts.by_name(args.name)
    if user is None:
        raise UserError(f"no user called {args.name!r}")
    if args.reset_link:
        path = f"/reset/{services.resets.issue(user)}"
        audit.record("password_reset_link", user=None, account=user.name, via="cli")
        if not settings.base_url:
            print("cowiki: COWIKI_BASE_URL is not set; put the wiki's address before this"
                  " path", file=sys.stderr)
        print(settings.base_url.rstrip("/") + path)
        return 0
    password = read_password(args.password_stdin or not sys.stdin.isatty())
    services.accounts.set_password(user, password)
    audit.record("password_set", user=None, account=user.name, via="cli")
    print(f"New password set for {user.name}; their sessions ended.")
    return 0


COMMANDS = {"passwd": cmd_passwd}
