"""Copying a wiki's database to another place or engine, table by table.

`cowiki migrate-db` moves a wiki from its SQLite file to PostgreSQL (or back),
and a backup of a wiki on PostgreSQL stores its database as the same SQLite
file a SQLite wiki's backup holds (wiki/backup.py); restoring onto PostgreSQL
copies that file back. All of it is this module:

- the target is checked first: a URL of a known engine that answers and holds
  no rows; then it is migrated to this cowiki's schema;
- every table of wiki/dbschema.py is read from one snapshot of the source (so
  the copy is one moment, never half a transaction) and written in foreign-key
  order, in batches, inside one write transaction on the target: a failed copy
  leaves the target empty;
- ids are copied as they are; PostgreSQL's id sequences are then moved past
  them (wiki/dbdialect.after_copy);
- the discussion stamps, which triggers bump on every comment, report and
  reaction the copy inserts, are replaced by the source's own at the end;
- accounts shared by the wikis of a root (dbdialect.ACCOUNTS_SCHEMA) are read for
  the wiki's members only; written into shared accounts, an account whose name and
  email are there already is that account (its password stays), a new one gets the
  next free id, and every reference to an account in the copied rows follows.

The wiki should be stopped (or at least not written) while `migrate-db` copies:
what is written to the source after its snapshot is not in the target.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    Table,
    delete,
    false,
    func,
    insert,
    make_url,
    or_,
    select,
)
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from wiki import dbdialect
from wiki.db import Database
from wiki.dbmigrate import current, head
from wiki.dbschema import discussion_stamps, login_failures, members, metadata, tokens, users
from wiki.errors import WikiError
from wiki.passwords import name_key

BATCH = 1000
ENGINES = ("sqlite", "postgresql")
# Filled by triggers while the other tables are copied: replaced by the source's rows last.
SET_BY_TRIGGERS = (discussion_stamps,)


class CopyError(WikiError):
    """A database could not be copied; the message says why (one line)."""


@dataclass(frozen=True)
class TableCount:
    """Rows of one table in the source and in the target."""

    table: str
    source: int
    target: int

    def __str__(self) -> str:
        return f"{self.table} {self.source} → {self.target}"


def copy_order() -> list[Table]:
    """Every table, parents before the rows that point at them, trigger-filled ones last."""
    return [t for t in metadata.sorted_tables if t not in SET_BY_TRIGGERS] \
        + list(SET_BY_TRIGGERS)


def checked_url(url: str) -> str:
    """`url` when it names SQLite or PostgreSQL; CopyError otherwise."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise CopyError(f"{url!r} is not a database URL; give postgresql+psycopg://USER:"
                        "PASSWORD@HOST/DB or sqlite:///PATH") from exc
    if parsed.get_backend_name() not in ENGINES or parsed.get_driver_name() not in (
            "pysqlite", "psycopg"):
        shown = parsed.render_as_string(hide_password=True)
        raise CopyError(f"cowiki works with SQLite (sqlite:///PATH) and PostgreSQL through"
                        f" psycopg (postgresql+psycopg://...), not {shown}")
    if parsed.get_backend_name() == "sqlite" and not parsed.database:
        raise CopyError("a SQLite URL needs a file: sqlite:///PATH")
    return url


def open_target(url: str) -> Database:
    """The database at `url`, reachable, empty and migrated to this cowiki's schema.

    A database that holds rows is refused before anything in it changes.
    """
    target = Database(checked_url(url))
    try:
        refuse_rows(target)
        target.migrate()
        refuse_rows(target)
    except SQLAlchemyError as exc:
        target.dispose()
        raise CopyError(f"cannot use {target.describe()}: {_reason(exc)}") from exc
    except CopyError:
        target.dispose()
        raise
    return target


def refuse_rows(target: Database) -> None:
    """CopyError when any of cowiki's tables in `target` holds a row."""
    conn = target.connect()
    present = dbdialect.own_tables(conn)
    shared = dbdialect.shares_accounts(conn)
    counts = {t.name: _count(conn, t, shared) for t in copy_order() if t.name in present
              or (shared and "members" in present and t.name in dbdialect.ACCOUNT_TABLES)}
    filled = ", ".join(f"{name} {rows}" for name, rows in counts.items() if rows)
    if filled:
        raise CopyError(f"{target.describe()} already holds data ({filled}); give an empty"
                        " database")


