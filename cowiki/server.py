"""`cowiki serve`: the wiki under gunicorn, embedded, with N workers and threads each.

Each worker builds its own app (no preload), so git and SQLite handles are
never shared across a fork.

Beside the workers, gunicorn's master runs two processes of the wiki, each
started when gunicorn is ready, watched by a thread that starts it again when
it dies, and stopped when gunicorn stops (`Sidecar`):

- the live process (`python -m cowiki.live`, live co-editing on
  DATA/run/live.sock; see wiki/live/relay.py for how browsers reach it through
  the one public port). `COWIKI_LIVE=off` leaves it out.
- the index process (`python -m cowiki.indexing`, cowiki/indexing.py), which
  keeps the search index in step so that the workers do not.

With `--root DIR` (many wikis, cowiki/multi.py) the master starts no live process
up front: `LiveOnDemand` starts a wiki's own live process the first time a
browser opens a live socket there (the web worker asks by creating
DIR/run/live.wanted, wiki/live/livesock.py), and from then on watches it like
the single wiki's. There is no index process per wiki there: each wiki's
workers keep its search index in step themselves (wiki/indexer.py).

Stopping (SIGTERM to the master): each worker stops accepting, finishes the
requests in flight (up to `graceful_timeout`), and on its way out closes its
database pool (`worker_exit`), so a PostgreSQL server keeps no connections of
a worker that is gone.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from cowiki import root as wikiroot
from wiki.config import Settings
from wiki.live import livesock
from wiki.live.journal import journals

log = logging.getLogger("gunicorn.error")  # the master's log: the server's own lines
POLL_SECONDS = 0.5
BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0)  # pauses before each restart of a sidecar that
STEADY_SECONDS = 30.0                  # keeps dying; one that ran this long starts afresh
STOP_SECONDS = 5.0
IDLE_STOP_SECONDS = 600.0  # a --root wiki's live process with no open room this long stops
IDLE_CHECK_SECONDS = 10.0
PR_SET_PDEATHSIG = 1
MAX_KEEPALIVE = 3600  # seconds an idle HTTP connection may be kept (COWIKI_KEEPALIVE_SECONDS)


class Sidecar:
    """A process of the wiki beside gunicorn: started, watched, restarted, stopped."""

    def __init__(self, data_dir: Path, env: Mapping[str, str] | None = None,
                 name: str = "live", module: str = "cowiki.live") -> None:
        self.name = name
        self.command = [sys.executable, "-m", module, "--data", str(data_dir)]
        self.env = {**os.environ, **env} if env else None
        self.starts = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._pidfd = -1
        self._started = 0.0
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        """The running process's pid, if one runs."""
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    def start(self) -> None:
        """Start it, and a thread that starts it again whenever it dies."""
        self._spawn()
        threading.Thread(target=self._watch, name=f"cowiki-{self.name}-keeper", daemon=True).start()

    def stop(self) -> None:
        """SIGTERM, and SIGKILL if it is not gone after STOP_SECONDS."""
        self._stopping.set()
        with self._lock:
            process = self._process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            if not self._exited(0):
                process.terminate()
                if not self._exited(STOP_SECONDS):
                    log.warning("the %s process did not stop in %.0f s; killing it",
                                self.name, STOP_SECONDS)
                    process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired, ChildProcessError):
            process.wait(STOP_SECONDS)
        self._close_pidfd()

    def _spawn(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            self._close_pidfd()
            self._process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL,
                                             env=self.env, preexec_fn=_die_with_parent)
            with contextlib.suppress(OSError, AttributeError):
                self._pidfd = os.pidfd_open(self._process.pid)
            self._started = time.monotonic()
            self.starts += 1
        log.info("%s process started (pid %s)", self.name, self._process.pid)

    def _watch(self) -> None:
        failures = 0
        while not self._stopping.wait(POLL_SECONDS):
            if not self._exited(0):
                continue
            process = self._process
            code = process.poll() if process is not None else None
            ran = time.monotonic() - self._started
            failures = 0 if ran >= STEADY_SECONDS else failures + 1
            pause = BACKOFF[min(failures, len(BACKOFF) - 1)]
            log.warning("the %s process stopped (exit %s) after %.1f s; starting it again"
                        " in %.1f s", self.name, code, ran, pause)
            if self._stopping.wait(pause):
                return
            self._spawn()

    def _exited(self, timeout: float) -> bool:
        """True when the process has ended (waiting up to `timeout` seconds to see)."""
        process = self._process
        if process is None:
            return True
        if self._pidfd >= 0:
            # The pidfd says so even when gunicorn's master reaped the child itself
            # (it waits for any child), and never confuses a reused pid.
            readable, _, _ = select.select([self._pidfd], [], [], timeout)
            return bool(readable)
        deadline = time.monotonic() + timeout
        while process.poll() is None:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def _close_pidfd(self) -> None:
        if self._pidfd >= 0:
            os.close(self._pidfd)
            self._pidfd = -1


