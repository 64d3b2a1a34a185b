"""Load test: simulated workshop participants against `cowiki serve`, bounded and loopback only.

Builds a wiki in a temp data dir (accounts with personal tokens, a few hundred
pages, a search index), starts the production server (`cowiki serve`, gunicorn)
on 127.0.0.1 and lets N participants act for a fixed time, each in a loop:

- 70% views of a random page (GET /p/<page>, the HTML a browser gets);
- 20% saves (GET the page for its revision, PUT with `base_revision`), half of
  them to one shared page; every save appends a unique marker line: at the end
  of a random page, or on the shared page at its end (where concurrent saves
  overlap: 409, counted, re-read and retried) or at the end of the participant's
  own section (where the server merges concurrent saves);
- 10% searches (GET /api/v1/search).

Afterwards every acknowledged save must be in git: its revision on main and
its marker in the page's final text. Any 5xx, connection error or unexpected
status is an error. Exits 1 on an error or a lost edit, else 0.

`--wikis N` serves N such wikis from one `cowiki --root` (participant n works in
wiki n % N, each wiki with its own accounts and shared page); `--database
postgresql` puts the wiki (or every wiki, one schema each) on a throwaway
PostgreSQL cluster (tests/pgcluster.py) instead of SQLite.

Run from the repository root:
    .venv/bin/python benchmarks/load.py [--participants 50] [--seconds 60] [--think 0.5]
        [--wikis N] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pygit2
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_save import cpu_seconds  # noqa: E402  (this folder is on sys.path)
from engines import ENGINES, NAMES, database, database_cpu_seconds, server_env  # noqa: E402
from wikis import (  # noqa: E402
    HOST,
    SHARED,
    build_root_wiki,
    build_wiki,
    running_server,
    slug,
    wiki_url,
)

from storage.repository import MAIN_REF  # noqa: E402
from wiki.config import Settings  # noqa: E402

SEARCHES = ("klanten", "samenwerking gemeente", '"shared notes"', "research", "energie",
            "policy approach", "kennis~")
MAX_RETRIES = 50  # a save that still conflicts after this many re-reads is given up
# gunicorn closes a kept-alive connection after 2 s idle (its `keepalive`, which `cowiki serve`
# leaves at the default); a request sent just as it closes is reset unread. Browsers and curl
# then send it again on a new connection, so a participant does too, once, counted apart.
# The idle time is measured here, where 500 threads may wait a while for the CPU between
# the answer arriving and it being read, or between a request's start and its sending:
# half the server's 2 s is taken for the race. (Resets after less idle: errors.)
KEEPALIVE_RACE_IDLE = 1.0


# -- the participants ----------------------------------------------------------------------


@dataclass
class Tally:
    """What all participants did; shared between threads under one lock."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    acknowledged: list[tuple[str, str, str]] = field(default_factory=list)  # page, rev, marker
    conflicts: int = 0
    merged: int = 0
    given_up: int = 0
    resent: int = 0  # requests reset by the keep-alive close race and sent again
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, action: str, seconds: float) -> None:
        with self.lock:
            self.latencies.setdefault(action, []).append(seconds * 1000)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text[:300])


