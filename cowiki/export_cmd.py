"""`cowiki export --format pdf|html|docx|epub|md --out FILE [--ref REF]`.

Runs the same background job as the web (a separate, limited process whose
result is reused per commit and format) and draws its progress on stderr.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from wiki.config import Settings
from wiki.datadir import open_data_dir
from wiki.export import FORMATS
from wiki.export.build import resolve
from wiki.export.jobs import Jobs, Limits

WAIT_SECONDS = 1800


def add_parser(sub: Any) -> None:
    """Register the `export` subcommand on the CLI's subparsers."""
    export = sub.add_parser("export", help="export the whitepaper (outline order) to a file")
    export.add_argument("--format", required=True, choices=list(FORMATS))
    export.add_argument("--out", required=True, metavar="FILE")
    export.add_argument("--ref", default="", metavar="REF",
                        help="version tag (whitepaper-v1) or revision; default: the head")


def bar(fraction: float, message: str, width: int = 30) -> str:
    """A one-line progress bar."""
    filled = int(width * max(0.0, min(1.0, fraction)))
    return f"\rExporting [{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%} {message[:30]:30}"


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Export to --out; exit 1 when the export failed, 2 on bad arguments."""
    out = Path(args.out)
    if out.is_dir() or not out.parent.exists():
        print(f"cowiki: error: cannot write {out}", file=sys.stderr)
        return 2
    services = open_data_dir(settings)
    jobs = Jobs(settings.data_dir, Limits.from_settings(settings))
    job = jobs.start(resolve(services.repo, args.ref), args.format)
    deadline = time.monotonic() + WAIT_SECONDS
    while job.status in ("queued", "running") and time.monotonic() < deadline:
        waiting = jobs.position(job) if job.status == "queued" else None
        message = f"queued, number {waiting}" if waiting else job.message or job.status
        print(bar(job.progress, message), end="", file=sys.stderr, flush=True)
        time.sleep(0.2)
        job = jobs.get(job.id)
    print(bar(job.progress, job.status), file=sys.stderr)
    if job.status != "done":
        reason = " ".join((job.error or job.status).split())
        print(f"cowiki: export failed: {reason}", file=sys.stderr)
        return 1
    shutil.copyfile(jobs.result_path(job), out)
    print(f"Wrote {out} ({job.format}, commit {job.commit[:10]}"
          f"{', ' + job.version if job.version else ''}).")
    return 0
