"""Is this data directory sound? Repository, database and search index, checked and reported.

Two depths: `quick` is cheap enough for every `/healthz` poll (head and its
tree readable, no stale ref lock, the database answers, the index's commit);
`full` is what `cowiki check` runs (`git fsck --strict`, the database engine's
own checks (SQLite's `integrity_check` and `foreign_key_check`), the index's
pages against git). The database is SQLite or PostgreSQL (wiki/db.py); every
finding about it names which one (`Database.describe()`, never a password).

The repository and the database hold the wiki's data, so a problem there is
critical: the wiki is degraded. The index is a cache that rebuilds itself
from git, so its problems are reported (and fail `cowiki check`) but never
mark a serving wiki as down.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from storage.inspect import descends_from, fsck, head_state, is_commit
from storage.names import page_name_from_file
from storage.repository import MAIN_REF, Person, Repository
from wiki import dbmigrate, dbschema
from wiki.config import Settings
from wiki.db import Database, open_database
from wiki.dbdialect import fault, integrity_problems
from wiki.live import livesock
from wiki.live.relay import relay
from wiki.search import IndexUnavailable, SearchIndex

STALE_LOCK_SECONDS = 60.0
MAX_PROBLEMS = 20
MIN_FREE_BYTES = 64 * 2**20
REINDEX_HINT = "run `cowiki reindex` (a running wiki also rebuilds it by itself)"


@dataclass(frozen=True)
class Finding:
    """The state of one part of the data directory."""

    component: str
    ok: bool
    summary: str
    critical: bool = True
    problems: tuple[str, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The finding as /healthz shows it."""
        return {"ok": self.ok, "summary": self.summary, **self.facts,
                **({"problems": list(self.problems)} if self.problems else {})}


@dataclass(frozen=True)
class HealthReport:
    """Findings for repository, database and index."""

    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        """True when nothing at all is wrong."""
        return all(f.ok for f in self.findings)

    @property
    def serving(self) -> bool:
        """True when the data (repository and database) is sound; the index may be rebuilding."""
        return all(f.ok for f in self.findings if f.critical)

    def to_json(self) -> dict[str, Any]:
        """{"status", "repository": {...}, "database": {...}, "index": {...}}."""
        status = "ok" if self.serving else "degraded"
        return {"status": status, **{f.component: f.to_json() for f in self.findings}}

    def lines(self) -> list[str]:
        """A readable report, one line per component plus its problems."""
        out = []
        for f in self.findings:
            out.append(f"{f.component:<11} {'ok' if f.ok else 'PROBLEM':<8} {f.summary}")
            out.extend(f"    - {problem}" for problem in f.problems)
        out.append("All checks passed." if self.ok else "Problems found (see above).")
        return out


def quick_report(repo: Repository, db: Database, index: SearchIndex,
                 live: bool = False) -> HealthReport:
    """The cheap checks /healthz runs on every request (with `live`, the live process too)."""
    findings = (check_repository(repo, full=False), check_database(db, full=False),
                check_index(index, repo, full=False), check_disk(index.directory.parent))
    return HealthReport(findings + ((check_live(index.directory.parent),) if live else ()))


def full_report(data_dir: Path, settings: Settings | None = None) -> HealthReport:
    """Every check on a data directory, without creating or changing anything in it.

    The database is the one `settings` name (default: the environment's, so
    COWIKI_DATABASE_URL is honoured), else the data dir's SQLite file.
    Raises FileNotFoundError when `data_dir` holds no wiki.
    """
    if settings is None:
        settings = Settings.load({"data_dir": str(data_dir)})
    repo_path, db = data_dir / "repo.git", open_database(settings)
    if not (repo_path / "HEAD").exists() and (db.path is None or not db.path.exists()):
        held = "no repo.git" + (f", no {db.path.name}" if db.path is not None else "")
        raise FileNotFoundError(f"no wiki in {data_dir} ({held})")
    repo = Repository(repo_path, Person("cowiki", "cowiki@localhost"))
    try:
        findings = (check_repository(repo, full=True), check_database(db, full=True),
                    check_index(SearchIndex(data_dir / "index"), repo, full=True),
                    check_disk(data_dir))
    finally:
        db.dispose()
    return HealthReport(findings)


