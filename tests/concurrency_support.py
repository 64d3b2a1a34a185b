"""Running work in threads released together, as simultaneous web requests do."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from wiki.db import Database

T = TypeVar("T")


def at_once(count: int, work: Callable[[int], T], database: Database | None = None
            ) -> list[T | BaseException]:
    """Run `work(0)` .. `work(count - 1)` in threads released together; each result or
    the exception it raised, in order. With `database`, each thread gives its connection
    back at the end, as a request does."""
    start = threading.Barrier(count)
    results: list[T | BaseException] = [RuntimeError("did not run")] * count

    def worker(number: int) -> None:
        try:
            start.wait()
            results[number] = work(number)
        except BaseException as exc:  # noqa: BLE001 - returned, so the test asserts on it
            results[number] = exc
        finally:
            if database is not None:
                database.release()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def errors_of(results: list[T | BaseException]) -> list[BaseException]:
    """The exceptions among `at_once`'s results."""
    return [r for r in results if isinstance(r, BaseException)]