class LiveOnDemand:
    """Under `--root`: each wiki's live process, started when a browser first wants it."""

    def __init__(self, root: Path, settings: Settings) -> None:
        self.root = root
        self.settings = settings
        self.processes: dict[str, Sidecar] = {}
        self._busy: dict[str, float] = {}  # when each running process last had an open room
        self._checked = 0.0
        self._stopping = threading.Event()

    def start(self) -> None:
        """Mark every wiki as started on demand, and watch for wishes."""
        self.scan()
        threading.Thread(target=self._watch, name="cowiki-live-on-demand", daemon=True).start()

    def stop(self) -> None:
        """Stop every live process (all at once: each may take STOP_SECONDS)."""
        self._stopping.set()
        stoppers = [threading.Thread(target=live.stop) for live in list(self.processes.values())]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for slug in wikiroot.slugs(self.root):
            run = livesock.socket_path(wikiroot.wiki_dir(self.root, slug)).parent
            (run / livesock.ON_DEMAND).unlink(missing_ok=True)

    def scan(self) -> None:
        """Start the live process of each wiki that asked (wikis made since included)."""
        for slug in wikiroot.slugs(self.root):
            data_dir = wikiroot.wiki_dir(self.root, slug)
            run = livesock.socket_path(data_dir).parent
            try:
                if not (run / livesock.ON_DEMAND).exists():
                    run.mkdir(mode=0o700, exist_ok=True)
                    (run / livesock.ON_DEMAND).touch()
                wanted = (run / livesock.WANTED).exists()
                (run / livesock.WANTED).unlink(missing_ok=True)
            except OSError as exc:  # a wiki's unwritable folder is that wiki's problem
                log.warning("wiki %s: %s", slug, exc)
                continue
            if wanted and slug not in self.processes:
                live = Sidecar(data_dir, wikiroot.wiki_environment(self.root, slug,
                                                                   self.settings))
                self.processes[slug] = live
                self._busy[slug] = time.monotonic()
                live.start()
        self.retire()

    def retire(self, now: float | None = None) -> list[str]:
        """Stop the live processes that should not run (their rooms are saved to git on
        the way out): a wiki that moved away or is moving (`move-wiki`), and one without
        an open room for IDLE_STOP_SECONDS. The next editor starts it again. The slugs
        stopped."""
        now = time.monotonic() if now is None else now
        if now - self._checked < IDLE_CHECK_SECONDS:
            return []
        self._checked = now
        done = []
        for slug in list(self.processes):
            data_dir = wikiroot.wiki_dir(self.root, slug)
            gone = (not (data_dir / wikiroot.REPOSITORY).is_dir()
                    or os.path.lexists(data_dir / wikiroot.MOVING))
            if journals(data_dir):
                self._busy[slug] = now
            if gone or now - self._busy.get(slug, now) >= IDLE_STOP_SECONDS:
                live = self.processes.pop(slug)
                self._busy.pop(slug, None)
                log.info("stopping the live process of %s (%s)", slug,
                         "moved away" if gone else "no open room")
                threading.Thread(target=live.stop, name="cowiki-live-stop", daemon=True).start()
                done.append(slug)
        return done

    def _watch(self) -> None:
        while not self._stopping.wait(POLL_SECONDS / 2):
            try:
                self.scan()
            except OSError as exc:  # the root itself went away for a moment
                log.warning("the wikis' root cannot be read: %s", exc)


def _libc() -> Any:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_LIBC = _libc()  # loaded here: between fork and exec only the call itself may run


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when gunicorn's master dies without stopping it."""
    if _LIBC is not None and hasattr(_LIBC, "prctl"):
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class WikiServer(BaseApplication):  # type: ignore[misc]
    """gunicorn with options from the command line and the app from create_app."""

    def __init__(self, settings: Settings, options: dict[str, Any],
                 root: Path | None = None) -> None:
        self.settings = settings
        self.options = options
        self.root = root
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        if self.root is not None:
            from cowiki.multi import WikiDispatcher

            return WikiDispatcher(self.root, self.settings)
        from app import create_app

        return when_the_database_answers(
            lambda: create_app({"data_dir": str(self.settings.data_dir)}))


