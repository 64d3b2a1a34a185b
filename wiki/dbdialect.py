"""Everything SQLite and PostgreSQL do differently, in one place.

The rest of the wiki writes SQLAlchemy Core statements against wiki/dbschema.py
and asks this module for the few things that differ:

- case-insensitive text (`NoCase`): SQLite's NOCASE collation, PostgreSQL's citext;
- how a write transaction starts: SQLite takes the write lock up front
  (BEGIN IMMEDIATE), so writers queue instead of failing halfway;
- insert-or-update and insert-or-ignore (`upsert`, `insert_ignore`);
- serialising work on one key (`lock_key`), which the rate limiter's counters need;
- the triggers that keep comment-section stamps, and the engine's own setup;
- which failures are a busy, full or unreachable database (`fault`), and what
  the engine itself can check of its data (`integrity_problems`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from sqlalchemy import Connection, Dialect, Integer, Table, Text, event, func, make_url, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator, TypeEngine

Fault = Literal["busy", "full", "read-only", "unreachable"]


class NoCase(TypeDecorator[str]):
    """Text compared without regard to case, in equality, uniqueness and ordering."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.CITEXT())
        return dialect.type_descriptor(Text(collation="NOCASE"))


def begin_statement(dialect: str) -> str:
    """The statement that opens a write transaction."""
    return "BEGIN IMMEDIATE" if dialect == "sqlite" else "BEGIN"


def engine_options(url: str, pool_size: int, timeout: float) -> dict[str, Any]:
    """create_engine's options: statements commit on their own (reads never hold a
    snapshot open); transactions are opened explicitly by wiki/db.py."""
    options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"}
    if url.startswith("sqlite"):
        options["connect_args"] = {"timeout": timeout, "check_same_thread": False}
    else:
        options.update(pool_size=pool_size, max_overflow=pool_size, pool_timeout=timeout,
                       pool_pre_ping=True, pool_recycle=3600,
                       connect_args={"connect_timeout": max(1, int(timeout))})
    return options


def prepare_engine(engine: Engine, timeout: float) -> None:
    """Per-connection settings: SQLite's journal, foreign keys and lock wait;
    PostgreSQL's lock and statement limits (a stuck lock answers 'busy', never hangs)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        if engine.dialect.name == "sqlite":
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                           f"busy_timeout={int(timeout * 1000)}"):
                cursor.execute(f"PRAGMA {pragma}")
        else:
            millis = int(timeout * 1000)
            cursor.execute(f"SET lock_timeout = {millis}")
            cursor.execute(f"SET idle_in_transaction_session_timeout = {millis * 6}")
        cursor.close()


def upsert(dialect: str, table: Table, values: Mapping[str, object], keys: Iterable[str],
           update: Iterable[str] | None = None) -> Any:
    """INSERT that replaces the `update` columns (default: all but the keys) of the row
    with the same `keys`."""
    statement = _insert(dialect, table).values(**values)
    keys = list(keys)
    changed = [c for c in values if c not in keys] if update is None else list(update)
    return statement.on_conflict_do_update(
        index_elements=keys, set_={c: statement.excluded[c] for c in changed})


def upsert_rows(dialect: str, table: Table, rows: Sequence[Mapping[str, object]],
                keys: Iterable[str]) -> Any:
    """`upsert` of several rows (with the same columns, distinct keys) in one statement."""
    statement = _insert(dialect, table).values(list(rows))
    keys = list(keys)
    return statement.on_conflict_do_update(
        index_elements=keys, set_={c: statement.excluded[c] for c in rows[0] if c not in keys})


def insert_ignore(dialect: str, table: Table, values: Mapping[str, object]) -> Any:
    """INSERT that does nothing when a row with the same unique key exists."""
    return _insert(dialect, table).values(**values).on_conflict_do_nothing()


def _insert(dialect: str, table: Table) -> Any:
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def starts_with(column: ColumnElement[str], prefix: str) -> ColumnElement[bool]:
    """`column` begins with `prefix`, in its own collation (no LIKE escapes)."""
    return func.substr(column, 1, len(prefix)) == prefix


def lock_key(conn: Connection, key: str) -> None:
    """Serialise transactions on `key` until this one ends. SQLite's write transaction
    already holds the whole database; PostgreSQL takes an advisory lock."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtextextended(%(k)s, 0))",
                             {"k": key})