class Participant:
    """One simulated participant: a session with HTTP Basic (name + personal token)."""

    def __init__(self, number: int, credential: str, url: str, pages: list[str],
                 tally: Tally, think: float) -> None:
        self.number, self.url, self.pages, self.tally = number, url, pages, tally
        self.think = think
        self.rng = random.Random(number)
        self.http = requests.Session()
        name, token = credential.split(":", 1)
        self.http.auth = (name, token)
        self.saves = 0
        self.idle_since: float | None = None  # when this session's last answer came

    def run(self, until: float) -> None:
        while time.monotonic() < until:
            roll = self.rng.random()
            try:
                if roll < 0.70:
                    self.view()
                elif roll < 0.90:
                    self.save()
                else:
                    self.search()
            except requests.RequestException as exc:
                self.tally.error(f"participant {self.number}: {type(exc).__name__}: {exc}")
            if self.think:
                time.sleep(self.rng.uniform(0, 2 * self.think))
        self.http.close()

    def request(self, action: str, method: str, path: str, ok: tuple[int, ...],
                **kwargs: object) -> requests.Response | None:
        """One timed request; None (and an error recorded) when the status is not in `ok`."""
        start = time.perf_counter()
        try:
            response = self.http.request(method, self.url + path, timeout=60, **kwargs)  # type: ignore[arg-type]
        except requests.ConnectionError as exc:
            idle = start - self.idle_since if self.idle_since is not None else 0.0
            if "Connection aborted" not in str(exc) or idle < KEEPALIVE_RACE_IDLE:
                raise requests.ConnectionError(f"{method} {path} after {idle:.2f} s idle: "
                                               f"{exc}") from exc
            with self.tally.lock:
                self.tally.resent += 1
            response = self.http.request(method, self.url + path, timeout=60, **kwargs)  # type: ignore[arg-type]
        self.idle_since = time.perf_counter()
        self.tally.record(action, self.idle_since - start)
        if response.status_code not in ok:
            self.tally.error(f"{method} {path}: {response.status_code} {response.text[:200]}")
            return None
        return response

    def view(self) -> None:
        self.request("view", "GET", f"/p/{self.rng.choice(self.pages)}", (200,))

    def search(self) -> None:
        query = self.rng.choice(SEARCHES)
        self.request("search", "GET", "/api/v1/search", (200,), params={"q": query})

    def save(self) -> None:
        """Append a marker line to a page from its current revision; retry after a 409."""
        page = SHARED if self.rng.random() < 0.5 else self.rng.choice(self.pages)
        in_section = page == SHARED and self.rng.random() < 0.5
        marker = f"marker p{self.number:02d}-{self.saves:05d}"
        self.saves += 1
        api = f"/api/v1/pages/{page}"
        start = time.perf_counter()
        for _attempt in range(MAX_RETRIES):
            current = self.request("read for save", "GET", api, (200,))
            if current is None:
                return
            data = current.json()
            text = (self.append_to_section(data["markdown"], marker) if in_section
                    else data["markdown"].rstrip("\n") + f"\n\n{marker}\n")
            body = {"markdown": text, "base_revision": data["revision"], "message": marker}
            saved = self.request("save (PUT)", "PUT", api, (200, 409), json=body)
            if saved is None:
                return
            if saved.status_code == 409:
                with self.tally.lock:
                    self.tally.conflicts += 1
                continue
            answer = saved.json()
            self.tally.record("save (read + PUT + retries)", time.perf_counter() - start)
            with self.tally.lock:
                self.tally.acknowledged.append((page, answer["revision"], marker))
                self.tally.merged += bool(answer["merged"])
            return
        with self.tally.lock:
            self.tally.given_up += 1


    def append_to_section(self, text: str, marker: str) -> str:
        """`text` with `marker` as the last line of this participant's section."""
        lines = text.split("\n")
        start = lines.index(f"## {self.http.auth[0]}")  # type: ignore[index]
        end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("## "))
        return "\n".join(lines[:end - 1] + [marker] + lines[end - 1:])


def run_participants(url: str, credentials: list[str], pages: list[str], seconds: float,
                     think: float, wikis: int = 0) -> tuple[Tally, float]:
    """Every participant in its own thread for `seconds`; returns the tally and wall time.

    With `wikis`, `url` is a root's and participant n works in wiki n % wikis.
    """
    tally = Tally()
    until = time.monotonic() + seconds
    crowd = [Participant(n, credential, wiki_url(url, n % wikis) if wikis else url, pages,
                         tally, think)
             for n, credential in enumerate(credentials)]
    threads = [threading.Thread(target=p.run, args=(until,), daemon=True) for p in crowd]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        # Requests time out after 60 s, so this ends; the bound only guards against a hang.
        thread.join(timeout=max(1.0, until - time.monotonic()) + 180)
        if thread.is_alive():
            tally.error("a participant did not stop in time")
    return tally, time.monotonic() - start


