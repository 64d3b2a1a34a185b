"""The fault suite: what a real `cowiki serve` does when things break, in one command.

Each fault runs against the real server (gunicorn, 2 workers, loopback only) on
a data directory of its own, and ends with the same questions: was anything
acknowledged lost, is `git fsck --strict` clean, does SQLite's integrity check
pass, is a lock left behind, how long until the wiki works again?

- kill -9 storm: editors save without pause while workers are killed one by
  one, then the whole server (master and workers) at once; it is started again;
- full disk: the data directory on a 128 MB tmpfs (/healthz wants 64 MB free),
  filled to the last byte and inode, then given space back;
- read-only repository: `repo.git` bind-mounted read-only, then writable again;
- locked database: another connection holds SQLite's write lock for 20 s, past
  the server's 10 s busy timeout;
- truncated backups: `cowiki restore` of a `.tar.gz` cut at six places;
- pushes while the web saves 5 times a second (`bench_push.py`).

Mounting (the tmpfs and the read-only bind mount) needs root; without it those
rows fail and say so. The run prints one table (Markdown) and exits 1 when a
row failed.

Run: .venv/bin/python benchmarks/faults.py [--kills 6] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pygit2
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import bench_push  # noqa: E402
from tests.conftest import LiveServer, cli, start_server, stop_server  # noqa: E402
from tests.ops_support import (  # noqa: E402
    CannotMount,
    Saver,
    fill,
    free,
    serve,
    small_tmpfs,
    token_session,
)
from tests.test_faults import wait_for_workers, worker_pids  # noqa: E402

GIT_LOCKS = ("*.lock",)  # git's own lock files; cowiki-writer.lock is an flock file, kept
FLOCK_FILES = frozenset({"cowiki-writer.lock"})
LOCK_SECONDS = 20.0  # past the server's busy timeout (10 s): some answers must be 503


@dataclass(frozen=True)
class Row:
    """One fault: what was measured, and whether the wiki came through it."""

    fault: str
    figures: str
    ok: bool


# -- what every fault is checked for ----------------------------------------------


def fsck_clean(data: Path) -> bool:
    done = subprocess.run(["git", "--git-dir", str(data / "repo.git"), "fsck", "--strict",
                           "--no-dangling", "--no-progress"], capture_output=True, text=True)
    return done.returncode == 0 and not done.stdout.strip()


def integrity_ok(data: Path) -> bool:
    with sqlite3.connect(data / "cowiki.db") as conn:
        return bool(conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok")


def stale_locks(data: Path) -> list[str]:
    """Git lock files left in the repository (none should outlive the writer that made them)."""
    repo = data / "repo.git"
    return sorted(str(path.relative_to(repo)) for pattern in GIT_LOCKS
                  for path in repo.rglob(pattern) if path.name not in FLOCK_FILES)


def lost_saves(data: Path, savers: list[Saver]) -> int:
    """Acknowledged saves whose commit is not in main's history or lacks the saved text."""
    repo = pygit2.Repository(str(data / "repo.git"))
    reachable = {str(commit.id) for commit in repo.walk(repo.references["refs/heads/main"].target)}
    lost = 0
    for saver in savers:
        for revision, marker in saver.acknowledged:
            commit = repo.get(revision)
            if (revision not in reachable or not isinstance(commit, pygit2.Commit)
                    or marker not in commit.tree[f"{saver.page}.md"].data.decode()):
                lost += 1
    return lost


def until(check: Callable[[], bool], timeout: float = 60, pause: float = 0.05) -> float:
    """Seconds until `check()` holds (raises TimeoutError after `timeout`)."""
    began = time.monotonic()
    while not check():
        if time.monotonic() - began > timeout:
            raise TimeoutError(f"not within {timeout:.0f} s")
        time.sleep(pause)
    return time.monotonic() - began


def put(session: requests.Session, server: LiveServer, name: str, text: str) -> int:
    """Save a page as new or over its current revision; the status code (0: no answer)."""
    url = f"{server.url}/api/v1/pages/{name}"
    try:
        current = session.get(url, timeout=30)
        base = current.json()["revision"] if current.status_code == 200 else None
        return session.put(url, json={"markdown": text, "base_revision": base},
                           timeout=30).status_code
    except requests.RequestException:
        return 0


