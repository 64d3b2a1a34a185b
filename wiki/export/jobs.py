"""Background export jobs: a queue, one limited worker process per (commit, format).

State lives in files under DATA_DIR/exports/, so every web worker (and the
CLI) sees the same jobs without a database: `<job>.json` holds the status,
`<job>.<ext>` the finished file and `<job>.log` what the worker printed. The
job id is derived from the commit, the version name and the format, so asking
twice for the same export reuses one run and one result, while a version tag
gets its own export whose title page and file name carry that version.

Exports are expensive (a PDF of a long wiki takes minutes and a gigabyte), so
they queue: `active/<job>` marks each queued or running job, and whoever holds
`queue.lock` (an flock, shared by every process on the data dir) starts the
oldest queued jobs while fewer than `Limits.running` run. A person may have
`Limits.per_person` jobs queued or running, the queue holds `Limits.queued`;
beyond that the answer is TooManyRequests. The worker (`python -m
wiki.export.worker`) limits its own CPU time, memory and wall time (worker.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from storage.names import page_file
from storage.repository import Person, Repository
from wiki.config import Settings
from wiki.errors import N_, PageNotFound, PageTooLarge, TooManyRequests
from wiki.export import FORMATS
from wiki.export.build import Source, check_format
from wiki.export.outline import load

EXPORT_VERSION = "2"  # bump when the output changes, so old results are not reused
ACTIVE = ("queued", "running")
STARTUP_GRACE = 60.0
RETRY_SECONDS = 30
LOG_TAIL_BYTES = 4096
# Processes this process started, until they exit (a thread per process reaps it).
_handles: dict[str, subprocess.Popen[bytes]] = {}
_handles_lock = threading.Lock()


@dataclass(frozen=True)
class Limits:
    """How much exporting the server does: per process, at once, and per person."""

    cpu_seconds: int = 300
    memory_bytes: int = 1536 * 1024**2
    wall_seconds: int = 600
    running: int = 1
    per_person: int = 2
    queued: int = 20
    page_bytes: int = 100_000

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits an operator configured (COWIKI_EXPORT_*)."""
        return cls(cpu_seconds=settings.export_cpu_seconds,
                   memory_bytes=settings.export_memory_mb * 1024**2,
                   wall_seconds=settings.export_wall_seconds,
                   running=settings.export_running, per_person=settings.export_per_person,
                   queued=settings.export_queued, page_bytes=settings.export_page_bytes)

    def to_argument(self) -> str:
        """The limits as one command-line argument for the worker."""
        return json.dumps(asdict(self))

    @classmethod
    def from_argument(cls, text: str) -> Limits:
        """The limits back from `to_argument`."""
        given = json.loads(text)
        return cls(**{f.name: int(given[f.name]) for f in fields(cls) if f.name in given})


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
    owner: str = ""
    started: float = 0.0
    missing: tuple[str, ...] = ()  # outline pages that do not exist, left out of the export

    @property
    def extension(self) -> str:
        """File extension of the result."""
        return FORMATS[self.format][0]

    @property
    def mimetype(self) -> str:
        """MIME type of the result."""
        return FORMATS[self.format][1]


def job_id(commit: str, fmt: str, version: str | None = None) -> str:
    """The stable id of the export of `commit`, reached as `version` (or not), in `fmt`."""
    key = f"{EXPORT_VERSION}:{commit}:{version or ''}:{fmt}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


