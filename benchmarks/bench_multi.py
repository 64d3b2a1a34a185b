"""Many wikis on one server: view, save and comment with 1, 10 and 50 wikis under one `--root`.

For each engine (SQLite: a file per wiki; PostgreSQL: one database, a schema
per wiki) the wikis are built in one root (each with 50 pages and 3
participants with tokens, wikis.py's builder), and one `cowiki --root DIR
serve` (gunicorn, 2 workers) is started at each size in turn:

- the first request to a cold wiki (the worker builds that wiki's app), for up
  to 10 wikis, before anything else;
- then every wiki is warmed (a view and a comment each), and view (GET
  /w/<slug>/p/<page>), save (PUT with its base revision) and comment (POST
  .../comments) are timed round-robin over all the wikis: p50 and p95; these
  requests share one kept-alive connection, so one worker serves them all;
- the resident memory (VmRSS) of that worker, which has every wiki open (the
  largest worker), and of the other; on PostgreSQL the connections the server
  holds open.

Growth ratios are each figure at 10 and 50 wikis over the same figure at 1.

Run from the repository root:
    .venv/bin/python benchmarks/bench_multi.py [--database both] [--sizes 1,10,50] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench_save import Row, checked, timed  # noqa: E402  (this folder is on sys.path)
from bench_scale import worker_rss_mb  # noqa: E402
from engines import NAMES, connections, database, engine_choice, server_env  # noqa: E402
from wikis import build_root_wiki, running_server, wiki_url  # noqa: E402

OPERATIONS = ("view", "save", "comment")
COLD_WIKIS = 10  # the first request to this many wikis is timed before any is warmed


class Root:
    """A root of wikis as it grows: each wiki's page names and participants' credentials."""

    def __init__(self, folder: Path, database_url: str, pages: int, accounts: int) -> None:
        self.folder, self.database_url = folder, database_url
        self.pages, self.accounts = pages, accounts
        self.names: list[str] = []
        self.credentials: list[list[tuple[str, str]]] = []
        folder.mkdir(parents=True, exist_ok=True)

    def grow(self, size: int) -> float:
        """Add wikis until there are `size`; the seconds it took."""
        start = time.perf_counter()
        for number in range(len(self.credentials), size):
            members = range(number * self.accounts, (number + 1) * self.accounts)
            self.names, made = build_root_wiki(self.folder, number, self.database_url, members,
                                               self.pages)
            self.credentials.append([tuple(c.split(":", 1)) for c in made])  # type: ignore[misc]
        return time.perf_counter() - start

    def auth(self, number: int) -> tuple[str, str]:
        return self.credentials[number][0]


def first_requests(base: str, root: Root, size: int) -> Row:
    """The first request to each of up to COLD_WIKIS wikis: a worker opens the wiki."""
    row = Row("first view of a cold wiki")
    for number in range(min(size, COLD_WIKIS)):
        start = time.perf_counter()
        checked(requests.get(f"{wiki_url(base, number)}/p/{root.names[0]}",
                             auth=root.auth(number), timeout=120))
        row.samples.append((time.perf_counter() - start) * 1000)
    return row


def warm(base: str, root: Root, size: int, http: requests.Session) -> None:
    """Every wiki opened, read and written once on `http`'s kept-alive connection.

    The timed requests use that connection too, so one worker serves them all and has
    every wiki open: its memory is a worker's with `size` wikis (which worker accepts a
    new connection is the kernel's choice; on a quiet server it is mostly one).
    """
    for number in range(size):
        url, auth = wiki_url(base, number), root.auth(number)
        checked(http.get(f"{url}/p/{root.names[1]}", auth=auth))
        checked(http.post(f"{url}/api/v1/pages/{root.names[1]}/comments", auth=auth,
                          json={"body": "Warming up."}), 201)


def round_robin(base: str, root: Root, size: int, count: int, http: requests.Session
                ) -> list[Row]:
    """View, save and comment, request i going to wiki i % size."""
    bases: dict[int, str] = {}

    def where(i: int) -> tuple[str, tuple[str, str], str]:
        number = i % size
        page = root.names[(i * 7 + 3) % len(root.names)]
        return wiki_url(base, number), root.auth(number), page

    def view(i: int) -> None:
        url, auth, page = where(i)
        checked(http.get(f"{url}/p/{page}", auth=auth))

    def prepare(i: int) -> None:
        url, auth, page = where(i)
        bases[i] = checked(http.get(f"{url}/api/v1/pages/{page}", auth=auth)).json()["revision"]

    def save(i: int) -> None:
        url, auth, page = where(i)
        body = {"markdown": f"# {page}\n\nRewritten in round {i}.\n", "message": "bench",
                "base_revision": bases[i]}
        checked(http.put(f"{url}/api/v1/pages/{page}", json=body, auth=auth))

    def comment(i: int) -> None:
        url, auth, page = where(i)
        checked(http.post(f"{url}/api/v1/pages/{page}/comments", auth=auth,
                          json={"body": f"Comment {i}: one remark."}), 201)

    return [timed("view", count, view), timed("save", count, save, prepare),
            timed("comment", count, comment)]


def measure_size(root: Root, size: int, args: argparse.Namespace) -> dict[str, Any]:
    """One server over the root's `size` wikis: cold, warm round-robin, memory."""
    env = server_env(root.database_url)
    # This process keeps a connection per wiki it built (each wiki's indexer thread):
    # counted before the server starts, and not counted as the server's.
    ours = connections(root.database_url) if root.database_url else 0
    with running_server(root.folder, args.workers, 4, root=True, env=env) as (base, pid):
        started_rss = worker_rss_mb(pid)
        cold = first_requests(base, root, size)
        http = requests.Session()
        warm(base, root, size, http)
        rows = round_robin(base, root, size, args.samples, http)
        rss = worker_rss_mb(pid)
        held = connections(root.database_url) - ours if root.database_url else None
    figures: dict[str, Any] = {row.name: {"p50_ms": row.p50(), "p95_ms": row.p(0.95)}
                               for row in rows}
    figures["cold"] = {"p50_ms": cold.p50(), "max_ms": max(cold.samples),
                       "n": len(cold.samples)}
    figures["rss_mb"] = {"workers": rss, "at_start": started_rss}
    figures["connections"] = held
    figures["load_average"] = os.getloadavg()[0]
    return figures


