"""cowiki side by side with An Otter Wiki 2.26.1 on the same corpus, each a real one-process server.

Builds one generated corpus twice with `git fast-import` (same seed, so the same
commits): 500 pages / 2,500 commits and 2,000 pages / 10,000 commits, all pages
at the top level, twelve authors, one page with 300 revisions spread over the
whole history, Markdown paragraphs with a common word ("workshop", in most
pages) and a rare one (in three pages). cowiki gets its data dir (commit-graph,
page cache and search index made, as a running server has them); Otter its
working tree (after `git gc`, what its housekeeping page offers). Otter runs
from its own virtualenv (`--otter-venv DIR`, made when missing), never the
project's.

Then it starts `cowiki serve --workers 1` and Otter under gunicorn with one
worker and times over HTTP, the two servers' requests interleaved (the order
flipping every run) so that load on the machine hits both alike:

- page view (HTML), search for the common and for the rare word, the history
  of the 300-revision page (HTML), its blame (HTML), the diff of its two newest
  revisions (HTML, what its history page offers first), a save of an existing
  page (cowiki: the web form with its base revision, HTTP Basic with a personal
  token; Otter: its save form, anonymous, with its CSRF token), and a search
  for a new word right after a save that added it (cowiki waits for its index;
  Otter reads every file anyway; shown, not part of the goal, which is the
  issue's list of operations); each run ends with a second's pause, so that
  what a save leaves to do in the background is not charged to the next read.
  `--repeat N` has each wiki answer N requests of an operation back to back in
  each run (other pages, new words): interleaving one request at a time leaves
  each server idle while the other answers, and on this VM a request after an
  idle spell costs a few milliseconds more, which weighs on the faster server;
- beside them the raw limit in the same run: `git cat-file`, a pygit2 commit,
  `git grep`, `git log --follow`, `git blame`, `git diff`; and, as the floor
  under every request, a small static file from each server.

Requests go out from benchmarks/leanhttp.py's client: `http.client` over a kept
connection, reading each whole answer. `--client requests` times with the
`requests` session used before, which spent about 0.8 ms of its own on every
answer, for both servers alike.

Every answer is checked: a view shows its page's text, a save is read back
from each wiki's git, a search lists the word's pages. A save's form is
encoded before its clock starts, for both wikis. The table gives p50/p95,
Otter/cowiki and cowiki/raw, and a verdict against the goal (cowiki at least
10x faster than Otter on every operation).

    .venv/bin/python benchmarks/bench_peer.py [--quick] [--sizes 500,2000] [--runs N]
                                              [--repeat N] [--keep DIR] [--json FILE]
                                              [--otter-venv DIR] [--client lean|requests]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pygit2  # noqa: E402
from bench_save import running_server, token_session  # noqa: E402
from bench_scale import raw_commit  # noqa: E402
from leanhttp import Answer, Client, LeanClient, RequestsClient  # noqa: E402
from peer_wikis import (  # noqa: E402
    COMMON_WORD,
    HISTORY_PAGE,
    RARE_PAGES,
    RARE_WORD,
    Revisions,
    build_cowiki,
    build_otter,
    fixed_line,
    git,
    history_revisions,
    otter_venv,
    page_name,
    running_otter,
)

from wiki.config import Settings  # noqa: E402
from wiki.datadir import open_data_dir  # noqa: E402

SIZES = {500: 2_500, 2_000: 10_000}
QUICK = {100: 500}
TARGET_SPEEDUP = 10.0
WARM_UP = 2
SETTLE_SECONDS = 1.0
FLOOR = "static file"  # the least a request costs in each server (~690 bytes); not in the goal
# A save and then a search for its new word: shown, but not among the operations
# (Otter searches by reading every file; cowiki's index takes the save in first).
NOT_IN_GOAL = (FLOOR, "search after save")
OPERATIONS = [FLOOR, "view", "search common", "search rare", "history", "blame", "diff", "save",
              "search after save"]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
HIT = {"otter": r'class="content-title mt-20"><a href="/([^"]+)"',  # a search hit's link
       "cowiki": r'<a href="/p/([^"]+)"><strong>'}
RAW = {FLOOR: "(none)", "view": "git cat-file", "save": "pygit2 commit",
       "search common": "git grep", "search rare": "git grep", "history": "git log --follow",
       "blame": "git blame",
       "diff": "git diff", "search after save": "git grep"}


@dataclass
class Timings:
    """Milliseconds of one operation on both wikis and of its raw limit."""

    otter: list[float] = field(default_factory=list)
    cowiki: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def expect(response: Answer, status: int, *texts: str) -> None:
    """The answer a person would get: the status and the texts it must show."""
    shown = response.text.lower()  # Otter shows "page-00007" as "Page-00007"
    missing = [t for t in texts if t.lower() not in shown]
    if response.status != status or missing:
        raise RuntimeError(f"{response.method} {response.path}: "
                           f"{response.status}, missing {missing}")


class RawLimit:
    """The least work under each operation, on cowiki's repository (same commits as Otter's)."""

    def __init__(self, git_dir: Path, revisions: Revisions) -> None:
        self.git_dir, self.revisions = git_dir, revisions
        self.repo = pygit2.Repository(str(git_dir))

    def run(self, operation: str, page: str) -> None:
        history = f"{HISTORY_PAGE}.md"
        commands = {
            "view": ["cat-file", "-p", f"main:{page}.md"],
            "search common": ["grep", "-l", "-i", "-w", COMMON_WORD, "main"],
            "search rare": ["grep", "-l", "-i", "-w", RARE_WORD, "main"],
            "search after save": ["grep", "-l", "-i", "-w", RARE_WORD, "main"],
            "history": ["log", "--follow", "--name-status", "-300", "main", "--", history],
            "blame": ["blame", "--porcelain", "main", "--", history],
            "diff": ["diff", self.revisions.older, self.revisions.newer, "--", history],
        }
        if operation == "save":
            self.commit(page)
        elif operation != FLOOR:
            subprocess.run(["git", "--git-dir", str(self.git_dir), *commands[operation]],
                           capture_output=True, check=True)

    def commit(self, page: str) -> None:
        """Blob, tree, commit and a ref moved, on a side ref that the wiki never reads."""
        raw_commit(self.repo, page)


class Peers:
    """One request of each operation to either wiki, with its check."""

    def __init__(self, clients: dict[str, Client], homes: dict[str, Path],
                 revisions: Revisions) -> None:
        self.http = clients
        self.homes, self.revisions = homes, revisions
        page = self.http["otter"].request("GET", f"/{page_name(1)}/edit")
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        if found is None:
            raise RuntimeError("Otter's editor has no CSRF token")
        self.otter_csrf = found.group(1)

    def path(self, wiki: str, operation: str, page: str) -> str:
        revs = self.revisions
        if wiki == "otter":
            return {FLOOR: "/static/js/.gitattributes", "view": f"/{page}",
                    "search common": f"/-/search/{COMMON_WORD}",
                    "search rare": f"/-/search/{RARE_WORD}",
                    "history": f"/{HISTORY_PAGE}/history", "blame": f"/{HISTORY_PAGE}/blame",
                    "diff": f"/{HISTORY_PAGE}/diff/{revs.older}/{revs.newer}"}[operation]
        return {FLOOR: "/static/confirm.js", "view": f"/p/{page}",
                "search common": f"/search?q={COMMON_WORD}",
                "search rare": f"/search?q={RARE_WORD}", "history": f"/p/{HISTORY_PAGE}/history",
                "blame": f"/p/{HISTORY_PAGE}/blame",
                "diff": f"/p/{HISTORY_PAGE}/diff?from={revs.older}&to={revs.newer}"}[operation]

    def text_in_git(self, wiki: str, page: str) -> str:
        git_dir = self.homes[wiki] / ("repo/.git" if wiki == "otter" else "repo.git")
        return git(git_dir, "show", f"main:{page}.md")

    def timed(self, wiki: str, operation: str, number: int, word: str) -> float:
        """Milliseconds of one request; what it needs is made before, its check after."""
        page = page_name(number)
        if operation == "save":
            return self.save(wiki, page, word)
        if operation == "search after save":
            self.save(wiki, page, word)
            path = f"/-/search/{word}" if wiki == "otter" else f"/search?q={word}"
            return self.get(wiki, path, hits={page})
        wanted = {"search rare": {page_name(n) for n in RARE_PAGES}}.get(operation, set())
        least = 5 if operation == "search common" else len(wanted)
        return self.get(wiki, self.path(wiki, operation, page), self.shown(operation, number),
                        wanted, least)

    def get(self, wiki: str, path: str, texts: tuple[str, ...] = (),
            hits: set[str] | None = None, least: int = 1) -> float:
        """A GET that must show `texts` and, for a search, at least `least` hits among
        which `hits`."""
        started = time.perf_counter()
        response = self.http[wiki].request("GET", path)
        elapsed = time.perf_counter() - started
        expect(response, 200, *texts)
        if hits is not None or least > 1:
            found = set(re.findall(HIT[wiki], response.text.lower()))
            if len(found) < least or not (hits or set()) <= found:
                raise RuntimeError(f"{wiki} {path}: hits {sorted(found)[:8]}, wanted {hits}")
        return elapsed * 1000

    def save(self, wiki: str, page: str, word: str) -> float:
        """An edit that adds a line with `word`, made as each wiki's editor sends it."""
        http, line = self.http[wiki], f"Saved with the word {word}."
        if wiki == "otter":
            text = self.text_in_git(wiki, page).rstrip("\n") + f"\n\n{line}\n"
            form = {"content": text, "commit": "bench", "csrf_token": self.otter_csrf}
            target = f"/{page}/save"
        else:
            current = http.request("GET", f"/api/v1/pages/{page}").json()
            form = {"markdown": current["markdown"].rstrip("\n") + f"\n\n{line}\n",
                    "base_revision": current["revision"], "message": "bench"}
            target = f"/p/{page}/edit"
        # Encoded before the clock starts: the client's form encoding is no server's work.
        body = urlencode(form).encode()
        started = time.perf_counter()
        response = http.request("POST", target, body, FORM)
        elapsed = time.perf_counter() - started
        expect(response, 302)
        if line not in self.text_in_git(wiki, page):
            raise RuntimeError(f"{wiki}: the save of {page} with {word} is not in git")
        return elapsed * 1000

    @staticmethod
    def shown(operation: str, number: int) -> tuple[str, ...]:
        if operation == "view":
            return (fixed_line(number),)
        return (HISTORY_PAGE,) if operation in ("history", "blame", "diff") else ()


