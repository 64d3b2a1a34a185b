"""A few worker processes that run one job each under a wall-clock budget, killed past it.

Python cannot stop a thread, so work whose cost the input controls (formatting
a hostile page) runs in a worker process: the caller waits at most its budget,
and a worker still busy then is killed and replaced by a fresh one. Workers
come from a forkserver, so they start clean even when the caller has threads,
and each caps its own address space. Jobs are module-level functions (they
travel by name) with picklable arguments and results.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import threading
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

A = TypeVar("A")
R = TypeVar("R")
MEMORY_BYTES = 2 << 30  # address space of one worker


class OverBudget(Exception):
    """The job did not finish within its budget; its worker was killed."""


class PoolBusy(Exception):
    """Every worker stayed busy for as long as the caller could wait."""


class JobFailed(Exception):
    """The job raised in the worker (the message names the exception), or the worker died."""


class _Worker:
    def __init__(self, process: BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn

    def kill(self) -> None:
        self.process.kill()
        self.process.join(1)
        self.conn.close()


class KillablePool:
    """At most `size` worker processes; `run` gives each job its budget or kills its worker."""

    def __init__(self, size: int, preload: Sequence[str] = (), memory_bytes: int = MEMORY_BYTES):
        self.size = max(1, size)
        self.memory_bytes = memory_bytes
        self._context = multiprocessing.get_context("forkserver")
        if preload:
            self._context.set_forkserver_preload(list(preload))
        self._idle: list[_Worker] = []
        self._count = 0
        self._cond = threading.Condition()

    def run(self, job: Callable[[A], R], arg: A, budget: float, wait: float) -> R:
        """`job(arg)` in a worker: its result within `budget` seconds, else OverBudget.

        Waits at most `wait` seconds for a free worker (PoolBusy after that); a
        worker's own start-up does not count against the job's budget.
        """
        worker = self._acquire(time.monotonic() + wait)
        try:
            worker.conn.send((job, arg))
            if not worker.conn.poll(budget):
                raise OverBudget(f"{getattr(job, '__name__', 'job')} took over {budget:g} s")
            status, value = worker.conn.recv()
        except (EOFError, OSError) as exc:
            self._discard(worker)
            raise JobFailed(f"the worker died: {exc!r}") from exc
        except BaseException:
            self._discard(worker)
            raise
        self._release(worker)
        if status != "ok":
            raise JobFailed(value)
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop the idle workers (busy ones end when their jobs do)."""
        with self._cond:
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for worker in idle:
            worker.kill()

    def _acquire(self, deadline: float) -> _Worker:
        with self._cond:
            while not self._idle and self._count >= self.size:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PoolBusy(f"all {self.size} workers busy")
                self._cond.wait(remaining)
            if self._idle:
                return self._idle.pop()
            self._count += 1
        try:
            return self._start()
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _start(self) -> _Worker:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(theirs, self.memory_bytes),
                                        daemon=True, name="cowiki-worker")
        process.start()
        theirs.close()
        return _Worker(process, ours)

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            self._idle.append(worker)
            self._cond.notify()

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._cond:
            self._count -= 1
            self._cond.notify()


def _serve(conn: Connection, memory_bytes: int) -> None:
    """A worker's loop: run each job sent and answer ("ok", result) or ("error", text)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:  # inside a capped process (an export): stay under it
        memory_bytes = min(memory_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    while True:
        try:
            job, arg = conn.recv()
        except EOFError:  # the parent went away
            return
        try:
            answer: tuple[str, Any] = ("ok", job(arg))
        except Exception as exc:  # noqa: BLE001 (the caller decides; the worker lives on)
            answer = ("error", f"{type(exc).__name__}: {exc}")
        conn.send(answer)


_shared: tuple[int, KillablePool] | None = None
_shared_lock = threading.Lock()


def shared_pool(size: int, preload: Sequence[str] = ()) -> KillablePool:
    """This process's pool (a forked child gets its own), grown to at least `size` workers."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared[0] != os.getpid():
            _shared = (os.getpid(), KillablePool(size, preload))
        pool = _shared[1]
        pool.size = max(pool.size, size)
        return pool