class Jobs:
    """Start, queue, track and find exports in one data directory."""

    def __init__(self, data_dir: Path, limits: Limits | None = None) -> None:
        # Absolute: the worker runs in another folder, and a relative path would miss.
        self.data_dir = Path(data_dir).absolute()
        self.folder = self.data_dir / "exports"
        self.active = self.folder / "active"
        self.limits = limits or Limits()

    def state_path(self, job: str) -> Path:
        """Where a job's state is kept."""
        if len(job) != 24 or not all(c in "0123456789abcdef" for c in job):
            raise PageNotFound(N_("no such export job"))
        return self.folder / f"{job}.json"

    def result_path(self, job: Job) -> Path:
        """Where a job's finished file is (or will be)."""
        return self.folder / f"{job.id}.{job.extension}"

    def log_path(self, job: Job) -> Path:
        """Where the worker's own output goes (the reason when it dies unannounced)."""
        return self.folder / f"{job.id}.log"

    def start(self, source: Source, fmt: str, owner: str = "") -> Job:
        """The job for this commit, version and format: an existing one, or a new one queued.

        The job lists the outline's pages that do not exist (`missing`): the
        export leaves them out, and the caller should say so.

        Raises:
            PageTooLarge: a page of the whitepaper is over `Limits.page_bytes`.
            TooManyRequests: `owner` has enough jobs waiting, or the queue is full.
        """
        fmt = check_format(fmt)
        self.active.mkdir(parents=True, exist_ok=True)
        ident = job_id(source.commit, fmt, source.version)
        with self._queue_lock():
            active = self._tidy()
            with contextlib.suppress(PageNotFound):
                current = self._read(ident)
                if current.status in ACTIVE or (current.status == "done"
                                                and self.result_path(current).exists()):
                    return current
            missing = self._check_pages(source.commit)
            self._check_room(active, owner)
            job = Job(ident, source.commit, source.version, fmt, created=time.time(),
                      owner=owner, missing=missing)
            self.write(job)
            (self.active / ident).touch()
            self._dispatch([*active, job])
        return self._read(ident)

    def get(self, job: str) -> Job:
        """A job's current state; a worker that died unannounced shows as failed."""
        found = self._read(job)
        if found.status in ACTIVE:
            self.active.mkdir(exist_ok=True)
            (self.active / found.id).touch()  # a job from before the queue had no marker
            self.refresh()
            found = self._read(job)
        return found

    def refresh(self) -> None:
        """Mark jobs whose worker died as failed, and start queued jobs there is room for."""
        if not self.active.is_dir():
            return
        with self._queue_lock():
            self._dispatch(self._tidy())

    def position(self, job: Job) -> int | None:
        """Place in the queue (1 is next), 0 while running, None when finished."""
        if job.status == "running":
            return 0
        if job.status != "queued":
            return None
        waiting = sorted((j.created, j.id) for j in self._active() if j.status == "queued")
        ahead = sum(1 for key in waiting if key < (job.created, job.id))
        return ahead + 1

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

    # -- the queue (callers hold queue.lock) -----------------------------------

    @contextlib.contextmanager
    def _queue_lock(self) -> Iterator[None]:
        with open(self.folder / "queue.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            yield

    def _read(self, job: str) -> Job:
        path = self.state_path(job)
        try:
            state = json.loads(path.read_text("utf-8"))
            return Job(**{**state, "missing": tuple(state.get("missing", ()))})
        except (OSError, ValueError, TypeError) as exc:
            raise PageNotFound(N_("no such export job")) from exc

    def _active(self) -> list[Job]:
        """The queued and running jobs, as their markers list them."""
        found = []
        for marker in self.active.iterdir() if self.active.is_dir() else ():
            with contextlib.suppress(PageNotFound):
                found.append(self._read(marker.name))
        return found

    def _tidy(self) -> list[Job]:
        """The active jobs after failing the dead ones and dropping finished markers."""
        alive = []
        for job in self._active():
            if job.status in ACTIVE and not self._alive(job):
                job = replace(job, status="failed", finished=time.time(), error=self._death(job))
                self.write(job)
            if job.status in ACTIVE:
                alive.append(job)
            else:
                (self.active / job.id).unlink(missing_ok=True)
        return alive

    def _dispatch(self, active: list[Job]) -> None:
        """Start the oldest queued jobs while fewer than `limits.running` run."""
        room = self.limits.running - sum(1 for j in active if j.status == "running")
        queued = sorted((j for j in active if j.status == "queued"), key=lambda j: j.created)
        for job in queued[:max(0, room)]:
            self._spawn(job)

    def _spawn(self, job: Job) -> None:
        running = replace(job, status="running", message="starting", started=time.time())
        self.write(running)
        with open(self.log_path(job), "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "wiki.export.worker", str(self.data_dir), job.id,
                 self.limits.to_argument()],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True, cwd=str(Path(__file__).resolve().parents[2]),
            )
        with _handles_lock:
            _handles[job.id] = process
        threading.Thread(target=_reap, args=(job.id, process), daemon=True,
                         name=f"export-{job.id[:8]}").start()
        with contextlib.suppress(PageNotFound):
            current = self._read(job.id)
            if current.status == "running" and not current.pid:
                self.write(replace(current, pid=process.pid))

    def _check_room(self, active: list[Job], owner: str) -> None:
        mine = sum(1 for j in active if owner and j.owner == owner)
        if owner and mine >= self.limits.per_person:
            raise TooManyRequests(
                N_("You already have {count} exports waiting or running. Wait until one is "
                   "finished."), count=mine, retry_after=RETRY_SECONDS)
        waiting = sum(1 for j in active if j.status == "queued")
        if waiting >= self.limits.queued:
            raise TooManyRequests(
                N_("{count} exports are waiting already. Try again in a few minutes."),
                count=waiting, retry_after=RETRY_SECONDS)

    def _check_pages(self, commit: str) -> tuple[str, ...]:
        """The outline's missing pages; PageTooLarge for a page over the export budget."""
        repo = Repository(self.data_dir / "repo.git", Person("cowiki", "cowiki@localhost"))
        missing = []
        for name in load(repo, commit).pages:
            data = repo.read(commit, page_file(name))
            if data is None:
                missing.append(name)
            elif len(data) > self.limits.page_bytes:
                raise PageTooLarge(
                    N_("The page {name} is too large to export ({size} KB; the limit is "
                       "{limit} KB). Split it into smaller pages."),
                    name=name, size=len(data) // 1000, limit=self.limits.page_bytes // 1000)
        return tuple(missing)

    def _alive(self, job: Job) -> bool:
        """Whether a queued job may still run, or a running job's worker still runs."""
        if job.status == "queued":
            return True
        age = time.time() - (job.started or job.created)
        if age > self.limits.wall_seconds + STARTUP_GRACE:
            return False  # past its own alarm: whatever has that pid now is not the worker
        if not job.pid:
            return age < STARTUP_GRACE
        return _process_runs(job.pid)

    def _death(self, job: Job) -> str:
        """Why a worker stopped without writing its result: its last words, or its limits."""
        try:
            with open(self.log_path(job), "rb") as log:
                log.seek(max(0, log.seek(0, os.SEEK_END) - LOG_TAIL_BYTES))
                lines = log.read().decode("utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
        last = next((line.strip() for line in reversed(lines) if line.strip()), "")
        if last:
            return f"the export process stopped: {last}"[:500]
        return (f"the export process stopped without a word; it may have gone over its limit "
                f"of {self.limits.cpu_seconds} CPU seconds, "
                f"{self.limits.memory_bytes // 1024**2} MB or {self.limits.wall_seconds} s")


def _reap(ident: str, process: subprocess.Popen[bytes]) -> None:
    """Wait for a worker this process started, so it does not linger as a zombie."""
    process.wait()
    with _handles_lock:
        if _handles.get(ident) is process:
            del _handles[ident]


def _process_runs(pid: int) -> bool:
    """Whether `pid` is a running process (an exited one not yet reaped does not count)."""
    if not Path("/proc/self/stat").exists():  # no /proc: ask the kernel the portable way
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")
