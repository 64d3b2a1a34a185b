"""The two database engines the benchmarks compare, and the bare driver under each.

SQLite is each wiki's own file (DATA/cowiki.db, COWIKI_DATABASE_URL empty);
PostgreSQL is a throwaway cluster from tests/pgcluster.py (a Unix socket, no
TCP; like its tests, fsync and synchronous_commit off, close to SQLite's WAL
with synchronous=NORMAL, which does not wait for the disk at a commit either).

The raw limit is what the same driver does with no cowiki around it: a bare
INSERT + COMMIT, and a bare SELECT by primary key, on a table of its own.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_save import Row, cpu_seconds, timed  # noqa: E402  (this folder is on sys.path)

from tests import pgcluster  # noqa: E402

ENGINES = ("sqlite", "postgresql")
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
RAW_INSERT = "INSERT + COMMIT"
RAW_SELECT = "SELECT by key"
INSERTS = {"sqlite": "INSERT INTO bench_raw (id, body) VALUES (?, ?)",
           "postgresql": "INSERT INTO bench_raw (id, body) VALUES (%s, %s)"}
SELECTS = {"sqlite": "SELECT body FROM bench_raw WHERE id = ?",
           "postgresql": "SELECT body FROM bench_raw WHERE id = %s"}


def engine_choice(value: str) -> tuple[str, ...]:
    """--database's value: one engine, or 'both'."""
    if value == "both":
        return ENGINES
    if value not in ENGINES:
        raise ValueError(f"--database is sqlite, postgresql or both, not {value!r}")
    return (value,)


@contextmanager
def database(engine: str) -> Iterator[str]:
    """COWIKI_DATABASE_URL of a fresh, migrated database on `engine`.

    '' for SQLite (each data dir keeps its own file); for PostgreSQL a cluster is
    started for the block and removed after it.
    """
    if engine == "sqlite":
        yield ""
        return
    cluster = pgcluster.start()
    try:
        yield cluster.fresh_database()
    finally:
        cluster.stop()


def server_env(url: str) -> dict[str, str]:
    """The environment that points `cowiki serve` at the database `url` ('' = SQLite)."""
    return {"COWIKI_DATABASE_URL": url} if url else {}


def connections(url: str) -> int:
    """Sessions open on the PostgreSQL server of `url` (its own included)."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        found = conn.execute("SELECT count(*) FROM pg_stat_activity"
                             " WHERE backend_type = 'client backend'").fetchone()
    return int(found[0]) if found else 0


def database_cpu_seconds(url: str) -> float:
    """CPU used so far by the PostgreSQL server of `url` (postmaster and its backends),
    which `cowiki serve`'s own CPU does not include; 0 for SQLite (inside the workers)."""
    if not url:
        return 0.0
    socket_dir = make_url(url).query["host"]
    pidfile = Path(str(socket_dir)).parent / "data" / "postmaster.pid"
    return cpu_seconds(int(pidfile.read_text().split()[0]))


def libpq_url(url: str) -> str:
    """A SQLAlchemy postgresql+psycopg URL as libpq's own URI."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# -- the raw limit -------------------------------------------------------------------------


def measure_raw(engine: str, url: str, scratch: Path, count: int) -> list[Row]:
    """A bare INSERT + COMMIT and a bare SELECT by key with the driver cowiki uses."""
    if engine == "sqlite":
        conn: sqlite3.Connection | psycopg.Connection[tuple[object, ...]]
        conn = sqlite3.connect(scratch / "raw.db", isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL"):  # as wiki/dbdialect.py
            conn.execute(f"PRAGMA {pragma}")
    else:
        conn = psycopg.connect(libpq_url(url), autocommit=True)
    body = "A comment of a typical length, a sentence or two about the paragraph above. " * 2
    try:
        conn.execute("DROP TABLE IF EXISTS bench_raw")
        conn.execute("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")

        def insert(i: int) -> None:
            conn.execute("BEGIN")
            conn.execute(INSERTS[engine], (i + 10, body))
            conn.execute("COMMIT")

        def select(i: int) -> object:
            return conn.execute(SELECTS[engine], ((i * 7) % count + 10,)).fetchone()

        rows = [timed(f"{NAMES[engine]} raw {RAW_INSERT}", count, insert),
                timed(f"{NAMES[engine]} raw {RAW_SELECT}", count, select)]
        conn.execute("DROP TABLE bench_raw")
        return rows
    finally:
        conn.close()


def best_of(first: list[Row], second: list[Row]) -> list[Row]:
    """Each row's faster run: other work slowing one of them must not flatter a ratio."""
    return [min(a, b, key=Row.p50) for a, b in zip(first, second, strict=True)]