def check_disk(data_dir: Path, minimum: int = MIN_FREE_BYTES) -> Finding:
    """Free space in the data directory: below `minimum` saves and index builds fail."""
    free = shutil.disk_usage(data_dir).free
    summary = f"{free // 2**20} MiB free"
    problems = () if free >= minimum else (
        f"less than {minimum // 2**20} MiB free: saves and index rebuilds will fail",)
    return Finding("disk", not problems, summary, problems=problems, facts={"free_bytes": free})


def check_live(data_dir: Path) -> Finding:
    """Does the live process answer on its socket? Not critical: without it pages are
    edited in the classic editor. Also counts the sockets this web process relays."""
    relayed = relay().connections
    try:
        status, answer = livesock.ask(data_dir, "GET", "/healthz", timeout=1.0)
    except livesock.LiveUnavailable:
        return Finding("live", False, "the live process does not answer", critical=False,
                       problems=("pages open in the classic editor until it is back",),
                       facts={"relayed": relayed})
    facts = {"rooms": answer.get("rooms"), "connections": answer.get("connections"),
             "relayed": relayed}
    if status != 200:
        return Finding("live", False, f"the live process answers {status}", critical=False,
                       facts=facts)
    return Finding("live", True, f"{answer.get('rooms', 0)} room(s) open", critical=False,
                   facts=facts)


# -- repository -----------------------------------------------------------------


def check_repository(repo: Repository, full: bool) -> Finding:
    """Head present and readable, no stale lock; with `full`, `git fsck --strict` too."""
    if not (repo.path / "HEAD").exists():
        return Finding("repository", False, f"no git repository at {repo.path}")
    problems = list(stale_locks(repo.path))
    state = head_state(repo)
    head = state.head
    if state.problem is not None:
        problems.append(f"the head commit cannot be read: {state.problem}")
    elif head is None:
        problems.append(f"{MAIN_REF} does not exist")
    if full:
        problems.extend(fsck(repo.path))
    summary = f"head {head[:10]}" if head else "no head"
    if full:
        summary += ", git fsck --strict " + ("clean" if not problems else "found problems")
    return Finding("repository", not problems, summary, problems=tuple(problems[:MAX_PROBLEMS]),
                   facts={"head": head})


def stale_locks(repo_path: Path) -> list[str]:
    """Lock files a crashed git writer left behind; they block every later save."""
    now = time.time()
    found = []
    for lock in [*repo_path.glob("refs/**/*.lock"), *repo_path.glob("*.lock")]:
        if lock.name == "cowiki-writer.lock":  # an flock file, always present
            continue
        try:
            age = now - lock.stat().st_mtime
        except FileNotFoundError:
            continue
        if age > STALE_LOCK_SECONDS:
            found.append(f"stale lock {lock.relative_to(repo_path)} ({age:.0f} s old): "
                         "remove it if no git process is running")
    return found


# -- database -------------------------------------------------------------------


def check_database(db: Database, full: bool) -> Finding:
    """The database answers and its schema is one this cowiki knows; with `full`, the
    engine's own integrity checks too. Never creates a missing SQLite file."""
    name = db.describe()
    facts: dict[str, Any] = {"name": name}
    if db.path is not None and not db.path.exists():
        return Finding("database", False, f"{name} is missing", facts=facts)
    try:
        conn = db.connect()
        users = int(conn.execute(select(func.count()).select_from(dbschema.members)).scalar_one())
        revision = dbmigrate.current(conn)
        problems = integrity_problems(conn) if full else []
    except (DBAPIError, PoolTimeout) as exc:
        return database_failure(name, exc)
    facts.update(users=users, schema=revision)
    if revision is not None and revision not in known_revisions():
        problems.append(f"schema revision {revision} is newer than this cowiki "
                        f"({dbmigrate.head()}): upgrade cowiki")
    summary = f"{name}: {users} user(s), schema {revision or 'from before Alembic'}"
    if revision != dbmigrate.head():
        summary += f" (this cowiki's is {dbmigrate.head()})"
    if full:
        summary += ", integrity " + ("ok" if not problems else "NOT ok")
    return Finding("database", not problems, summary, problems=tuple(problems[:MAX_PROBLEMS]),
                   facts=facts)


