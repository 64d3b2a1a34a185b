"""Backup and restore of a whole wiki as one tar archive, taken while the wiki runs.

The archive holds three members:

- `repo.bundle`: `git bundle create --all`, every ref (main, version tags,
  notes) with all objects they reach;
- `cowiki.db`: a consistent copy of the database as one SQLite file, whichever
  engine the wiki runs on. A SQLite wiki's file is copied with SQLite's online
  backup API (one read transaction, so writers are never blocked in WAL mode
  and the copy is a snapshot, never a torn file); a wiki on PostgreSQL is
  copied table by table from one REPEATABLE READ snapshot (wiki/dbcopy.py);
- `cowiki-backup.json`: format, time, head, counts, the schema revision and
  SHA-256 of the others.

A restore puts the database onto the engine the restored wiki is configured
for: the SQLite file into the data dir, or (COWIKI_DATABASE_URL set) its rows
into that database, which must be empty.

The database is copied first, then the repository: the push log only names
commits that were published before it was written, so every commit the copied
database mentions is in the bundle. Not included: the search index (a cache,
rebuilt from git on restore), `exports/` (regenerated on demand) and the
session secret (everyone logs in again after a restore).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, create_engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from storage.bundle import create_bundle, fetch_bundle
from storage.errors import StorageError
from storage.repository import Person, Repository
from wiki import dbcopy, sqlite_legacy
from wiki.config import Settings
from wiki.datadir import open_data_dir
from wiki.db import Database
from wiki.dbmigrate import SCRIPTS, current
from wiki.dbschema import users
from wiki.errors import WikiError

FORMAT = 2  # 2: the database's schema is an Alembic revision (1: PRAGMA user_version)
READABLE = (1, 2)
MANIFEST = "cowiki-backup.json"
BUNDLE = "repo.bundle"
DATABASE = "cowiki.db"
CHUNK = 1 << 20

Progress = Callable[[int, int], None]


class BackupError(WikiError):
    """A backup could not be made or restored; the message says why."""


@dataclass(frozen=True)
class BackupInfo:
    """What an archive holds (from its manifest)."""

    path: Path
    created: str
    head: str | None
    refs: int
    users: int
    schema: str
    size: int


@dataclass(frozen=True)
class RestoreInfo:
    """What a restore brought back."""

    data_dir: Path
    backup: BackupInfo
    pages_indexed: int


def _no_progress(done: int, total: int) -> None:
    """Progress callback that reports nothing."""


# -- backup -----------------------------------------------------------------------


def create_backup(data_dir: Path, out: Path, database_url: str = "") -> BackupInfo:
    """Write a backup of `data_dir` (its database at `database_url`, default its SQLite
    file) to `out` (replaced atomically when complete)."""
    repo_path = data_dir / "repo.git"
    source = Database(database_url or data_dir / DATABASE)
    if not (repo_path / "HEAD").exists() or (source.path is not None
                                             and not source.path.exists()):
        raise BackupError(f"no wiki in {data_dir} (needs repo.git and {DATABASE})")
    out = out.absolute()
    if out.is_dir() or not out.parent.is_dir():
        raise BackupError(f"cannot write {out}: give a file in an existing folder")
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".cowiki-backup-") as tmp:
        staging = Path(tmp)
        try:
            users, schema = copy_database(source, staging / DATABASE)
        finally:
            source.dispose()
        refs, head = bundle_repository(repo_path, staging / BUNDLE)
        manifest = {
            "format": FORMAT,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "head": head, "refs": refs, "users": users, "schema": schema,
            "sha256": {name: sha256(staging / name) for name in (DATABASE, BUNDLE)},
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        partial = staging / "archive.tar"
        mode = "w:gz" if out.name.endswith((".gz", ".tgz")) else "w"
        with tarfile.open(partial, mode) as tar:  # type: ignore[call-overload]
            for name in (MANIFEST, DATABASE, BUNDLE):
                tar.add(staging / name, arcname=name, recursive=False)
        os.replace(partial, out)
    return _info(out, manifest)


def copy_database(source: Database, target: Path) -> tuple[int, str]:
    """Copy a live database into the SQLite file `target`; (users, schema revision)."""
    try:
        if source.path is not None:
            _copy_sqlite_file(source.path, target)
        else:
            _copy_to_sqlite(source, target)
        with _sqlite_file(target) as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=DELETE")  # a self-contained single file
            check = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
            if check != "ok":
                raise BackupError(f"the database copy failed its integrity check: {check}")
            counted = conn.execute(select(func.count()).select_from(users)).scalar_one()
            return int(counted), _schema(conn)
    except (sqlite3.Error, SQLAlchemyError, dbcopy.CopyError) as exc:
        raise BackupError(f"the database could not be copied: {exc}") from exc


def _copy_sqlite_file(source: Path, target: Path) -> None:
    """SQLite's online backup: all pages in one step, one consistent read snapshot."""
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _copy_to_sqlite(source: Database, target: Path) -> None:
    """A database on another engine, copied row by row into a new SQLite file."""
    copy = dbcopy.open_target(f"sqlite:///{target}")
    try:
        dbcopy.copy_database(source, copy)
    finally:
        copy.dispose()