def build_root(root: Path, participants: int, wikis: int, pages: int, database_url: str
               ) -> tuple[list[str], list[str]]:
    """`wikis` wikis in `root`, participant n in wiki n % wikis; the page names (the same
    in every wiki) and every participant's credential, in participant order."""
    root.mkdir(parents=True, exist_ok=True)
    credentials = [""] * participants
    names: list[str] = []
    for number in range(wikis):
        members = range(number, participants, wikis)
        names, made = build_root_wiki(root, number, database_url, members, pages)
        for member, credential in zip(members, made, strict=True):
            credentials[member] = credential
    return names, credentials


def by_wiki(acknowledged: list[tuple[str, str, str]], wikis: int
            ) -> list[list[tuple[str, str, str]]]:
    """The acknowledged saves per wiki: a marker 'marker pN-...' went to wiki N % wikis."""
    groups: list[list[tuple[str, str, str]]] = [[] for _ in range(max(wikis, 1))]
    for entry in acknowledged:
        number = int(entry[2].split()[1][1:].split("-")[0])
        groups[number % max(wikis, 1)].append(entry)
    return groups


# -- checking git --------------------------------------------------------------------------


def lost_edits(repo_path: Path, acknowledged: list[tuple[str, str, str]]) -> list[str]:
    """Acknowledged saves that git lacks: revision not on main or marker not in the page.

    Markers are only ever appended, so each one must still be in the page's text at main.
    """
    repo = pygit2.Repository(str(repo_path))
    head = repo.references[MAIN_REF].target
    head_commit = repo[head]
    assert isinstance(head_commit, pygit2.Commit)
    finals: dict[str, bytes] = {}
    lost = []
    for page, revision, marker in acknowledged:
        if page not in finals:
            blob = repo[head_commit.tree[f"{page}.md"].id]
            assert isinstance(blob, pygit2.Blob)
            finals[page] = blob.data
        commit = repo.get(revision)
        on_main = commit is not None and (commit.id == head or repo.descendant_of(head, commit.id))
        if not on_main:
            lost.append(f"{page}: {marker} acknowledged as {revision[:10]}, not on main")
        elif (marker + "\n").encode() not in finals[page]:
            lost.append(f"{page}: {marker} missing from the final text")
    return lost


def git_checks(repo_path: Path, acknowledged: int) -> tuple[int, bool]:
    """Commits whose message is a load marker (`git log`), and whether `git fsck` is clean."""
    log = subprocess.run(["git", "--git-dir", str(repo_path), "log", "--format=%s", "main"],
                         capture_output=True, text=True, check=True).stdout.split("\n")
    markers = sum(1 for line in log if line.startswith("marker p"))
    fsck = subprocess.run(["git", "--git-dir", str(repo_path), "fsck", "--strict",
                           "--no-dangling"], capture_output=True, text=True)
    return markers, fsck.returncode == 0