def new_word(rng: random.Random) -> str:
    """A word no page has yet (letters only, so every search engine keeps it whole)."""
    return "saved" + "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(10))


def measure(peers: Peers, raw: RawLimit, pages: int, runs: int,
            repeat: int = 1) -> dict[str, Timings]:
    """Every operation `runs` times after the warm-up; Otter and cowiki take turns going first.
    With `repeat`, each wiki answers that many requests of the operation back to back
    (other pages, new words), all timed."""
    figures = {operation: Timings() for operation in OPERATIONS}
    rng, words = random.Random(5), random.Random()  # words differ from run to run
    for run in range(-WARM_UP, runs):
        order = ("otter", "cowiki") if run % 2 == 0 else ("cowiki", "otter")
        for operation in OPERATIONS:
            numbers = [rng.randrange(1, pages) for _ in range(repeat)]
            samples = {wiki: [peers.timed(wiki, operation, number, new_word(words))
                              for number in numbers] for wiki in order}
            started = time.perf_counter()
            raw.run(operation, page_name(numbers[0]))
            if run < 0:
                continue  # a warm-up run
            if operation != FLOOR:
                figures[operation].raw.append((time.perf_counter() - started) * 1000)
            figures[operation].otter.extend(samples["otter"])
            figures[operation].cowiki.extend(samples["cowiki"])
        time.sleep(SETTLE_SECONDS)  # what a save left to do in the background ends untimed
        if run >= 0:
            print(f"  run {run + 1}/{runs} done", end="\r" if run + 1 < runs else "\n",
                  flush=True)
    return figures


