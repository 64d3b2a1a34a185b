"""The shared database: accounts and the workshop around the text; never page content.

SQLAlchemy Core over SQLite (the embedded default, a file in the data dir) or
PostgreSQL (`COWIKI_DATABASE_URL=postgresql+psycopg://...`). Each thread uses
one connection at a time, borrowed from the engine's pool; statements outside
`transaction()` commit on their own, so a read never holds a snapshot open.
Schema changes are Alembic migrations (wiki/dbmigrate.py).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import Connection, create_engine, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from wiki.config import Settings
from wiki.dbdialect import (
    begin_statement,
    engine_options,
    prepare_engine,
    schema_url,
    url_schema,
)

DEFAULT_FILE = "cowiki.db"
SCHEMA_FILE = "database-schema"
POOL_SIZE = 5
TIMEOUT = 10.0


def database_url(data_dir: str | os.PathLike[str], url: str = "") -> str:
    """The database a data dir uses: `url` when given, else its own SQLite file."""
    if url:
        return url
    return f"sqlite:///{Path(data_dir).resolve() / DEFAULT_FILE}"


def open_database(settings: Settings) -> Database:
    """The database of the wiki `settings` describe (not yet migrated).

    A wiki of a `--root` that shares one PostgreSQL database has its own schema in it
    (the root puts it into the URL); the data dir remembers it in SCHEMA_FILE, so a
    command run on that wiki alone (`cowiki --data ROOT/SLUG ...`) finds its tables too.
    """
    url = database_url(settings.data_dir, settings.database_url)
    marker = Path(settings.data_dir) / SCHEMA_FILE
    schema = url_schema(url)
    if schema is not None:
        if marker.parent.is_dir() and _read(marker) != schema:
            marker.write_text(schema + "\n", encoding="utf-8")
    elif settings.database_url and (remembered := _read(marker)):
        url = schema_url(url, remembered)
    return Database(url, settings.database_pool_size, settings.database_timeout)


def _read(marker: Path) -> str | None:
    try:
        text = marker.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text if re.fullmatch(r"[a-z0-9_-]{1,63}", text) else None


class Database:
    """A database URL (or a SQLite file's path) with per-thread connections."""

    def __init__(self, location: str | os.PathLike[str], pool_size: int = POOL_SIZE,
                 timeout: float = TIMEOUT) -> None:
        text = os.fspath(location)
        self.url = text if "://" in text else f"sqlite:///{Path(text).resolve()}"
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        self.path = Path(parsed.database) if self.dialect == "sqlite" and parsed.database \
            else None
        self.pool_size, self.timeout = pool_size, timeout
        self._local = threading.local()
        self._engine: Engine | None = None
        self._engine_pid = 0
        self._lock = threading.Lock()

    def describe(self) -> str:
        """Which database this is, for people: never the password."""
        if self.path is not None:
            return f"SQLite {self.path.name}"
        url = make_url(self.url)
        return f"PostgreSQL {url.host or 'local'}/{url.database or ''}"

    @property
    def engine(self) -> Engine:
        """This process's engine (a forked worker makes its own pool)."""
        with self._lock:
            if self._engine is None or self._engine_pid != os.getpid():
                if self._engine is not None:
                    self._engine.dispose(close=False)  # the parent's connections stay its own
                engine = create_engine(self.url, **engine_options(
                    self.url, self.pool_size, self.timeout))
                prepare_engine(engine, self.timeout)
                self._engine, self._engine_pid = engine, os.getpid()
            return self._engine

    def connect(self) -> Connection:
        """This thread's connection (borrowed on first use, and again after a fork or
        once the database dropped it)."""
        local = self._local
        conn: Connection | None = getattr(local, "conn", None)
        if conn is None or local.pid != os.getpid() or conn.closed or conn.invalidated:
            conn = self.engine.connect()
            local.conn, local.pid = conn, os.getpid()
        return conn

    def release(self) -> None:
        """Give this thread's connection back to the pool (at the end of a request)."""
        conn: Connection | None = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None and self._local.pid == os.getpid():
            with suppress(DBAPIError):
                conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction taken up front, so concurrent writers queue instead of fail."""
        conn = self.connect()
        conn.exec_driver_sql(begin_statement(self.dialect))
        try:
            yield conn
            conn.exec_driver_sql("COMMIT")
        except BaseException:
            # Also when COMMIT itself failed (disk full); a dropped connection has
            # nothing left to roll back.
            with suppress(DBAPIError):
                conn.exec_driver_sql("ROLLBACK")
            raise

    def migrate(self) -> None:
        """Bring the schema up to date (several workers may start at once)."""
        from wiki.dbmigrate import upgrade

        with self.transaction() as conn:
            upgrade(conn)

    def dispose(self) -> None:
        """Close every pooled connection of this process."""
        self.release()
        with self._lock:
            if self._engine is not None and self._engine_pid == os.getpid():
                self._engine.dispose()
            self._engine = None