def report(engine: str, results: dict[int, dict[str, Any]]) -> dict[str, float]:
    """The table for one engine; returns the growth ratios (largest size over 1 wiki)."""
    sizes = sorted(results)
    print(f"\n{NAMES[engine]}: {'wikis':>5} " + " ".join(
        f"{op + ' p50/p95 ms':>20}" for op in OPERATIONS)
        + f" {'cold first p50/max':>20} {'worker RSS MB':>16} {'PG conns':>8} {'load':>5}")
    for size in sizes:
        got = results[size]
        line = f"{'':{len(NAMES[engine]) + 1}} {size:>5} " + " ".join(
            f"{got[op]['p50_ms']:>9.1f} / {got[op]['p95_ms']:>8.1f}" for op in OPERATIONS)
        rss = " + ".join(f"{mb:.0f}" for mb in sorted(got["rss_mb"]["workers"], reverse=True))
        held = "" if got["connections"] is None else str(got["connections"])
        print(line + f" {got['cold']['p50_ms']:>9.1f} / {got['cold']['max_ms']:>8.1f}"
              f" {rss:>16} {held:>8} {got['load_average']:>5.1f}")
    growth: dict[str, float] = {}
    one = results.get(1)
    if one is None:
        return growth
    for size in sizes[1:]:
        got = results[size]
        parts = []
        for op in OPERATIONS:
            growth[f"{op} p50, {size}/1"] = got[op]["p50_ms"] / one[op]["p50_ms"]
            parts.append(f"{op} {growth[f'{op} p50, {size}/1']:.2f}x")
        memory = max(got["rss_mb"]["workers"]) / max(one["rss_mb"]["workers"])
        growth[f"worker RSS, {size}/1"] = memory
        print(f"  growth {size}/1: " + ", ".join(parts) + f", RSS of the worker with every"
              f" wiki open {memory:.2f}x")
    return growth


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="both", help="sqlite, postgresql or both")
    parser.add_argument("--sizes", default="1,10,50", help="numbers of wikis, smallest first")
    parser.add_argument("--pages", type=int, default=50, help="pages per wiki")
    parser.add_argument("--accounts", type=int, default=3, help="participants per wiki")
    parser.add_argument("--samples", type=int, default=150, help="timed requests per operation")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 and 3 wikis")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    try:
        engines = engine_choice(args.database)
    except ValueError as exc:
        parser.error(str(exc))
    if args.quick:
        args.sizes, args.pages, args.samples = "1,3", 20, 30
    sizes = sorted({int(s) for s in args.sizes.split(",")})
    print(f"{'/'.join(map(str, sizes))} wikis under one --root, {args.pages} pages and "
          f"{args.accounts} participants each; {args.workers} gunicorn workers; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="cowiki-bench-multi-") as tmp:
        for engine in engines:
            with database(engine) as url:
                root = Root(Path(tmp) / engine, url, args.pages, args.accounts)
                results = {}
                for size in sizes:
                    took = root.grow(size)
                    print(f"{NAMES[engine]}: {size} wikis ready ({took:.0f} s to add); "
                          f"load average {os.getloadavg()[0]:.1f}", flush=True)
                    results[size] = measure_size(root, size, args)
            figures[engine] = {"sizes": results, "growth": report(engine, results)}
    print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