def compare(base: Path, pages: int, commits: int, runs: int, venv: Path,
            repeat: int = 1, client: str = "lean") -> dict[str, Timings]:
    """Build (or reuse) both wikis of one size and measure them side by side."""
    home = base / f"{pages}-pages"
    cowiki_dir, otter_home = home / "cowiki", home / "otter"
    started = time.perf_counter()
    if not (cowiki_dir / "repo.git" / "HEAD").exists():
        build_cowiki(cowiki_dir, pages, commits)
    if not (otter_home / "repo" / ".git" / "HEAD").exists():
        build_otter(otter_home / "repo", pages, commits)
    print(f"  built or found in {time.perf_counter() - started:.0f} s", flush=True)
    services = open_data_dir(Settings(data_dir=cowiki_dir))
    session = token_session(services, "bench")
    revisions = history_revisions(cowiki_dir / "repo.git")
    raw = RawLimit(cowiki_dir / "repo.git", revisions)
    with running_server(cowiki_dir, 1) as (cowiki_url, _), \
            running_otter(venv, otter_home) as (otter_url, _):
        token = session.auth
        assert isinstance(token, tuple)
        clients: dict[str, Client] = {
            "otter": LeanClient(otter_url), "cowiki": LeanClient(cowiki_url, token)
        } if client == "lean" else {"otter": RequestsClient(otter_url),
                                    "cowiki": RequestsClient(cowiki_url, session)}
        peers = Peers(clients, {"otter": otter_home, "cowiki": cowiki_dir}, revisions)
        return measure(peers, raw, pages, runs, repeat)