@contextmanager
def _sqlite_file(path: Path) -> Iterator[Connection]:
    """A plain connection to a SQLite file (none of the wiki's pragmas: it stays as it is)."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _schema(conn: Connection) -> str:
    """The schema revision of a SQLite copy; `legacy-N` for a file from before Alembic."""
    revision = current(conn)
    if revision is not None:
        return revision
    return f"legacy-{conn.exec_driver_sql('PRAGMA user_version').scalar()}"


def bundle_repository(repo_path: Path, target: Path) -> tuple[int, str | None]:
    """Every ref as of one moment, and all it reaches, into `target`; (refs, head of main)."""
    try:
        bundle = create_bundle(repo_path, target)
    except StorageError as exc:
        raise BackupError(str(exc)) from exc
    return len(bundle.refs), bundle.head


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _info(path: Path, manifest: dict[str, Any]) -> BackupInfo:
    return BackupInfo(path=path, created=str(manifest.get("created", "")),
                      head=manifest.get("head"), refs=int(manifest.get("refs", 0)),
                      users=int(manifest.get("users", 0)), schema=str(manifest.get("schema", "")),
                      size=path.stat().st_size)


# -- restore ----------------------------------------------------------------------


def restore_backup(archive: Path, settings: Settings,
                   progress: Progress = _no_progress) -> RestoreInfo:
    """Restore `archive` into the (empty or new) data dir of `settings`, then rebuild the index.

    Everything is unpacked and checked in a folder beside the data dir and
    moved in only when complete, so a failed restore leaves the target empty.
    """
    data_dir = Path(settings.data_dir).absolute()
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise BackupError(f"{data_dir} is not empty; restore only into an empty or new folder")
    if not archive.is_file():
        raise BackupError(f"{archive} is not a file")
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=data_dir.parent, prefix=".cowiki-restore-"))
    try:
        manifest = unpack(archive, staging)
        committer = Person(settings.committer_name, settings.committer_email)
        restore_repository(staging / BUNDLE, staging / "repo.git", committer)
        (staging / BUNDLE).unlink()
        check_database_copy(staging / DATABASE)
        if settings.database_url:
            load_database(staging / DATABASE, settings.database_url)
            for name in (DATABASE, f"{DATABASE}-wal", f"{DATABASE}-shm"):
                (staging / name).unlink(missing_ok=True)  # the wiki's database is elsewhere
        data_dir.mkdir(exist_ok=True)
        for child in staging.iterdir():
            os.rename(child, data_dir / child.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RestoreInfo(data_dir, _info(archive, manifest), rebuild_index(settings, progress))


def unpack(archive: Path, staging: Path) -> dict[str, Any]:
    """Extract the three known members (nothing else) and verify them against the manifest."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            manifest = _read_manifest(tar)
            for name in (DATABASE, BUNDLE):
                member = tar.getmember(name)
                source = tar.extractfile(member) if member.isfile() else None
                if source is None:
                    raise BackupError(f"{name} in the archive is not a file")
                _copy_stream(source, staging / name)
            while tar.fileobj is not None and tar.fileobj.read(CHUNK):
                pass  # gzip checks its CRC and length only at the end: one byte short fails
    except tarfile.ReadError as exc:
        if not str(exc).startswith("file could not be opened"):
            raise BackupError(f"{archive} is cut short or damaged ({exc})") from exc
        raise BackupError(f"{archive} is not a cowiki backup: not a .tar or .tar.gz archive"
                          ) from exc
    except (EOFError, zlib.error) as exc:
        raise BackupError(f"{archive} is cut short or damaged: its compressed data ends early "
                          "or does not decompress") from exc
    except KeyError as exc:
        raise BackupError(f"{archive} is not a complete cowiki backup: {exc} is missing") from exc
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{archive} is not a complete cowiki backup ({exc})") from exc
    for name, expected in manifest.get("sha256", {}).items():
        if name in (DATABASE, BUNDLE) and sha256(staging / name) != expected:
            raise BackupError(f"{name} in the archive is damaged (checksum differs)")
    return manifest


