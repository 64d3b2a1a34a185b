"""Background export jobs: one worker process per (commit, format), results kept on disk.

State lives in files under DATA_DIR/exports/, so every web worker (and the
CLI) sees the same jobs without a database: `<job>.json` holds the status and
`<job>.<ext>` the finished file. The job id is derived from the commit and the
format, so asking twice for the same export reuses one run and one result.
The worker (`python -m wiki.export.worker`) limits its own CPU time, memory
and wall time before it starts (see worker.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from wiki.errors import N_, PageNotFound
from wiki.export import FORMATS
from wiki.export.build import Source, check_format

EXPORT_VERSION = "1"  # bump when the output changes, so old results are not reused
ACTIVE = ("queued", "running")
STARTUP_GRACE = 60.0
_handles: dict[str, subprocess.Popen[bytes]] = {}
_handles_lock = threading.Lock()


@dataclass(frozen=True)
class Limits:
    """Resource limits of one export process."""

    cpu_seconds: int = 600
    memory_bytes: int = 4 * 1024**3
    wall_seconds: int = 900


@dataclass(frozen=True)
class Job:
    """The state of one export as stored in `<job>.json`."""

    id: str
    commit: str
    version: str | None
    format: str
    status: str = "queued"
    progress: float = 0.0
    message: str = ""
    error: str = ""
    created: float = 0.0
    finished: float = 0.0
    pid: int = 0

    @property
    def extension(self) -> str:
        """File extension of the result."""
        return FORMATS[self.format][0]

    @property
    def mimetype(self) -> str:
        """MIME type of the result."""
        return FORMATS[self.format][1]


def job_id(commit: str, fmt: str) -> str:
    """The stable id of the export of `commit` in `fmt`."""
    return hashlib.sha256(f"{EXPORT_VERSION}:{commit}:{fmt}".encode()).hexdigest()[:24]


class Jobs:
    """Start, track and find exports in one data directory."""

    def __init__(self, data_dir: Path, limits: Limits | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.folder = self.data_dir / "exports"
        self.limits = limits or Limits()

    def state_path(self, job: str) -> Path:
        """Where a job's state is kept."""
        if len(job) != 24 or not all(c in "0123456789abcdef" for c in job):
            raise PageNotFound(N_("no such export job"))
        return self.folder / f"{job}.json"

    def result_path(self, job: Job) -> Path:
        """Where a job's finished file is (or will be)."""
        return self.folder / f"{job.id}.{job.extension}"

    def start(self, source: Source, fmt: str) -> Job:
        """The job for this commit and format: an existing one, or a newly started worker."""
        fmt = check_format(fmt)
        self.folder.mkdir(parents=True, exist_ok=True)
        ident = job_id(source.commit, fmt)
        with contextlib.suppress(PageNotFound):
            current = self.get(ident)
            if current.status in ACTIVE or (current.status == "done"
                                            and self.result_path(current).exists()):
                return current
        job = Job(ident, source.commit, source.version, fmt, created=time.time())
        self.write(job)
        process = subprocess.Popen(
            [sys.executable, "-m", "wiki.export.worker", str(self.data_dir), ident,
             str(self.limits.cpu_seconds), str(self.limits.memory_bytes),
             str(self.limits.wall_seconds)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, cwd=str(Path(__file__).resolve().parents[2]),
        )
        with _handles_lock:
            _handles[ident] = process
        return job

    def get(self, job: str) -> Job:
        """A job's current state; a worker that died unannounced shows as failed."""
        path = self.state_path(job)
        try:
            found = Job(**json.loads(path.read_text("utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            raise PageNotFound(N_("no such export job")) from exc
        if found.status in ACTIVE and not _alive(found):
            time.sleep(0.05)  # the worker may have written its last state just now
            found = Job(**json.loads(path.read_text("utf-8")))
            if found.status in ACTIVE:
                found = replace(found, status="failed", finished=time.time(),
                                error="the export process stopped (time or memory limit?)")
                self.write(found)
        return found

    def write(self, job: Job) -> None:
        """Replace a job's state file atomically."""
        path = self.state_path(job.id)
        spare = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}")
        spare.write_text(json.dumps(asdict(job)), "utf-8")
        os.replace(spare, path)

    def wait(self, job: str, timeout: float, poll: float = 0.2) -> Job:
        """Block until the job is done or failed (or `timeout` passes); return its state."""
        deadline = time.monotonic() + timeout
        current = self.get(job)
        while current.status in ACTIVE and time.monotonic() < deadline:
            time.sleep(poll)
            current = self.get(job)
        return current


def _alive(job: Job) -> bool:
    """Whether the job's worker still runs (reaping it when this process started it)."""
    with _handles_lock:
        handle = _handles.get(job.id)
        if handle is not None:
            if handle.poll() is None:
                return True
            del _handles[job.id]
            return False
    if not job.pid:  # started by another process; the worker records its pid on start
        return time.time() - job.created < STARTUP_GRACE
    try:
        os.kill(job.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
