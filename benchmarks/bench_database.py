"""The same wiki on SQLite and on PostgreSQL: view, save, comment and search, and the raw limit.

Builds one wiki of 500 pages (bench_save.py's builder: commits written with
pygit2, the search index built), copies it for the second engine (git, index
and caches; the database starts empty there) and runs the real `cowiki serve`
(gunicorn, 2 workers) on each engine in turn:

- p50/p95 of a page view (GET /p/<page>), an API save (PUT with its base
  revision), a comment (POST /api/v1/pages/<page>/comments) and a search
  (GET /api/v1/search?q=...);
- in the same run, the engine's raw limit with the driver cowiki uses and no
  cowiki (sqlite3 / psycopg: a bare INSERT + COMMIT, a bare SELECT by key),
  measured before and after the server's runs, the faster counting;
- 8 concurrent clients commenting for 10 s, on 8 pages and then all on one
  page: comments/s, errors, and every acknowledged comment read back.

Ratios: PostgreSQL/SQLite per operation, cowiki/raw per engine (writes over
the INSERT, reads over the SELECT). PostgreSQL is a throwaway local cluster on
a Unix socket (tests/pgcluster.py).

Run from the repository root:
    .venv/bin/python benchmarks/bench_database.py [--quick] [--database both] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench_save import (  # noqa: E402  (this folder is on sys.path)
    Row,
    build_wiki,
    checked,
    cpu_seconds,
    page_name,
    page_text,
    timed,
    token_session,
)
from engines import (  # noqa: E402
    NAMES,
    RAW_INSERT,
    RAW_SELECT,
    best_of,
    database,
    database_cpu_seconds,
    engine_choice,
    measure_raw,
    server_env,
)
from wikis import running_server  # noqa: E402

from wiki.config import Settings  # noqa: E402
from wiki.datadir import Services, open_data_dir  # noqa: E402

SEARCHES = ("workshop", "whitepaper notes", "revision", '"workshop notes"', "whitepapr~")
OPERATIONS = {  # operation -> the raw limit it is compared with
    "view GET /p/<page>": RAW_SELECT,
    "save PUT /api/v1/pages/<page>": RAW_INSERT,
    "comment POST /api/v1/pages/<page>/comments": RAW_INSERT,
    "search GET /api/v1/search?q=...": RAW_SELECT,
}


def clone_wiki(source: Path, target: Path) -> None:
    """The same wiki for the second engine: repository, index and caches, not the SQLite
    file (the other engine's database starts with the schema and nothing in it)."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("cowiki.db*", "server.log"))


def measure_http(services: Services, url: str, pages: int, count: int) -> list[Row]:
    """View, save, comment and search through the real server, as one participant."""
    http = token_session(services, "bench")
    api = f"{url}/api/v1/pages"
    bases: dict[int, str] = {}
    names = list(OPERATIONS)
    limits = list(OPERATIONS.values())

    def name(i: int) -> str:
        return page_name((i + 10) * 13 % pages)

    def prepare(i: int) -> None:
        bases[i] = checked(http.get(f"{api}/{name(i)}")).json()["revision"]

    def save(i: int) -> None:
        body = {"markdown": page_text(name(i), 3000 + i), "message": "bench",
                "base_revision": bases[i]}
        checked(http.put(f"{api}/{name(i)}", json=body), 200)

    def comment(i: int) -> None:
        body = {"body": f"Comment {i}: a sentence or two about the paragraph above."}
        checked(http.post(f"{api}/{name(i)}/comments", json=body), 201)

    return [
        timed(names[0], count, lambda i: checked(http.get(f"{url}/p/{name(i)}")),
              limit=limits[0]),
        timed(names[1], count, save, prepare, limits[1]),
        timed(names[2], count, comment, limit=limits[2]),
        timed(names[3], count, lambda i: checked(http.get(
            f"{url}/api/v1/search", params={"q": SEARCHES[i % len(SEARCHES)]})),
            limit=limits[3]),
    ]


# -- concurrent comments -------------------------------------------------------------------


@dataclass
class Crowd:
    """What concurrent commenters did: acknowledged comments (page, id) and errors."""

    made: list[tuple[str, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def comment_loop(http: requests.Session, api: str, page: str, until: float, crowd: Crowd,
                 client: int) -> None:
    """Post comments on `page` as fast as the server answers, until `until`."""
    number = 0
    while time.monotonic() < until:
        body = {"body": f"Client {client}, comment {number}: agreed, with one remark."}
        number += 1
        try:
            response = http.post(f"{api}/{page}/comments", json=body, timeout=60)
        except requests.RequestException as exc:
            with crowd.lock:
                crowd.errors.append(f"{type(exc).__name__}: {exc}"[:200])
            continue
        with crowd.lock:
            if response.status_code == 201:
                crowd.made.append((page, int(response.json()["id"])))
            else:
                crowd.errors.append(f"{response.status_code} {response.text[:200]}")


def missing_comments(http: requests.Session, api: str, made: list[tuple[str, int]]
                     ) -> list[str]:
    """Acknowledged comments the page's comment list does not show."""
    shown: dict[str, set[int]] = {}
    for page in {page for page, _ in made}:
        threads = checked(http.get(f"{api}/{page}/comments")).json()
        ids: set[int] = set()
        while threads:
            ids.update(c["id"] for c in threads)
            threads = [r for c in threads for r in c.get("replies", [])]
        shown[page] = ids
    return [f"{page}: comment {number}" for page, number in made if number not in shown[page]]


def measure_comments(services: Services, url: str, pid: int, clients: int, seconds: float,
                     pages: int, database_url: str) -> list[dict[str, Any]]:
    """`clients` commenters for `seconds` on their own pages, then all on one page."""
    api = f"{url}/api/v1/pages"
    sessions = [token_session(services, f"commenter{c}") for c in range(clients)]
    results = []
    for label, shared in (("different pages", False), ("one shared page", True)):
        crowd = Crowd()
        targets = [page_name(7 if shared else (40 + c) % pages) for c in range(clients)]
        until = time.monotonic() + seconds
        before = cpu_seconds(pid), database_cpu_seconds(database_url)
        threads = [threading.Thread(target=comment_loop, args=(
            sessions[c], api, targets[c], until, crowd, c)) for c in range(clients)]
        start = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.monotonic() - start
        used = cpu_seconds(pid) - before[0]
        database_used = database_cpu_seconds(database_url) - before[1]
        lost = missing_comments(sessions[0], api, crowd.made)
        results.append({"label": label, "comments": len(crowd.made), "seconds": took,
                        "per_s": len(crowd.made) / took, "errors": crowd.errors[:5],
                        "error_count": len(crowd.errors), "lost": lost[:5],
                        "lost_count": len(lost),
                        "cpu_ms": 1000 * used / max(len(crowd.made), 1),
                        "database_cpu_ms": 1000 * database_used / max(len(crowd.made), 1)})
    return results


# -- one engine ----------------------------------------------------------------------------


def measure_engine(engine: str, data_dir: Path, url: str, args: argparse.Namespace
                   ) -> dict[str, Any]:
    """Every figure of one engine: the server's rows, its raw limit, concurrent comments."""
    services = open_data_dir(Settings(data_dir=data_dir, database_url=url))
    raw = measure_raw(engine, url, data_dir.parent, args.samples)
    with running_server(data_dir, args.workers, 4, env=server_env(url)) as (base, pid):
        rows = measure_http(services, base, args.pages, args.samples)
        raw = best_of(raw, measure_raw(engine, url, data_dir.parent, args.samples))
        crowd = measure_comments(services, base, pid, args.clients, args.seconds, args.pages,
                                 url)
    services.db.dispose()
    limits = {row.name.removeprefix(f"{NAMES[engine]} raw "): row for row in raw}
    return {
        "rows": {row.name: {"n": len(row.samples), "p50_ms": row.p50(), "p95_ms": row.p(0.95),
                            "limit": row.limit, "limit_ms": limits[row.limit].p50(),
                            "ratio": row.p50() / limits[row.limit].p50()} for row in rows},
        "raw": {name: {"p50_ms": row.p50(), "p95_ms": row.p(0.95)}
                for name, row in limits.items()},
        "comments": crowd,
        "load_average": os.getloadavg()[0],
    }


# -- report --------------------------------------------------------------------------------


def report(figures: dict[str, dict[str, Any]]) -> None:
    engines = list(figures)
    head = f"{'operation':44}" + "".join(f" {NAMES[e] + ' p50/p95 ms':>24} {'x raw':>6}"
                                         for e in engines)
    if len(engines) == 2:
        head += f" {'PG/SQLite':>10}"
    print("\n" + head)
    for operation in OPERATIONS:
        line = f"{operation:44}"
        for engine in engines:
            row = figures[engine]["rows"][operation]
            line += f" {row['p50_ms']:>11.1f} / {row['p95_ms']:>8.1f} {row['ratio']:>6.1f}"
        if len(engines) == 2:
            ratio = (figures["postgresql"]["rows"][operation]["p50_ms"]
                     / figures["sqlite"]["rows"][operation]["p50_ms"])
            line += f" {ratio:>10.2f}"
        print(line)
    for limit in (RAW_INSERT, RAW_SELECT):
        line = f"{'raw ' + limit + ' (limit)':44}"
        for engine in engines:
            raw = figures[engine]["raw"][limit]
            line += f" {raw['p50_ms']:>11.3f} / {raw['p95_ms']:>8.3f} {'limit':>6}"
        if len(engines) == 2:
            ratio = (figures["postgresql"]["raw"][limit]["p50_ms"]
                     / figures["sqlite"]["raw"][limit]["p50_ms"])
            line += f" {ratio:>10.2f}"
        print(line)
    for engine in engines:
        print(f"\n{NAMES[engine]}: concurrent comments (load average "
              f"{figures[engine]['load_average']:.1f} at the end)")
        for run in figures[engine]["comments"]:
            print(f"  {run['label']:16} {run['comments']:>5} comments in {run['seconds']:4.1f} s"
                  f" = {run['per_s']:6.1f}/s; {run['error_count']} errors, {run['lost_count']}"
                  f" missing afterwards; CPU per comment: server {run['cpu_ms']:.1f} ms,"
                  f" PostgreSQL {run['database_cpu_ms']:.1f} ms")
            for problem in run["errors"] + run["lost"]:
                print(f"      {problem}")
    if len(engines) == 2:
        for index, run in enumerate(figures["sqlite"]["comments"]):
            other = figures["postgresql"]["comments"][index]
            print(f"PostgreSQL/SQLite comments/s, {run['label']}: "
                  f"{other['per_s'] / max(run['per_s'], 1e-9):.2f}")


def clean(figures: dict[str, dict[str, Any]]) -> bool:
    return all(run["error_count"] == 0 and run["lost_count"] == 0
               for engine in figures.values() for run in engine["comments"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="both", help="sqlite, postgresql or both")
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 100 pages, 30 samples, 3 s of concurrent comments")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    try:
        engines = engine_choice(args.database)
    except ValueError as exc:
        parser.error(str(exc))
    if args.quick:
        args.pages, args.commits, args.samples, args.seconds = 100, 200, 30, 3.0
    figures: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="cowiki-bench-db-") as tmp:
        built = Path(tmp) / "built" / "wiki-data"
        start = time.perf_counter()
        build_wiki(built, args.pages, args.commits, 0).db.dispose()
        print(f"built {args.pages} pages / {args.commits} commits in "
              f"{time.perf_counter() - start:.1f} s; {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.1f}; {args.workers} gunicorn workers", flush=True)
        for engine in engines:
            data_dir = Path(tmp) / engine / "wiki-data"
            clone_wiki(built, data_dir)
            with database(engine) as url:
                figures[engine] = measure_engine(engine, data_dir, url, args)
            print(f"{NAMES[engine]} measured; load average {os.getloadavg()[0]:.1f}",
                  flush=True)
    report(figures)
    ok = clean(figures)
    print(f"\nzero errors and every acknowledged comment shown: {'ok' if ok else 'FAILED'}")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.json:
        Path(args.json).write_text(json.dumps({"pages": args.pages, "engines": figures},
                                              indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