def database_failure(name: str, exc: DBAPIError | PoolTimeout) -> Finding:
    """The finding for a database that did not answer: which one, and the engine's words."""
    kind = "busy" if isinstance(exc, PoolTimeout) else fault(exc)
    summary = {"unreachable": f"{name} cannot be reached",
               "busy": f"{name} is busy (every connection or lock is taken)"}.get(
        kind or "", f"{name} cannot be read")
    detail = str(exc.orig if isinstance(exc, DBAPIError) else exc).strip()
    first = (detail.splitlines() or [type(exc).__name__])[0]
    return Finding("database", False, summary, problems=(first[:300],),
                   facts={"name": name})


@cache
def known_revisions() -> frozenset[str]:
    """Every schema revision this cowiki has a migration for."""
    scripts = ScriptDirectory(str(dbmigrate.SCRIPTS))
    return frozenset(script.revision for script in scripts.walk_revisions())


# -- index ----------------------------------------------------------------------


def check_index(index: SearchIndex, repo: Repository, full: bool) -> Finding:
    """The commit the index reflects against the head; with `full`, its pages against git."""
    head, indexed = repo.head(), index.indexed_commit()
    state = index_state(repo, head, indexed)
    facts: dict[str, Any] = {"state": state, "indexed_commit": indexed}
    problems: list[str] = []
    if state == "fresh" and (damage := index.damage()) is not None:
        state = facts["state"] = "damaged"
        problems.append(f"the index cannot be read ({damage}): {REINDEX_HINT}")
    elif state in ("missing", "foreign"):
        problems.append(f"the index is {state}: {REINDEX_HINT}")
    elif full and indexed is not None:
        problems.extend(index_page_problems(index, repo, indexed))
    summary = {"fresh": "up to date with the head",
               "behind": f"at {str(indexed)[:10]}, behind the head (catches up by itself)",
               "missing": "missing or from an older schema (rebuilds by itself)",
               "foreign": "made for a commit this repository does not have",
               "damaged": "damaged (rebuilds by itself)",
               }[state]
    return Finding("index", not problems, summary, critical=False,
                   problems=tuple(problems[:MAX_PROBLEMS]), facts=facts)


def index_state(repo: Repository, head: str | None, indexed: str | None) -> str:
    """'fresh', 'behind', 'missing' or 'foreign'."""
    if indexed is None:
        return "missing" if head is not None else "fresh"
    if indexed == head:
        return "fresh"
    behind = is_commit(repo, indexed) and head is not None and descends_from(repo, head, indexed)
    return "behind" if behind else "foreign"


def index_page_problems(index: SearchIndex, repo: Repository, indexed: str) -> list[str]:
    """Differences between the pages in the index and the pages of its commit."""
    try:
        in_index = index.paths()
    except IndexUnavailable as exc:
        return [f"the index cannot be read ({exc}): {REINDEX_HINT}"]
    in_git = {name for entry in repo.files(indexed)
              if (name := page_name_from_file(entry.path)) is not None}
    missing, extra = sorted(in_git - in_index), sorted(in_index - in_git)
    problems = []
    if missing:
        problems.append(f"{len(missing)} page(s) not in the index, e.g. {missing[0]!r}: "
                        f"{REINDEX_HINT}")
    if extra:
        problems.append(f"{len(extra)} page(s) in the index but not in git, e.g. {extra[0]!r}: "
                        f"{REINDEX_HINT}")
    return problems