def when_the_database_answers(make: Callable[[], Any]) -> Any:
    """`make()`, tried again while the database is busy or cannot be reached.

    gunicorn stops the whole server when a worker fails to start, so a worker started
    while the database was locked or down would leave the wiki down for good; it
    waits instead (the others serve meanwhile). Any other failure still stops it.
    """
    from sqlalchemy.exc import DBAPIError

    from wiki.dbdialect import fault

    delay = 0.5
    while True:
        try:
            return make()
        except DBAPIError as exc:
            trouble = fault(exc)
            if trouble not in ("busy", "unreachable"):
                raise
            log.warning("the database is %s; this worker starts once it answers (%s)",
                        trouble, exc.__class__.__name__)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


def serve(settings: Settings, host: str, port: int, workers: int, threads: int) -> None:
    """Run gunicorn (and the index and live processes beside it) in the foreground until
    interrupted."""
    sidecars = [Sidecar(settings.data_dir, name="index", module="cowiki.indexing")]
    if settings.live:
        sidecars.append(Sidecar(settings.data_dir))
    # A data dir once served under --root starts its live process up front again.
    (livesock.socket_path(settings.data_dir).parent / livesock.ON_DEMAND).unlink(missing_ok=True)
    options = gunicorn_options(host, port, workers, threads, settings.keepalive_seconds)

    def start(_arbiter: Any) -> None:
        for sidecar in sidecars:
            sidecar.start()

    def stop(_arbiter: Any) -> None:
        # The live process saves its open rooms on its way out: the index process takes them.
        for sidecar in reversed(sidecars):
            sidecar.stop()

    options["when_ready"], options["on_exit"] = start, stop
    WikiServer(settings, options).run()


def serve_root(root: Path, settings: Settings, host: str, port: int, workers: int,
               threads: int) -> None:
    """Run gunicorn for every wiki in `root` at /w/<slug>/, live processes on demand."""
    live = LiveOnDemand(root, settings) if settings.live else None
    options = gunicorn_options(host, port, workers, threads, settings.keepalive_seconds)
    if live is not None:
        options["when_ready"] = lambda _arbiter: live.start()
        options["on_exit"] = lambda _arbiter: live.stop()
    WikiServer(settings, options, root).run()


def close_databases(_arbiter: Any, worker: Any) -> None:
    """gunicorn's `worker_exit`, in the worker after its last request: close the database
    pool of every wiki it opened (a wiki that never opened has none)."""
    wsgi = getattr(worker, "wsgi", None)
    opened = getattr(wsgi, "opened", None)  # cowiki/multi.py's dispatcher: its wikis so far
    for app in opened() if callable(opened) else [wsgi]:
        services = getattr(app, "extensions", {}).get("cowiki")
        if services is None:
            continue
        try:
            services.db.dispose()
        except Exception as exc:  # noqa: BLE001 (the worker exits either way)
            log.warning("closing the database pool of %s failed: %s",
                        services.db.describe(), exc)
        else:
            log.info("worker %s closed its connections to %s", os.getpid(),
                     services.db.describe())


def check_keepalive(seconds: int) -> None:
    """ValueError unless `seconds` is a keep-alive `cowiki serve` accepts (1-MAX_KEEPALIVE)."""
    if not 1 <= seconds <= MAX_KEEPALIVE:
        raise ValueError(f"COWIKI_KEEPALIVE_SECONDS must be 1-{MAX_KEEPALIVE}, not {seconds}")


def gunicorn_options(host: str, port: int, workers: int, threads: int,
                     keepalive: int) -> dict[str, Any]:
    """gunicorn's settings for `cowiki serve`: on SIGTERM a worker finishes its requests
    in flight (up to graceful_timeout seconds), then closes its database pool.

    An idle connection stays open `keepalive` seconds for the client's next request.
    gthread workers (a sync worker would ignore keepalive) wait for it in their poller,
    not in a thread, so idle connections cannot starve the threads; each worker holds at
    most worker_connections (1000) of them.
    """
    check_keepalive(keepalive)
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "keepalive": keepalive,
        "timeout": 120,
        "graceful_timeout": 20,
        "worker_exit": close_databases,
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "cowiki",
        # No shared control socket in $HOME: several wikis (and tests) run side by side.
        "control_socket_disable": True,
    }
