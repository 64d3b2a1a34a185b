"""A throwaway PostgreSQL cluster for the tests: initdb and pg_ctl on a temporary
directory, a Unix socket only, stopped and removed at the end.

The tests start one unless COWIKI_TEST_DATABASE_URL names a server to use. Each
test gets a fresh database copied from a migrated template, so a test costs one
CREATE DATABASE, not a migration. Run by hand: `python -m tests.pgcluster`
prints a URL and keeps the cluster until Enter.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

OWNER = "cowiki"
TEMPLATE = "cowiki_template"


def binaries() -> Path | None:
    """The newest PostgreSQL server binaries on this machine (Debian's layout or PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass
class Cluster:
    """A running cluster: its directory and socket, and a counter for database names."""

    root: Path
    bin: Path
    user: str | None
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{OWNER}@/{database}?host={self.socket_dir}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(host=str(self.socket_dir), user=OWNER, dbname="postgres",
                               autocommit=True)

    def fresh_database(self) -> str:
        """A new database with the migrated schema; its SQLAlchemy URL."""
        name = f"t{os.getpid()}_{next(self.counter)}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE {TEMPLATE} STRATEGY FILE_COPY')
        return self.url(name)

    def pause(self) -> None:
        """Stop the server as an outage would (fast: sessions are cut), keeping its data."""
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start the server again after `pause`, on the same socket."""
        self._run("pg_ctl", "-D", str(self.root / "data"), "-o", server_options(self.root),
                  "-l", str(self.root / "log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop",
                  check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, tool: str, *args: str, check: bool = True) -> None:
        command = [str(self.bin / tool), *args]
        if self.user:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=check, capture_output=True, text=True)  # noqa: S603


def start() -> Cluster:
    """Start a cluster with a migrated template database."""
    found = binaries()
    if found is None:
        raise RuntimeError("PostgreSQL's initdb was not found (Debian: apt install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="cowiki-pg-"))
    user = "postgres" if os.geteuid() == 0 else None
    cluster = Cluster(root, found, user)
    (root / "socket").mkdir()
    if user:
        entry = pwd.getpwnam(user)
        for path in (root, root / "socket"):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    try:
        cluster._run("initdb", "-D", str(root / "data"), "-U", OWNER, "-A", "trust",
                     "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        cluster.resume()
        with cluster.admin() as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        _migrate(cluster.url(TEMPLATE))
    except BaseException:
        cluster.stop()
        raise
    return cluster


def server_options(root: Path) -> str:
    """postgres's options: the socket in `root`, no TCP, no waiting for the disk."""
    return (f"-k {root / 'socket'} -c listen_addresses='' -c fsync=off"
            " -c full_page_writes=off -c synchronous_commit=off -c max_connections=200")


def _migrate(url: str) -> None:
    from wiki.db import Database

    db = Database(url)
    db.migrate()
    db.dispose()


if __name__ == "__main__":
    running = start()
    print(running.fresh_database(), flush=True)
    try:
        input()
    finally:
        running.stop()
