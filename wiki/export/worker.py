"""The export worker process: `python -m wiki.export.worker DATA_DIR JOB LIMITS_JSON`.

It caps its own CPU seconds, address space and wall time before doing any
work, so a hostile or huge whitepaper cannot starve the web workers; then it
builds the export, reporting progress into the job's state file. When it is
done it starts the next queued export, so the queue moves without a web request.
"""

from __future__ import annotations

import os
import resource
import signal
import sys
import time
import traceback
from dataclasses import replace
from pathlib import Path

from storage.repository import Person, Repository
from wiki.accounts import Accounts
from wiki.config import Settings
from wiki.db import open_database
from wiki.export.build import Source, export
from wiki.export.jobs import Job, Jobs, Limits
from wiki.pagemeta import PageMeta
from wiki.people import display_names
from wiki.wikilang import WikiLanguage


def limit(limits: Limits) -> None:
    """Apply CPU, memory and wall-clock limits to this process."""
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    signal.alarm(limits.wall_seconds)
    os.nice(5)


def run(jobs: Jobs, job: Job, settings: Settings) -> Job:
    """Build the export of `job` and store the result; return the final state."""
    repo = Repository(jobs.data_dir / "repo.git",
                      Person(settings.committer_name, settings.committer_email))
    last = [0.0]

    def progress(fraction: float, message: str) -> None:
        if fraction - last[0] >= 0.02 or fraction >= 1.0:
            last[0] = fraction
            jobs.write(replace(job, status="running", progress=round(fraction, 3),
                               message=message, pid=os.getpid()))

    progress(0.01, "reading pages")
    # Blame of each chapter comes from the page-metadata cache (computed once per revision).
    history = PageMeta(repo, jobs.data_dir / "pagemeta.db", jobs.data_dir / "pagemeta.lock")
    # The credits name each person as the wiki does: an account's name for its email.
    db = open_database(settings)
    shown = display_names(Accounts(db))
    language = WikiLanguage(settings.language, db).get()  # the facilitator's choice, shared
    data = export(repo, history, Source(job.commit, job.version), job.format,
                  settings.site_name, progress, shown, language)
    target = jobs.result_path(job)
    spare = target.with_name(f"{target.name}.{os.getpid()}.part")
    spare.write_bytes(data)
    os.replace(spare, target)
    return replace(job, status="done", progress=1.0, message="done", finished=time.time(),
                   pid=os.getpid())


def main(argv: list[str]) -> int:
    """Run one job; the exit status is 0 when the export was written."""
    data_dir, ident, given = argv
    limits = Limits.from_argument(given)
    jobs = Jobs(Path(data_dir), limits)
    job = jobs.get(ident)
    limit(limits)
    settings = Settings.load({"data_dir": data_dir})
    try:
        final = run(jobs, job, settings)
    except Exception as exc:  # every failure must reach the job state, not vanish
        traceback.print_exc()
        jobs.write(replace(job, status="failed", finished=time.time(),
                           error=f"{type(exc).__name__}: {exc}"[:500]))
        jobs.refresh()
        return 1
    jobs.write(final)
    jobs.refresh()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
