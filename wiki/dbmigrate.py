"""Bringing a database's schema up to date with Alembic (wiki/migrations/).

A SQLite file made before Alembic counts its hand-made migrations in `PRAGMA
user_version`: it gets the ones it lacks (wiki/sqlite_legacy.py) and is then
marked as the baseline revision, whose schema is exactly theirs.
"""

from __future__ import annotations

import logging
import sqlite3
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from wiki import sqlite_legacy
from wiki.dbdialect import account_scope, ensure_schema, lock_key, version_schema

SCRIPTS = Path(__file__).with_name("migrations")
# Alembic tells every step at INFO; a process starting up has nothing to say about it.
logging.getLogger("alembic").setLevel(logging.WARNING)
BASELINE = "0001"


def _config() -> Config:
    # A new one each time: its attributes carry one migration's connection, and the
    # wikis of a root may migrate in several threads at once.
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    return config


@cache
def head() -> str:
    """The newest revision this cowiki knows."""
    found = ScriptDirectory.from_config(_config()).get_current_head()
    assert found is not None
    return found


def current(conn: Connection) -> str | None:
    """The revision a database is at (None: a new one, or one from before Alembic)."""
    options = {"version_table_schema": version_schema(conn)}
    return MigrationContext.configure(conn, opts=options).get_current_revision()


def upgrade(conn: Connection) -> None:
    """Migrate the database behind `conn` (inside the caller's write transaction) to
    the head revision; a no-op, and cheap, when it is there."""
    lock_key(conn, "cowiki schema")
    ensure_schema(conn)
    if current(conn) == head():
        return
    config = _config()
    config.attributes["connection"] = conn
    config.attributes["scope"] = account_scope(conn)
    if conn.dialect.name == "sqlite" and _made_before_alembic(conn):
        raw = conn.connection.dbapi_connection
        assert isinstance(raw, sqlite3.Connection)
        factory, raw.row_factory = raw.row_factory, sqlite3.Row
        try:
            sqlite_legacy.apply(raw)
        finally:
            raw.row_factory = factory
        command.stamp(config, BASELINE)
    command.upgrade(config, "head")


def _made_before_alembic(conn: Connection) -> bool:
    names = set(inspect(conn).get_table_names())
    return "users" in names and "alembic_version" not in names
