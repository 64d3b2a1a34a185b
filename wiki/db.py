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
    ACCOUNTS_SCHEMA,
    begin_statement,
    engine_options,
    prepare_engine,
    schema_url,
    search_path,
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


_SHARED: dict[tuple[int, str, int, float], Engine] = {}
_SHARED_LOCK = threading.Lock()


def _make_engine(url: str, pool_size: int, timeout: float) -> Engine:
    engine = create_engine(url, **engine_options(url, pool_size, timeout))
    prepare_engine(engine, timeout)
    return engine


def _shared_engine(url: str, pool_size: int, timeout: float) -> Engine:
    """One engine per process for every wiki in a schema of the database at `url`: the
    connections a server keeps open do not grow with the number of wikis."""
    key = (os.getpid(), url, pool_size, timeout)
    with _SHARED_LOCK:
        engine = _SHARED.get(key)
        if engine is None:
            for inherited in [k for k in _SHARED if k[0] != os.getpid()]:
                _SHARED.pop(inherited).dispose(close=False)  # the parent's, after a fork
            engine = _SHARED[key] = _make_engine(url, pool_size, timeout)
        return engine


class Database:
    """A database URL (or a SQLite file's path) with per-thread connections.

    A URL with a wiki's schema (`dbdialect.schema_url`, the wikis of a `--root` sharing
    one PostgreSQL database) borrows from one pool per process shared by all of them and
    sets the search_path on each connection it borrows.
    """

    def __init__(self, location: str | os.PathLike[str], pool_size: int = POOL_SIZE,
                 timeout: float = TIMEOUT) -> None:
        text = os.fspath(location)
        self.url = text if "://" in text else f"sqlite:///{Path(text).resolve()}"
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        self.path = Path(parsed.database) if self.dialect == "sqlite" and parsed.database \
            else None
        self.pool_size, self.timeout = pool_size, timeout
        self.schema = url_schema(self.url)
        self._shared_url = None if self.schema is None else (
            parsed.difference_update_query(["options"]).render_as_string(hide_password=False))
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
        if self._shared_url is not None:
            return _shared_engine(self._shared_url, self.pool_size, self.timeout)
        with self._lock:
            if self._engine is None or self._engine_pid != os.getpid():
                if self._engine is not None:
                    self._engine.dispose(close=False)  # the parent's connections stay its own
                engine = _make_engine(self.url, self.pool_size, self.timeout)
                self._engine, self._engine_pid = engine, os.getpid()
            return self._engine

    def connect(self) -> Connection:
        """This thread's connection (borrowed on first use, and again after a fork or
        once the database dropped it)."""
        local = self._local
        conn: Connection | None = getattr(local, "conn", None)
        if conn is None or local.pid != os.getpid() or conn.closed or conn.invalidated:
            conn = self.borrow()
            local.conn, local.pid = conn, os.getpid()
        return conn

    def borrow(self) -> Connection:
        """A connection of the caller's own (closing it gives it back to the pool)."""
        conn = self.engine.connect()
        if self.schema is not None:  # checked by url_schema: letters, digits, '_' and '-'
            conn.exec_driver_sql(f"SET search_path TO {search_path(self.schema)}")
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
        """Bring the schema up to date (several workers may start at once).

        A schema already up to date is only read: a worker starting while another
        process holds the write lock (a long write, a backup) does not wait for it."""
        from wiki.dbmigrate import current, head, upgrade

        if self.schema is None and current(self.connect()) == head():
            return
        if self.schema is not None:  # the accounts this wiki shares with the root's others
            with self.borrow() as conn:
                conn.exec_driver_sql(f"SET search_path TO {ACCOUNTS_SCHEMA}, public")
                conn.exec_driver_sql(begin_statement(self.dialect))
                upgrade(conn)
                conn.exec_driver_sql("COMMIT")
        conn = self.connect()
        if self.dialect == "sqlite":  # a table rebuilt must not cascade into the others
            conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
        try:
            with self.transaction() as conn:
                upgrade(conn)
        finally:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("PRAGMA foreign_keys = ON")

    def dispose(self) -> None:
        """Close every pooled connection of this process."""
        self.release()
        if self._shared_url is not None:  # idle connections go; other wikis' stay theirs
            self.engine.dispose()
            return
        with self._lock:
            if self._engine is not None and self._engine_pid == os.getpid():
                self._engine.dispose()
            self._engine = None