def _read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    source = tar.extractfile(tar.getmember(MANIFEST))
    if source is None:
        raise BackupError(f"{MANIFEST} in the archive is not a file")
    try:
        manifest = json.loads(source.read(CHUNK).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"{MANIFEST} is not valid JSON") from exc
    if not isinstance(manifest, dict) or manifest.get("format") not in READABLE:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}; expected {FORMAT}"
                          if isinstance(manifest, dict) else f"{MANIFEST} is not an object")
    return manifest


def _copy_stream(source: IO[bytes], target: Path) -> None:
    with open(target, "wb") as out:
        while chunk := source.read(CHUNK):
            out.write(chunk)


def restore_repository(bundle: Path, target: Path, committer: Person) -> None:
    """A new bare repository (cowiki's settings) holding every ref and object of `bundle`."""
    Repository.init(target, committer)
    try:
        fetch_bundle(target, bundle)
    except StorageError as exc:
        raise BackupError(str(exc)) from exc


def check_database_copy(path: Path) -> None:
    """Refuse a database that is damaged or newer than this cowiki's migrations (a file
    from before Alembic counts its migrations in user_version; migrate() upgrades it)."""
    try:
        with _sqlite_file(path) as conn:
            check = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
            schema = _schema(conn)
    except SQLAlchemyError as exc:
        raise BackupError(f"the database in the backup cannot be read: {exc}") from exc
    if check != "ok":
        raise BackupError(f"the database in the backup is damaged: {check}")
    if not _known(schema):
        raise BackupError(f"the backup comes from a newer cowiki (schema {schema}); upgrade first")


def _known(schema: str) -> bool:
    """Whether this cowiki's migrations know `schema` (so they can bring it to the head)."""
    if schema.startswith("legacy-"):
        return int(schema.removeprefix("legacy-")) <= len(sqlite_legacy.MIGRATIONS)
    try:
        return ScriptDirectory(str(SCRIPTS)).get_revision(schema) is not None
    except CommandError:
        return False


def load_database(path: Path, database_url: str) -> None:
    """Put the archived SQLite file's rows into the (empty) database at `database_url`."""
    archived = Database(path)
    try:
        archived.migrate()  # an archive from an older cowiki comes up to this one's schema
        target = dbcopy.open_target(database_url)
        try:
            dbcopy.copy_database(archived, target)
        finally:
            target.dispose()
    except (SQLAlchemyError, dbcopy.CopyError) as exc:
        raise BackupError(f"the database could not be restored: {exc}") from exc
    finally:
        archived.dispose()


def rebuild_index(settings: Settings, progress: Progress) -> int:
    """Open the restored data dir (migrations, hooks) and build the search index from git."""
    return open_data_dir(settings).indexer.rebuild(progress)