def prepare_schema(conn: Connection) -> None:
    """What the tables need before they are created (PostgreSQL: citext)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS citext SCHEMA public")


def create_stamp_triggers(conn: Connection) -> None:
    """Triggers that move a page's discussion stamp on every change to its comments,
    their reports and reactions, so no write path can forget it."""
    statements = _PG_TRIGGERS if conn.dialect.name == "postgresql" else sqlite_triggers()
    for statement in statements:
        conn.exec_driver_sql(statement)


def sqlite_triggers() -> list[str]:
    """SQLite's stamp triggers (also the last hand-made migration's, wiki/sqlite_legacy.py:
    the baseline revision starts where those migrations ended)."""
    bump = ("INSERT INTO discussion_stamps (page, stamp) SELECT page, 1 FROM comments"
            " WHERE id = {id} ON CONFLICT(page) DO UPDATE SET stamp = stamp + 1;")
    triggers = {
        "comments_insert": ("AFTER INSERT ON comments", bump.format(id="NEW.id")),
        "comments_update": ("AFTER UPDATE ON comments", bump.format(id="NEW.id")),
        "comments_moved": ("AFTER UPDATE OF page ON comments",
                           "INSERT INTO discussion_stamps (page, stamp) VALUES (OLD.page, 1)"
                           " ON CONFLICT(page) DO UPDATE SET stamp = stamp + 1;"),
        "reports_insert": ("AFTER INSERT ON comment_reports", bump.format(id="NEW.comment_id")),
        "reports_delete": ("AFTER DELETE ON comment_reports", bump.format(id="OLD.comment_id")),
        "reactions_insert": ("AFTER INSERT ON reactions WHEN NEW.target LIKE 'comment:%'",
                             bump.format(id="CAST(substr(NEW.target, 9) AS INTEGER)")),
        "reactions_delete": ("AFTER DELETE ON reactions WHEN OLD.target LIKE 'comment:%'",
                             bump.format(id="CAST(substr(OLD.target, 9) AS INTEGER)")),
    }
    return [f"CREATE TRIGGER stamp_{name} {when} BEGIN {action} END"
            for name, (when, action) in triggers.items()]


_PG_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION cowiki_bump_stamp(p citext) RETURNS void
       LANGUAGE sql AS $$
         INSERT INTO discussion_stamps (page, stamp) SELECT p, 1 WHERE p IS NOT NULL
         ON CONFLICT (page) DO UPDATE SET stamp = discussion_stamps.stamp + 1
       $$""",
    """CREATE OR REPLACE FUNCTION cowiki_stamp_comment() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND OLD.page IS DISTINCT FROM NEW.page THEN
           PERFORM cowiki_bump_stamp(OLD.page);
         END IF;
         PERFORM cowiki_bump_stamp(NEW.page);
         RETURN NULL;
       END $$""",
    """CREATE OR REPLACE FUNCTION cowiki_stamp_report() RETURNS trigger
       LANGUAGE plpgsql AS $$
       DECLARE row_id integer := CASE WHEN TG_OP = 'DELETE' THEN OLD.comment_id
                                      ELSE NEW.comment_id END;
       BEGIN
         PERFORM cowiki_bump_stamp((SELECT page FROM comments WHERE id = row_id));
         RETURN NULL;
       END $$""",
    """CREATE OR REPLACE FUNCTION cowiki_stamp_reaction() RETURNS trigger
       LANGUAGE plpgsql AS $$
       DECLARE target text := CASE WHEN TG_OP = 'DELETE' THEN OLD.target ELSE NEW.target END;
       BEGIN
         IF left(target, 8) = 'comment:' AND substr(target, 9) ~ '^[0-9]{1,9}$' THEN
           PERFORM cowiki_bump_stamp(
             (SELECT page FROM comments WHERE id = substr(target, 9)::integer));
         END IF;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER stamp_comments AFTER INSERT OR UPDATE ON comments
       FOR EACH ROW EXECUTE FUNCTION cowiki_stamp_comment()""",
    """CREATE TRIGGER stamp_reports AFTER INSERT OR DELETE ON comment_reports
       FOR EACH ROW EXECUTE FUNCTION cowiki_stamp_report()""",
    """CREATE TRIGGER stamp_reactions AFTER INSERT OR DELETE ON reactions
       FOR EACH ROW EXECUTE FUNCTION cowiki_stamp_reaction()""",
]