def found_by_search(session: requests.Session, server: LiveServer, word: str,
                    path: str) -> bool:
    answer = session.get(f"{server.url}/api/v1/search", params={"q": word}, timeout=30)
    return answer.status_code == 200 and any(hit["path"] == path
                                             for hit in answer.json()["results"])


@contextmanager
def running(data: Path) -> Iterator[LiveServer]:
    data.mkdir(parents=True, exist_ok=True)
    server = start_server(data, workers=2)
    try:
        yield server
    finally:
        stop_server(server)


# -- the faults ---------------------------------------------------------------------


def kill_storm(tmp: Path, kills: int) -> Row:
    data = tmp / "kills"
    data.mkdir()
    server = start_server(data, workers=2)
    sessions = [token_session(server, name) for name in ("participant", "facilitator")]
    stop = threading.Event()
    savers = [Saver(server, sessions[n % 2], f"Kill/saver-{n}", stop) for n in range(8)]
    for saver in savers:
        saver.start()
    respawn: list[float] = []
    for _ in range(kills):
        time.sleep(1.0)
        victim = random.choice(wait_for_workers(server, 2))
        os.kill(victim, signal.SIGKILL)
        respawn.append(until(lambda: victim not in worker_pids(server)  # noqa: B023
                             and len(worker_pids(server)) >= 2))
    time.sleep(1.0)
    crashed = time.monotonic()
    for pid in (server.process.pid, *worker_pids(server)):  # the whole server, mid-save
        os.kill(pid, signal.SIGKILL)
    server.process.wait()
    stop.set()
    left = stale_locks(data)
    again = serve(data)
    restart = time.monotonic() - crashed
    for saver in savers:
        saver.server = again  # those cut off by the crash re-read their page, then stop
        saver.join()
    after = put(token_session(again, "participant"), again, "Home", "# Home\n\nAfter.\n")
    stop_server(again)
    remaining = stale_locks(data)
    checked = cli(data, "check")
    acknowledged = sum(len(saver.acknowledged) for saver in savers)
    lost = lost_saves(data, savers)
    failures = [failure for saver in savers for failure in saver.failures]
    fsck, integrity = fsck_clean(data), integrity_ok(data)
    figures = (f"{kills} workers + 1 whole server killed; {acknowledged} saves acknowledged, "
               f"{sum(s.unanswered for s in savers)} cut off unanswered; lost {lost}; "
               f"stale locks after the crash {len(left)}, after the next save {len(remaining)}; "
               f"worker back in {statistics.median(respawn):.1f} s (max {max(respawn):.1f}); "
               f"server up again in {restart:.1f} s; next save {after}; "
               f"fsck {'clean' if fsck else 'NOT clean'}, SQLite {'ok' if integrity else 'BAD'}, "
               f"cowiki check exit {checked.returncode}; other errors {len(failures)}")
    ok = (lost == 0 and not remaining and after == 200 and fsck and integrity
          and checked.returncode == 0 and not failures and acknowledged > 0)
    return Row("kill -9 storm during saves", figures, ok)


