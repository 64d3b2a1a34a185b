"""Run every benchmark at one wiki size and print one table: cowiki, its raw limit, the ratio.

    .venv/bin/python benchmarks/run_all.py [--large] [--quick] [--only save,search,git,...]

The default size is 500 pages / 2,500 commits; --large is 10,000 pages /
50,000 commits (without the export: a 10,000-page whitepaper is not a use case).
Each benchmark script runs as a subprocess with `--json`, so it builds its own
wiki and server and measures the raw limit in the same run:

    save, view, history,   bench_save.py    pygit2 commit, git cat-file, git log --follow,
    blame, diff                             git blame, git diff
    search                 bench_search.py  a bare Whoosh query on the same index
    clone, push            bench_git.py     git clone --bare, git push to a local bare repo
                                            (--large raises the 200 MB push limit for it)
    export                 bench_export.py  the target (200 pages as PDF in 60 s), pro rata
    growth 500 -> 10,000   bench_scale.py   the same operation at 500 pages (target 1.5x);
                                            500 -> 2,000 only without --large, or with --quick
    live                   bench_live.py    the target: keystroke to other screen p95 < 100 ms
                                            (50 editors on a page, 10 live pages; --quick: 10, 3)
    database               bench_database.py a bare INSERT + COMMIT / SELECT by key with the
                                            same driver, on SQLite and PostgreSQL (500 pages;
                                            --quick: 100)
    many wikis             bench_multi.py   the same operation with one wiki under --root
                                            (1, 10 and 50 wikis; --quick: 1 and 3)

Their own output streams through; the summary comes at the end. The load
average is printed before and after each step, because other work may share
the machine. Exits 1 if a script fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SIZES = {"small": (500, 2_500), "large": (10_000, 50_000)}
EXPORT_TARGET_S_PER_PAGE = 60 / 200  # the export target: 200 pages as PDF in 60 s
LIVE_TARGET_MS = 100.0  # live editing: a keystroke on other screens within 100 ms (p95)
Row = tuple[str, str, str, str, str]  # area, operation, cowiki, limit, ratio


def run_script(name: str, args: list[str], out: Path, env: dict[str, str]
               ) -> dict[str, Any] | None:
    """Run benchmarks/<name> with --json; its figures, or None when it failed."""
    shown = " ".join([*(f"{k}={v}" for k, v in env.items()), name, *args])
    print(f"\n=== {shown}  (load average {load()})", flush=True)
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(HERE / name), *args, "--json", str(out)],
                          cwd=ROOT, env={**os.environ, **env})
    print(f"=== {name}: {time.monotonic() - started:.0f} s, exit {done.returncode}, "
          f"load average {load()}", flush=True)
    if done.returncode != 0 or not out.exists():
        return None
    figures: dict[str, Any] = json.loads(out.read_text())
    return figures


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def ms(value: float) -> str:
    return f"{value:.1f} ms"


def seconds(value: float) -> str:
    return f"{value:.2f} s"


# -- one summary row per measured operation --------------------------------------------------


def save_rows(figures: dict[str, Any]) -> list[Row]:
    areas = {"storage": "save", "api": "save", "view": "view", "history": "history",
             "blame": "blame", "diff": "diff"}
    rows = []
    for row in figures["rows"]:
        if not row["limit"]:
            continue
        area = areas[row["operation"].split(" ")[0].lower()]
        limit = f"{row['limit'].removesuffix(' (limit)')} {ms(row['limit_ms'])}"
        rows.append((area, row["operation"], f"{ms(row['p50_ms'])} (p95 {ms(row['p95_ms'])})",
                     limit, f"{row['ratio']:.1f}x"))
    for load_row in figures["load"]:
        state = "clean" if load_row["clean"] else "ERRORS OR LOST EDITS"
        rows.append(("save", f"8 concurrent clients, {load_row['label']}",
                     f"{load_row['saves_per_s']:.0f} saves/s", state, ""))
    return rows


def search_rows(figures: dict[str, Any]) -> list[Row]:
    rows = [("search", f"query {q['label']} {q['query']}",
             f"{ms(q['p50_ms'])} (p95 {ms(q['p95_ms'])})", f"bare Whoosh {ms(q['bare_p50_ms'])}",
             f"{q['ratio']:.1f}x") for q in figures["queries"]]
    common = figures["queries"][0]["p50_ms"]
    rows.append(("search", "common word vs scanning every page file", ms(common),
                 f"naive scan {ms(figures['scan_ms'])}", f"{common / figures['scan_ms']:.2f}x"))
    rows.append(("search", f"full index build, {figures['pages']} pages",
                 seconds(figures["build_s"]), "", ""))
    rows.append(("search", "catch-up after 100 changed pages", seconds(figures["catch_up_s"]),
                 "target 3 s", f"{figures['catch_up_s'] / 3:.2f}x"))
    return rows


def git_rows(figures: dict[str, Any]) -> list[Row]:
    return [
        ("clone", "git clone over HTTP", seconds(figures["clone_http_s"]),
         f"git clone --bare (local) {seconds(figures['clone_local_s'])}",
         f"{figures['clone_http_s'] / figures['clone_local_s']:.1f}x"),
        ("clone", "git clone over HTTP", seconds(figures["clone_http_s"]),
         f"git clone --bare --no-local {seconds(figures['clone_no_local_s'])}",
         f"{figures['clone_http_s'] / figures['clone_no_local_s']:.1f}x"),
        ("push", f"git push over HTTP of a {figures['commits']}-commit history",
         seconds(figures["push_http_s"]),
         f"git push to a local bare repo {seconds(figures['push_local_s'])}",
         f"{figures['push_http_s'] / figures['push_local_s']:.1f}x"),
    ]


def export_rows(figures: dict[str, Any]) -> list[Row]:
    rows = []
    for pages, times in figures.items():
        target = EXPORT_TARGET_S_PER_PAGE * int(pages)
        for fmt, took in times.items():
            rows.append(("export", f"{fmt} of {pages} pages", seconds(took),
                         f"target {target:.0f} s", f"{took / target:.2f}x"))
    return rows


def scale_rows(figures: dict[str, Any]) -> list[Row]:
    sizes = figures["sizes"]
    small, large = min(sizes, key=int), max(sizes, key=int)
    return [("growth", f"{operation}, {int(large):,} pages", ms(sizes[large][operation]),
             f"{int(small):,} pages {ms(sizes[small][operation])}", f"{ratio:.2f}x")
            for operation, ratio in figures["growth"].items()]


def live_rows(figures: dict[str, Any]) -> list[Row]:
    rows = []
    for key, title in (("one_page", "editors on one page"), ("many_pages", "live pages")):
        scene = figures[key]
        count = scene["editors"] if key == "one_page" else scene["pages"]
        rows.append(("live", f"keystroke to other screen p95, {count} {title}",
                     ms(scene["p95_ms"]), f"target {ms(LIVE_TARGET_MS)}",
                     f"{scene['p95_ms'] / LIVE_TARGET_MS:.2f}x"))
    return rows


def database_rows(figures: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for engine, got in figures["engines"].items():
        for operation, row in got["rows"].items():
            rows.append(("database", f"{operation} ({engine})",
                         f"{ms(row['p50_ms'])} (p95 {ms(row['p95_ms'])})",
                         f"raw {row['limit']} {row['limit_ms']:.3f} ms", f"{row['ratio']:.0f}x"))
        for run in got["comments"]:
            state = "clean" if run["error_count"] == 0 and run["lost_count"] == 0 \
                else "ERRORS OR LOST COMMENTS"
            rows.append(("database", f"8 clients commenting, {run['label']} ({engine})",
                         f"{run['per_s']:.0f} comments/s", state, ""))
    return rows


def multi_rows(figures: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for engine, got in figures.items():
        sizes = got["sizes"]
        one, most = sizes[min(sizes, key=int)], max(sizes, key=int)
        for operation in ("view", "save", "comment"):
            rows.append(("wikis", f"{operation} p50, {most} wikis ({engine})",
                         ms(sizes[most][operation]["p50_ms"]),
                         f"1 wiki {ms(one[operation]['p50_ms'])}",
                         f"{sizes[most][operation]['p50_ms'] / one[operation]['p50_ms']:.2f}x"))
        rows.append(("wikis", f"first view of a cold wiki, {most} wikis ({engine})",
                     ms(sizes[most]["cold"]["p50_ms"]), "", ""))
        rss, base = max(sizes[most]["rss_mb"]["workers"]), max(one["rss_mb"]["workers"])
        rows.append(("wikis", f"worker memory, {most} wikis open ({engine})", f"{rss:.0f} MB",
                     f"1 wiki {base:.0f} MB", f"{rss / base:.2f}x"))
    return rows


def print_table(title: str, rows: list[Row]) -> None:
    print(f"\n{title}\n")
    header = ("area", "operation", "cowiki", "raw limit (same run)", "ratio")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]
    for line in (header, tuple("-" * w for w in widths), *rows):
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True))
              + " |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--large", action="store_true",
                        help="10,000 pages / 50,000 commits instead of 500 / 2,500")
    parser.add_argument("--quick", action="store_true",
                        help="the growth benchmark at 500 and 2,000 pages only (a smoke run)")
    parser.add_argument("--only", default="save,search,git,export,scale,live,database,multi",
                        help="comma-separated benchmarks to run "
                             "(save, search, git, export, scale, live, database, multi)")
    args = parser.parse_args()
    size = "large" if args.large else "small"
    pages, commits = SIZES[size]
    wanted = set(args.only.split(","))
    if args.large:
        wanted.discard("export")
    # One push of the whole large history is a ~200 MB pack, over the wiki's default
    # push limit (COWIKI_MAX_PUSH_BYTES, 200 MB); the large run raises it to measure it.
    git_env = {"COWIKI_MAX_PUSH_BYTES": str(2 * 10**9)} if args.large else {}
    steps: dict[str, tuple[str, list[str], dict[str, str],
                           Callable[[dict[str, Any]], list[Row]]]] = {
        "save": ("bench_save.py", ["--pages", str(pages), "--commits", str(commits),
                                   "--samples", "100" if args.large else "200"], {}, save_rows),
        "search": ("bench_search.py", ["--pages", str(pages)], {}, search_rows),
        "git": ("bench_git.py", ["--pages", str(pages), "--commits", str(commits),
                                 "--runs", "1" if args.large else "3"], git_env, git_rows),
        "export": ("bench_export.py", ["--pages", str(pages)], {}, export_rows),
        # The growth ladder needs its own three wikis: 500/2,000/10,000 pages with --large,
        # else (and with --quick) 500 and 2,000 only.
        "scale": ("bench_scale.py", [] if args.large and not args.quick else ["--quick"], {},
                  scale_rows),
        "live": ("bench_live.py", ["--quick"] if args.quick else [], {}, live_rows),
        "database": ("bench_database.py", ["--quick"] if args.quick else [], {}, database_rows),
        "multi": ("bench_multi.py", ["--quick"] if args.quick else [], {}, multi_rows),
    }
    print(f"cowiki benchmarks at {pages} pages / {commits} commits ({size}); "
          f"{os.cpu_count()} CPUs; load average {load()}", flush=True)
    started = time.monotonic()
    rows: list[Row] = []
    failed = []
    with tempfile.TemporaryDirectory(prefix="cowiki-run-all-") as tmp:
        for key, (script, script_args, env, summarise) in steps.items():
            if key not in wanted:
                continue
            figures = run_script(script, script_args, Path(tmp) / f"{key}.json", env)
            if figures is None:
                failed.append(script)
                continue
            rows += summarise(figures)
    print_table(f"Summary: {pages} pages / {commits} commits, "
                f"{(time.monotonic() - started) / 60:.0f} min, load average at the end "
                f"{load()}", rows)
    if failed:
        print(f"\nFAILED: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