def fault(exc: BaseException) -> Fault | None:
    """What kind of passing trouble a database error is, or None for a real bug."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return "unreachable"
    original = getattr(exc, "orig", exc)
    text = str(original).lower()
    code = str(getattr(original, "sqlstate", "") or "")
    # lock_timeout, statement_timeout, serialisation failure, deadlock, too many connections
    if "locked" in text or "busy" in text or code in ("55P03", "57014", "40001", "40P01",
                                                      "53300"):
        return "busy"
    # SQLite says "disk I/O error" when its journal cannot grow on a full disk
    if "full" in text or "disk i/o error" in text or code == "53100":
        return "full"
    if "readonly" in text or "read-only" in text or code == "25006":
        return "read-only"
    if code.startswith("08") or "connection" in text or "timeout" in text:
        return "unreachable"
    return None


def integrity_problems(conn: Connection) -> list[str]:
    """What the engine's own consistency checks find (for `cowiki check`): SQLite's
    `integrity_check` and `foreign_key_check`. PostgreSQL enforces every constraint on
    each write: nothing to run beyond reaching it."""
    if conn.dialect.name != "sqlite":
        return []
    problems = [str(row[0]) for row in conn.exec_driver_sql("PRAGMA integrity_check")
                if str(row[0]) != "ok"]
    for row in conn.exec_driver_sql("PRAGMA foreign_key_check"):
        problems.append(f"foreign key: row {row[1]} of {row[0]} points to a missing {row[2]}")
    return problems


ACCOUNTS_SCHEMA = "cowiki_accounts"  # accounts shared by the wikis of a --root (PostgreSQL)
# Failed logins count per account on the whole server (and per address), so ten wrong
# passwords lock an account everywhere, not ten in each wiki.
ACCOUNT_TABLES = frozenset({"users", "tokens", "login_failures"})


def schema_url(url: str, schema: str) -> str:
    """`url` with its tables in `schema` of that database (PostgreSQL's search_path), for
    many wikis sharing one PostgreSQL database, whose accounts are in ACCOUNTS_SCHEMA
    (unless the schema has accounts of its own, made before accounts were shared). A
    SQLite URL is returned as it is."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    return parsed.update_query_dict({"options": "-csearch_path=" + search_path(schema)}) \
        .render_as_string(hide_password=False)


def search_path(schema: str) -> str:
    """A wiki schema's search_path: its own tables first, then the shared accounts."""
    return f'"{schema}",{ACCOUNTS_SCHEMA},public'


def url_schema(url: str) -> str | None:
    """The schema `schema_url` put into a PostgreSQL URL, or None."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return None
    options = parsed.query.get("options", "")
    found = re.fullmatch(rf'-csearch_path="([a-z0-9_-]{{1,63}})",{ACCOUNTS_SCHEMA},public',
                         options if isinstance(options, str) else "")
    return found.group(1) if found else None


def account_scope(conn: Connection) -> str:
    """Which tables the schema behind `conn` holds: "all" (a wiki with accounts of its
    own: every SQLite file, a PostgreSQL wiki of its own), "accounts" (the accounts
    the wikis of a --root share) or "wiki" (a wiki of such a root)."""
    if conn.dialect.name != "postgresql":
        return "all"
    path = _search_path(conn)
    if path[0] == ACCOUNTS_SCHEMA:
        return "accounts"
    return "wiki" if ACCOUNTS_SCHEMA in path[1:] else "all"


def in_scope(scope: str, table: str) -> bool:
    """True when `table` belongs in a schema of this scope (see account_scope)."""
    return scope == "all" or (table in ACCOUNT_TABLES) == (scope == "accounts")


def shares_accounts(conn: Connection) -> bool:
    """True when the wiki behind `conn` finds its accounts in ACCOUNTS_SCHEMA (a wiki
    of a --root made since accounts are shared), not in its own schema."""
    return account_scope(conn) == "wiki" and not has_own_table(conn, "users")


def has_own_table(conn: Connection, table: str) -> bool:
    """True when `table` is in the connection's own schema (SQLite: in the file), not
    found further along the search_path."""
    return table in own_tables(conn)


def own_tables(conn: Connection) -> set[str]:
    """The tables in the connection's own schema: the first of its search_path (which
    may not exist yet; PostgreSQL's current_schema() would then name the next one)."""
    if conn.dialect.name != "postgresql":
        return {str(name) for name in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table'").scalars()}
    first = _search_path(conn)[0]
    if first == "$user":  # PostgreSQL's default path: the user's schema, else public
        first = str(conn.exec_driver_sql("SELECT current_schema()").scalar() or "public")
    return {str(name) for name in conn.exec_driver_sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = %(s)s", {"s": first}).scalars()}


def _search_path(conn: Connection) -> list[str]:
    return [part.strip().strip('"')
            for part in conn.exec_driver_sql("SHOW search_path").scalar_one().split(",")]


def ensure_schema(conn: Connection) -> None:
    """Create the schema the connection's search_path starts with, and citext in
    `public` where every wiki's schema finds it (PostgreSQL only)."""
    if conn.dialect.name != "postgresql":
        return
    conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS citext SCHEMA public")
    first = conn.exec_driver_sql("SHOW search_path").scalar_one().split(",")[0].strip()
    if first and first != '"$user"' and first != "public":
        name = first.strip('"').replace('"', '""')
        conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{name}"')


def version_schema(conn: Connection) -> str | None:
    """The schema Alembic keeps its revision in: the connection's own (PostgreSQL), so a
    wiki's schema never reads another's through the search_path; None on SQLite."""
    if conn.dialect.name != "postgresql":
        return None
    found = conn.exec_driver_sql("SELECT current_schema()").scalar()
    return str(found) if found else None


def begin_snapshot(dialect: str) -> str:
    """The statement that opens a read-only snapshot for copying a whole database: one
    consistent moment, without blocking writers (SQLite in WAL mode fixes it at the
    first read; PostgreSQL needs REPEATABLE READ)."""
    return "BEGIN" if dialect == "sqlite" else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"


def after_copy(conn: Connection, table: Table) -> None:
    """After rows were copied into `table` with their ids: the next id follows the
    copied ones. SQLite takes max(id) + 1 by itself; PostgreSQL's serial sequence is
    moved past them."""
    keys = list(table.primary_key.columns)
    if conn.dialect.name != "postgresql" or len(keys) != 1 \
            or not isinstance(keys[0].type, Integer):
        return
    (key,) = keys
    highest = select(func.coalesce(func.max(key), 0)).scalar_subquery()
    sequence = func.pg_get_serial_sequence(table.name, key.name)
    conn.execute(select(func.setval(sequence, highest + 1, False)))