def report(pages: int, commits: int, figures: dict[str, Timings]) -> dict[str, bool]:
    """The table of one size and the verdict per operation."""
    print(f"\n{pages:,} pages / {commits:,} commits, ms (load average {load()})")
    print(f"{'operation':<18}{'Otter p50':>10}{'p95':>8}{'cowiki p50':>12}{'p95':>8}"
          f"{'speed-up':>10}{'raw p50':>9}{'cowiki/raw':>12}  raw limit")
    verdicts = {}
    for operation, t in figures.items():
        speedup = p50(t.otter) / p50(t.cowiki)
        if operation not in NOT_IN_GOAL:
            verdicts[operation] = speedup >= TARGET_SPEEDUP
        raw = f"{p50(t.raw):9.1f}{p50(t.cowiki) / p50(t.raw):11.1f}x" if t.raw else \
            f"{'-':>9}{'-':>12}"
        print(f"{operation:<18}{p50(t.otter):10.1f}{p95(t.otter):8.1f}{p50(t.cowiki):12.1f}"
              f"{p95(t.cowiki):8.1f}{speedup:9.1f}x{raw}  {RAW[operation]}")
    for operation, ok in verdicts.items():
        print(f"  {operation:<18} >= {TARGET_SPEEDUP:.0f}x: {'ok' if ok else 'MISSED'}")
    return verdicts


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def sizes_arg(text: str) -> list[int]:
    sizes = [int(part) for part in text.split(",") if part.strip()]
    if not sizes or any(size not in SIZES for size in sizes):
        raise argparse.ArgumentTypeError(f"sizes are some of {', '.join(map(str, SIZES))}")
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=sizes_arg, default=list(SIZES), help="e.g. 500,2000")
    parser.add_argument("--quick", action="store_true", help="100 pages / 500 commits only")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per operation")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="requests per wiki and operation back to back in each run")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="build in DIR, reuse later")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the samples here")
    parser.add_argument("--otter-venv", type=Path, metavar="DIR",
                        help="virtualenv with otterwiki (made when missing)")
    parser.add_argument("--client", choices=("lean", "requests"), default="lean",
                        help="the HTTP client timing both servers (benchmarks/leanhttp.py)")
    args = parser.parse_args()
    if args.runs < 1 or args.repeat < 1:
        parser.error("--runs and --repeat must be at least 1")
    venv = otter_venv(args.otter_venv)
    sizes = QUICK if args.quick else {size: SIZES[size] for size in args.sizes}
    print(f"bench_peer: {os.cpu_count()} CPUs, load average at start {load()}, "
          f"{args.client} HTTP client", flush=True)
    results: dict[str, dict[str, dict[str, list[float]]]] = {}
    verdicts: dict[str, dict[str, bool]] = {}
    with tempfile.TemporaryDirectory(prefix="cowiki-peer-") as tmp:
        for pages, commits in sizes.items():
            print(f"\n{pages:,} pages / {commits:,} commits", flush=True)
            figures = compare(args.keep or Path(tmp), pages, commits, args.runs, venv,
                              args.repeat, args.client)
            verdicts[str(pages)] = report(pages, commits, figures)
            results[str(pages)] = {op: vars(t) for op, t in figures.items()}
    print(f"\nload average at the end {load()}")
    missed = [f"{op} at {size}" for size, ops in verdicts.items() for op, ok in ops.items()
              if not ok]
    print("goal (>= 10x on every operation at every size): "
          + ("met" if not missed else "MISSED: " + ", ".join(missed)))
    if args.json:
        args.json.write_text(json.dumps({"samples_ms": results, "verdicts": verdicts}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