def full_disk(tmp: Path) -> Row:
    disk = tmp / "disk"
    disk.mkdir()
    try:
        with small_tmpfs(disk, "128m", 4096), running(disk / "data") as server:
            session = token_session(server, "participant")
            first = put(session, server, "Before", "# Before\n\nThe roerdomp broods.\n")
            head = (disk / "data" / "repo.git" / "refs" / "heads" / "main").read_text()
            fill(disk)
            answers = Counter(put(session, server, f"Full {n}", "# Full\n\n" + "x" * 5000)
                              for n in range(5))
            healthz = requests.get(server.url + "/healthz", timeout=30).status_code
            kept = (disk / "data" / "repo.git" / "refs" / "heads" / "main").read_text() == head
            free(disk)
            back = until(lambda: put(session, server, "After", "# After\n\nThe grutto.\n")
                         in (200, 201))
            found = until(lambda: found_by_search(session, server, "grutto", "After"))
            fsck, integrity = fsck_clean(disk / "data"), integrity_ok(disk / "data")
    except CannotMount as error:
        return Row("full disk (128 MB tmpfs)", f"{error}: run as root", False)
    figures = (f"saves on the full disk answered {dict(answers)}; /healthz {healthz}; head kept "
               f"{'yes' if kept else 'NO'}; space back: a save in {back:.1f} s, found by "
               f"search {found:.1f} s later; fsck {'clean' if fsck else 'NOT clean'}, "
               f"SQLite {'ok' if integrity else 'BAD'}")
    ok = (first == 201 and set(answers) <= {507, 503} and healthz in (200, 503) and kept
          and fsck and integrity)
    return Row("full disk (128 MB tmpfs)", figures, ok)


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` bind-mounted read-only onto itself: writes fail with EROFS, even for root."""
    for args in (["--bind", str(folder), str(folder)],
                 ["-o", "remount,bind,ro", str(folder)]):
        done = subprocess.run(["mount", *args], capture_output=True, text=True)
        if done.returncode != 0:
            subprocess.run(["umount", str(folder)], capture_output=True)
            raise CannotMount(f"cannot mount {folder.name} read-only: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def read_only_repository(tmp: Path) -> Row:
    with running(tmp / "readonly") as server:
        session = token_session(server, "participant")
        put(session, server, "Before", "# Before\n")
        try:
            with read_only(server.data_dir / "repo.git"):
                answers = Counter(put(session, server, f"Ro {n}", "# Ro\n") for n in range(3))
                message = session.put(f"{server.url}/api/v1/pages/Ro", json={"markdown": "# Ro"},
                                      timeout=30).json().get("message", "")
                reads = session.get(f"{server.url}/api/v1/pages/Before", timeout=30).status_code
        except CannotMount as error:
            return Row("read-only repository", f"{error}: run as root", False)
        back = until(lambda: put(session, server, "After", "# After\n") in (200, 201))
    fsck = fsck_clean(server.data_dir)
    figures = (f"saves answered {dict(answers)} ({message[:60]!r}); reading a page {reads}; "
               f"writable again: a save in {back:.2f} s; fsck {'clean' if fsck else 'NOT clean'}")
    ok = set(answers) == {507} and reads == 200 and fsck
    return Row("read-only repository", figures, ok)


def locked_database(tmp: Path) -> Row:
    with running(tmp / "locked") as server:
        session = token_session(server, "participant")
        put(session, server, "Talk", "# Talk\n")
        comments = f"{server.url}/api/v1/pages/Talk/comments"
        holder = sqlite3.connect(server.data_dir / "cowiki.db", isolation_level=None,
                                 check_same_thread=False)
        holder.execute("BEGIN EXCLUSIVE")
        release = threading.Timer(LOCK_SECONDS, holder.rollback)
        release.start()
        answers: dict[str, tuple[int, float]] = {}

        def timed(name: str, call: Callable[[], int]) -> None:
            began = time.monotonic()
            answers[name] = (call(), time.monotonic() - began)

        calls: dict[str, Callable[[], int]] = {
            "read": lambda: session.get(f"{server.url}/api/v1/pages/Talk",
                                        timeout=30).status_code,
            "save": lambda: put(session, server, "Talk", "# Talk\n\nWhile locked.\n"),
            "comment": lambda: session.post(comments, json={"body": "Locked?"},
                                            timeout=30).status_code,
        }
        threads = [threading.Thread(target=timed, args=item) for item in calls.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        release.join()
        back = until(lambda: session.post(comments, json={"body": "Free."},
                                          timeout=30).status_code == 201)
        kept = (("Locked?" in session.get(comments, timeout=30).text)
                == (answers["comment"][0] == 201)
                and ("While locked." in session.get(f"{server.url}/api/v1/pages/Talk",
                                                    timeout=30).json()["markdown"])
                == (answers["save"][0] in (200, 201)))
    integrity = integrity_ok(server.data_dir)
    figures = "; ".join(f"{name} {status} in {seconds:.1f} s"
                        for name, (status, seconds) in answers.items())
    figures += (f" (lock held {LOCK_SECONDS:.0f} s, busy timeout 10 s); released: a comment in "
                f"{back:.1f} s; acknowledged writes kept {'yes' if kept else 'NO'}; "
                f"SQLite {'ok' if integrity else 'BAD'}")
    ok = (answers["read"][0] == 200 and integrity and kept
          and all(status in (200, 201, 503) and seconds < LOCK_SECONDS + 2
                  for status, seconds in answers.values()))
    return Row("locked database", figures, ok)


def truncated_backups(tmp: Path) -> Row:
    data, archive = tmp / "backup" / "data", tmp / "backup" / "wiki.tar.gz"
    data.mkdir(parents=True)
    cli(data, "init")
    made = cli(data, "backup", "--out", str(archive))
    if made.returncode != 0:
        return Row("truncated backups", f"cowiki backup failed: {made.stderr.strip()}", False)
    whole = archive.read_bytes()
    refused = 0
    cuts = [1, len(whole) // 4, len(whole) // 2, 3 * len(whole) // 4, len(whole) - 100,
            len(whole) - 1]
    for number, cut in enumerate(cuts):
        piece = archive.with_name(f"cut-{number}.tar.gz")
        piece.write_bytes(whole[:cut])
        target = tmp / "backup" / f"target-{number}"
        done = cli(target, "restore", str(piece))
        lines = done.stderr.strip().splitlines()
        empty = not target.exists() or not any(target.iterdir())
        refused += (done.returncode == 2 and len(lines) == 1
                    and lines[0].startswith("cowiki: error:") and empty)
    restored = cli(tmp / "backup" / "target-whole", "restore", str(archive)).returncode
    figures = (f"{refused}/{len(cuts)} cut archives ({len(whole)} bytes, cut at 1 byte to "
               f"1 byte short) refused with one line and exit 2, nothing left behind; "
               f"the whole archive restores (exit {restored})")
    return Row("truncated backups", figures, refused == len(cuts) and restored == 0)


def pushes_while_saving(tmp: Path) -> Row:
    args = argparse.Namespace(rate=5.0, pushes=10, gap=1.0, target="merge", max_seconds=180.0)
    with running(tmp / "push" / "data") as server:
        found = bench_push.run(server, tmp / "push", args)
    lost, missing = (len(list(found[key])) for key in (  # type: ignore[call-overload]
        "web_saves_lost", "pushed_pages_missing"))
    figures = (f"pushes landed {found['landed_within_two_tries']}/{found['pushes_tried']} "
               f"({found['landed_first_try']} on the first try); web saves "
               f"{found['web_saves_per_second_done']}/s, {found['web_saves_acknowledged']} "
               f"acknowledged, lost {lost}; pushed pages missing {missing}; fsck "
               f"{'clean' if found['fsck_clean'] else 'NOT clean'}")
    ok = (found["landed_within_two_tries"] == found["pushes_tried"]
          and not lost and not missing
          and bool(found["fsck_clean"]) and not found["web_errors"])
    return Row("pushes against 5 web saves/s", figures, ok)


def main() -> int:
    faults: dict[str, Callable[[Path, argparse.Namespace], Row]] = {
        "kills": lambda tmp, args: kill_storm(tmp, args.kills),
        "disk": lambda tmp, args: full_disk(tmp),
        "readonly": lambda tmp, args: read_only_repository(tmp),
        "database": lambda tmp, args: locked_database(tmp),
        "backups": lambda tmp, args: truncated_backups(tmp),
        "pushes": lambda tmp, args: pushes_while_saving(tmp),
    }
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=6, help="workers killed one by one")
    parser.add_argument("--only", nargs="+", choices=sorted(faults), default=sorted(faults))
    args = parser.parse_args()
    rows: list[Row] = []
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cowiki-faults-") as tmp:
        for name, fault in faults.items():
            if name in args.only:
                folder = Path(tmp) / name
                folder.mkdir()
                try:
                    rows.append(fault(folder, args))
                except Exception as error:  # a fault that breaks the suite is a failed row
                    rows.append(Row(name, f"the run broke: {type(error).__name__}: {error}",
                                    False))
    print("| fault | figures | result |\n|---|---|---|")
    for row in rows:
        print(f"| {row.fault} | {row.figures} | {'ok' if row.ok else 'FAILED'} |")
    print(f"\n{sum(row.ok for row in rows)}/{len(rows)} faults came through, "
          f"{time.monotonic() - began:.0f} s, load average {os.getloadavg()[0]:.1f}")
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