# -- report --------------------------------------------------------------------------------


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(tally: Tally, took: float, lost: list[str], server_cpu: float,
           client_cpu: float) -> None:
    print(f"\n{'action':30} {'n':>6} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    requests_done = 0
    for action in ("view", "read for save", "save (PUT)", "search",
                   "save (read + PUT + retries)"):
        samples = tally.latencies.get(action, [])
        if not samples:
            print(f"{action:30} {0:>6}")
            continue
        if action != "save (read + PUT + retries)":
            requests_done += len(samples)
        print(f"{action:30} {len(samples):>6} {len(samples) / took:>7.1f} "
              f"{statistics.median(samples):>8.1f} {percentile(samples, 0.95):>8.1f} "
              f"{max(samples):>8.1f}")
    saves = len(tally.acknowledged)
    shared = sum(1 for page, _, _ in tally.acknowledged if page == SHARED)
    print(f"\nthroughput: {requests_done / took:.1f} requests/s, {saves / took:.1f} "
          f"acknowledged saves/s ({shared} to the shared page) over {took:.1f} s")
    print(f"409 conflicts re-read and retried: {tally.conflicts}; saves merged by the server: "
          f"{tally.merged}; saves given up after {MAX_RETRIES} tries: {tally.given_up}")
    print(f"requests reset by the server's keep-alive close after >= {KEEPALIVE_RACE_IDLE} s"
          f" idle, sent again on a new connection: {tally.resent}")
    print(f"CPU: server {server_cpu:.1f} s, load script {client_cpu:.1f} s "
          f"(of {took * (os.cpu_count() or 1):.0f} core-seconds)")
    print(f"errors (5xx, connection, unexpected status): {len(tally.errors)}")
    for problem in tally.errors[:10]:
        print(f"    {problem}")
    print(f"lost edits (acknowledged but not in git): {len(lost)}")
    for problem in lost[:10]:
        print(f"    {problem}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=0.5, metavar="S",
                        help="mean pause between a participant's actions (0: none)")
    parser.add_argument("--pages", type=int, default=300, help="pages besides the shared one")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--keep", metavar="DIR", help="build the wiki in DIR and keep it")
    parser.add_argument("--wikis", type=int, default=0, metavar="N",
                        help="N wikis served by one `cowiki --root` (participants spread"
                             " evenly); 0: one wiki with --data")
    parser.add_argument("--database", choices=ENGINES, default="sqlite",
                        help="postgresql: a throwaway cluster (with --wikis, one schema each)")
    args = parser.parse_args()
    if not 1 <= args.participants <= 500 or not 0 < args.seconds <= 3600:
        parser.error("participants must be 1-500 and seconds 0-3600")
    if not 0 <= args.wikis <= min(args.participants, 100):
        parser.error("wikis must be 0-100 and at most the participants")
    with tempfile.TemporaryDirectory(prefix="cowiki-load-") as tmp, \
            database(args.database) as database_url:
        if args.wikis:
            folder = Path(args.keep or tmp) / "wikis"
            pages, credentials = build_root(folder, args.participants, args.wikis, args.pages,
                                            database_url)
            repos = [folder / slug(n) / "repo.git" for n in range(args.wikis)]
        else:
            folder = Path(args.keep or tmp) / "wiki-data"
            pages, credentials = build_wiki(Settings(data_dir=folder, database_url=database_url),
                                            range(args.participants), args.pages)
            repos = [folder / "repo.git"]
        where = f"{args.wikis} wikis under one --root" if args.wikis else "one wiki"
        print(f"{args.participants} participants for {args.seconds:.0f} s (think time "
              f"{args.think:.2f} s mean), {len(pages) + 2} pages; cowiki serve with "
              f"{args.workers} workers x {args.threads} threads on {HOST}; {where} on "
              f"{NAMES[args.database]}; {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.1f}", flush=True)
        client_before = resource.getrusage(resource.RUSAGE_SELF)
        with running_server(folder, args.workers, args.threads, root=bool(args.wikis),
                            env=server_env(database_url)) as (url, pid):
            # The server's CPU includes PostgreSQL's (its backends are not gunicorn's children).
            server_before = cpu_seconds(pid) + database_cpu_seconds(database_url)
            tally, took = run_participants(url, credentials, pages, args.seconds, args.think,
                                           args.wikis)
            server_cpu = cpu_seconds(pid) + database_cpu_seconds(database_url) - server_before
        client_after = resource.getrusage(resource.RUSAGE_SELF)
        client_cpu = (client_after.ru_utime - client_before.ru_utime
                      + client_after.ru_stime - client_before.ru_stime)
        groups = by_wiki(tally.acknowledged, args.wikis)
        lost = [problem for repo, group in zip(repos, groups, strict=True)
                for problem in lost_edits(repo, group)]
        report(tally, took, lost, server_cpu, client_cpu)
        checks = [git_checks(repo, len(group)) for repo, group in zip(repos, groups, strict=True)]
        markers = sum(count for count, _ in checks)
        fsck_clean = all(clean for _, clean in checks)
        print(f"git log: {markers} commits with a load marker for {len(tally.acknowledged)} "
              f"acknowledged saves; git fsck --strict: {'clean' if fsck_clean else 'PROBLEMS'}")
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
        if markers < len(tally.acknowledged) or not fsck_clean:
            lost.append("git log or fsck disagrees")
    failed = bool(tally.errors or lost)
    print("RESULT:", "FAILED" if failed else "ok: zero errors, zero lost edits")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
