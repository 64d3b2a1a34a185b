"""The start of a process that runs beside gunicorn for one wiki (live, index).

Both read `--data DIR`, log with their own label, open the data directory and
bind their unix socket in DATA/run/; bad arguments, an unusable data directory
or socket exit 2 with one line.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from wiki.config import Settings
from wiki.datadir import Services, open_data_dir


def open_sidecar(argv: Sequence[str] | None, module: str, description: str, label: str,
                 listen: Callable[[Path], socket.socket]) -> tuple[Services, socket.socket]:
    """The wiki's services and the socket `listen(data_dir)` bound; SystemExit(2) with one
    line on stderr when either cannot be had."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=description)
    parser.add_argument("--data", default=None, metavar="DIR", help="the wiki's data directory")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format=f"%(asctime)s {label} %(levelname)s %(message)s")
    try:
        settings = Settings.load({"data_dir": args.data} if args.data else None)
        services = open_data_dir(settings)
        return services, listen(settings.data_dir)
    except (OSError, ValueError) as exc:
        print(f"{module}: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
