"""Helpers for the operations tests and the fault suite (benchmarks/faults.py): real git on a
data dir, editors saving under load, and a real full disk (a small tmpfs)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pygit2
import pytest
import requests

from tests.conftest import ROOT, LiveServer, free_port
from wiki.accounts import Accounts
from wiki.config import Settings
from wiki.db import open_database


def git(data_dir: Path, *args: str) -> str:
    """Run the real git on the data dir's bare repository; its stdout."""
    done = subprocess.run(["git", "--git-dir", str(data_dir / "repo.git"), *args],
                          capture_output=True, text=True, check=True, timeout=60)
    return done.stdout


def assert_fsck_clean(data_dir: Path) -> None:
    """`git fsck --strict` finds nothing wrong (dangling objects from lost races are fine)."""
    done = subprocess.run(["git", "--git-dir", str(data_dir / "repo.git"), "fsck", "--strict",
                           "--no-dangling", "--no-progress"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr
    assert "error" not in done.stderr.lower() and "warning" not in done.stderr.lower()


def token_session(server: LiveServer, name: str) -> requests.Session:
    """A requests session as `name` with a fresh personal token (cheap to check, unlike scrypt).

    The token is made in this process on the live database (SQLite WAL allows
    it while the server runs; COWIKI_DATABASE_URL names a PostgreSQL one), which
    saves a `cowiki token` start-up.
    """
    db = open_database(Settings.load({"data_dir": str(server.data_dir)}))
    try:
        accounts = Accounts(db)
        user = accounts.by_name(name)
        assert user is not None
        token = accounts.create_token(user, "test")
    finally:
        db.dispose()
    session = requests.Session()
    session.auth = (name, token)
    return session


def serve(data_dir: Path, workers: int = 2) -> LiveServer:
    """`cowiki serve` on an existing data dir (users already there), once /healthz answers."""
    port = free_port()
    log = open(data_dir / "server-again.log", "wb")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        [sys.executable, "-m", "cowiki", "--data", str(data_dir), "serve", "--port", str(port),
         "--workers", str(workers)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/healthz", timeout=5)
            return LiveServer(url, data_dir, process)
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    raise AssertionError((data_dir / "server-again.log").read_text())


@dataclass(eq=False)
class Saver:
    """An editor saving its own page over and over, with base revisions, until stopped.

    Every answered save is recorded as (revision, marker); saves whose answer
    never came (connection reset by a killed worker) are counted apart, and
    the page is re-read before the next save so the base stays true.
    """

    server: LiveServer
    session: requests.Session
    page: str
    stop: threading.Event
    acknowledged: list[tuple[str, str]] = field(default_factory=list)
    unanswered: int = 0
    failures: list[str] = field(default_factory=list)
    thread: threading.Thread | None = None

    def start(self) -> None:
        """Start saving in a thread of its own."""
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def join(self, timeout: float = 60) -> None:
        """Wait for the thread to finish its current save."""
        assert self.thread is not None
        self.thread.join(timeout)

    @property
    def url(self) -> str:
        return f"{self.server.url}/api/v1/pages/{self.page}"

    def current_revision(self) -> str | None:
        """The page's revision (None while it does not exist), retrying through resets."""
        while True:
            try:
                response = self.session.get(self.url, timeout=30)
            except requests.RequestException:
                time.sleep(0.05)
                continue
            if response.status_code == 404:
                return None
            if response.status_code == 200:
                return str(response.json()["revision"])
            self.failures.append(f"GET {response.status_code}: {response.text[:200]}")
            time.sleep(0.05)

    def run(self) -> None:
        base = self.current_revision()
        number = 0
        while not self.stop.is_set():
            number += 1
            marker = f"{self.page} edit {number}"
            body = {"markdown": f"# Saver\n\n{marker}\n", "base_revision": base}
            try:
                response = self.session.put(self.url, json=body, timeout=60)
            except requests.RequestException:
                self.unanswered += 1
                base = self.current_revision()
                continue
            if response.status_code in (200, 201):
                base = str(response.json()["revision"])
                self.acknowledged.append((base, marker))
            else:
                self.failures.append(f"PUT {response.status_code}: {response.text[:200]}")
                base = self.current_revision()


def assert_acknowledged_saves_in_git(data_dir: Path, savers: list[Saver]) -> None:
    """Each acknowledged save is an ancestor of main with its text, and no page went back."""
    repo = pygit2.Repository(str(data_dir / "repo.git"))
    main = repo.references["refs/heads/main"].target
    reachable = {str(commit.id) for commit in repo.walk(main)}
    for saver in savers:
        path = f"{saver.page}.md"
        for revision, marker in saver.acknowledged:
            assert revision in reachable, f"acknowledged {revision} is not in main's history"
            commit = repo[revision]
            assert isinstance(commit, pygit2.Commit)
            assert marker in commit.tree[path].data.decode(), (revision, marker)
        if saver.acknowledged:
            final = repo[main].peel(pygit2.Commit).tree[path].data.decode()
            last = int(saver.acknowledged[-1][1].rsplit(" ", 1)[1])
            now = int(final.strip().rsplit(" ", 1)[1])
            assert now >= last, f"{saver.page} went back from edit {last} to {now}"


class CannotMount(Exception):
    """Mounting a tmpfs is not allowed here (it needs root, or CAP_SYS_ADMIN)."""


@contextmanager
def small_tmpfs(folder: Path, size: str = "64k", inodes: int = 32) -> Iterator[Path]:
    """A tmpfs of `size` bytes and `inodes` files mounted on `folder`, unmounted after.

    What was in `folder` is hidden while the tmpfs is mounted; copy in what must stay.
    """
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},nr_inodes={inodes}",
                           "tmpfs", str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        raise CannotMount(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield folder
    finally:  # lazily when busy: an index reader may still hold a file open
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "--lazy", str(folder)], check=True)


@contextmanager
def small_tmpfs_for_test(folder: Path, size: str = "64k", inodes: int = 32) -> Iterator[Path]:
    """`small_tmpfs` in a test: skipped where mounting is not allowed, failed in CI."""
    try:
        mounted = small_tmpfs(folder, size, inodes)
        path = mounted.__enter__()
    except CannotMount as error:
        if os.environ.get("CI") == "true":  # CI runs as root: a skip there would hide the test
            pytest.fail(str(error))
        pytest.skip(str(error))
    try:
        yield path
    finally:
        mounted.__exit__(None, None, None)


def fill(folder: Path) -> None:
    """Use up every byte and inode of the file system holding `folder`."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"x" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    number = 0
    try:
        while True:
            (folder / f"empty-{number}").touch()
            number += 1
    except OSError:
        pass


def free(folder: Path) -> None:
    """Give back what `fill` took."""
    for path in folder.glob("empty-*"):
        path.unlink()
    (folder / "filler").unlink(missing_ok=True)