def copy_database(source: Database, target: Database, batch: int = BATCH) -> list[TableCount]:
    """Copy every row of `source` into the empty, migrated `target` (see open_target);
    per table, the rows of the source's snapshot and what the target holds after."""
    try:
        with _snapshot(source) as read:
            at = current(read)
            if at != head():
                raise CopyError(f"{source.describe()} is at schema {at or 'none'}, this cowiki"
                                f" at {head()}: start the wiki once (it upgrades), then copy")
            copied = {}
            with target.transaction() as write:
                accounts = _Accounts(dbdialect.shares_accounts(read),
                                     dbdialect.shares_accounts(write))
                for table in copy_order():
                    if table in SET_BY_TRIGGERS:
                        write.execute(delete(table))
                    copied[table.name] = accounts.copy(read, write, table, batch)
                    if not (accounts.target_shared
                            and table.name in dbdialect.ACCOUNT_TABLES):
                        dbdialect.after_copy(write, table)
        after = count_rows(target)
    except SQLAlchemyError as exc:
        raise CopyError(f"the copy from {source.describe()} to {target.describe()} failed:"
                        f" {_reason(exc)}") from exc
    return [TableCount(name, rows, after[name]) for name, rows in copied.items()]


def count_rows(db: Database) -> dict[str, int]:
    """Rows per table, in copy order (shared accounts: the wiki's members' only)."""
    conn = db.connect()
    shared = dbdialect.shares_accounts(conn)
    return {table.name: _count(conn, table, shared) for table in copy_order()}


def _rows(table: Table, shared: bool) -> Select[Any]:
    """The rows of `table` that are the wiki's: of shared accounts, its members' (and
    none of the server's failed-login counts)."""
    if not shared or table.name not in dbdialect.ACCOUNT_TABLES:
        return select(table)
    if table is login_failures:
        return select(table).where(false())
    owner = users.c.id if table is users else tokens.c.user_id
    return select(table).where(owner.in_(select(members.c.user_id)))


@dataclass
class _Accounts:
    """Copies tables, turning account ids of the source into the target's."""

    source_shared: bool
    target_shared: bool
    ids: dict[int, int] = field(default_factory=dict)

    def copy(self, read: Connection, write: Connection, table: Table, batch: int) -> int:
        rows = 0
        # Ordered by key: replies after their parent.
        ordered = _rows(table, self.source_shared).order_by(*table.primary_key.columns)
        result = read.execution_options(yield_per=batch).execute(ordered)
        for part in result.mappings().partitions():
            found = [dict(row) for row in part]
            rows += len(found)
            if not self.target_shared:
                write.execute(insert(table), found)
            elif table is login_failures:
                continue  # the server's counts, not the copied wiki's
            elif table is users:
                for row in found:
                    self.ids[row["id"]] = _account(write, row)
            elif table is tokens:
                for row in found:
                    row = {**row, "user_id": self.ids[row["user_id"]]}
                    del row["id"]
                    write.execute(dbdialect.insert_ignore(write.dialect.name, tokens, row))
            else:
                write.execute(insert(table), [self._mapped(table, row) for row in found])
        return rows

    def _mapped(self, table: Table, row: dict[str, Any]) -> dict[str, Any]:
        for column in table.columns:
            if row.get(column.name) is not None and any(
                    key.column is users.c.id for key in column.foreign_keys):
                mapped = self.ids.get(row[column.name])
                if mapped is None:
                    raise CopyError(f"a row of {table.name} names account"
                                    f" {row[column.name]}, which is not in the copy")
                row[column.name] = mapped
        return row


def _account(write: Connection, row: dict[str, Any]) -> int:
    """The id in shared accounts of the account `row` of a copied wiki: the same name
    and email are the same person; a name or email someone else has stops the copy."""
    same = write.execute(select(users.c.id, users.c.email).where(
        or_(users.c.name_key == name_key(row["name"]), users.c.email == row["email"]))).all()
    if len(same) == 1 and same[0].email.casefold() == row["email"].casefold():
        return int(same[0].id)
    if same:
        raise CopyError(f"the account {row['name']} <{row['email']}> clashes with another"
                        " account of this server (same name or email)")
    fresh = {key: value for key, value in row.items() if key != "id"}
    fresh["name_key"] = name_key(row["name"])
    return int(write.execute(insert(users).values(**fresh).returning(users.c.id)).scalar_one())


def _count(conn: Connection, table: Table, shared: bool = False) -> int:
    counted = _rows(table, shared).with_only_columns(func.count()).select_from(table)
    return int(conn.execute(counted).scalar_one())


@contextmanager
def _snapshot(db: Database) -> Iterator[Connection]:
    """A connection of its own reading one consistent moment of `db`, writers unblocked."""
    with db.borrow() as conn:
        conn.exec_driver_sql(dbdialect.begin_snapshot(db.dialect))
        try:
            yield conn
        finally:
            with suppress(SQLAlchemyError):  # nothing to roll back on a dropped connection
                conn.exec_driver_sql("ROLLBACK")


def _reason(exc: SQLAlchemyError) -> str:
    """The database's own words for a failure, first line only (no SQL, no parameters)."""
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__
