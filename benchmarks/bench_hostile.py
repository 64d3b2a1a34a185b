"""Hostile input against its budget: the worst known pages, queries and exports.

Each case builds an input of a given size (up to the 1 MB page limit) and
times the answer the wiki gives for it: the page view's render (through the
app's Renderer: linear fixes, worker process, budget, plain fallback) or the
diff view's work (rows, inline lines and counts, plus the API's unified text).
The target is that no answer takes more than TARGET seconds. While the
hostile renders run, a second thread keeps formatting ordinary pages, and the
slowest of those is reported too: a hostile page must not hold up others.

Search cases run hostile queries against a real index of a small wiki (the
answer: results or a clear refusal); export cases time what a reader waits
for when starting an export of a hostile page (the job is queued or refused
at once; the work runs in a limited worker) and report how the job ended.

CASES is a list; a new kind of case adds a runner to RUNNERS.

Run from the repository root:
    .venv/bin/python benchmarks/bench_hostile.py [--quick] [--kind KIND ...] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage.repository import Person  # noqa: E402
from wiki import audit, diffs  # noqa: E402
from wiki.config import Settings  # noqa: E402
from wiki.datadir import Services, open_data_dir  # noqa: E402
from wiki.errors import WikiError  # noqa: E402
from wiki.export.build import resolve  # noqa: E402
from wiki.export.jobs import Jobs, Limits  # noqa: E402
from wiki.render import Renderer, blob_id, is_plain  # noqa: E402

TARGET = 2.0  # seconds: the slowest answer allowed at 1 MB
SIZES = (10_000, 100_000, 1_000_000)
NORMAL = ("## Plan\n\nEen *gewone* alinea met een [[Home|link]], `code` en een lijst:\n\n"
          "- een\n- twee\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n")


@dataclass(frozen=True)
class Case:
    """One hostile input: `make(size)` builds it; `kind` picks the runner."""

    name: str
    kind: str
    make: Callable[[int], Any]
    sizes: tuple[int, ...] = SIZES


def repeat(unit: str) -> Callable[[int], str]:
    return lambda size: unit * max(1, size // len(unit))


def short_lines(size: int, seed: int) -> str:
    rnd = random.Random(seed)
    return "".join(rnd.choice("abcdef") + rnd.choice("xyz") + "\n" for _ in range(size // 3))


def words(size: int, prefix: str) -> str:
    return " ".join(f"{prefix}{n}" for n in range(size // 6))


CASES: list[Case] = [
    Case("render: open brackets [[[[", "render", repeat("[")),
    Case("render: 1,900-bracket paragraphs", "render", repeat("[" * 1900 + "\n\n")),
    Case("render: headings without blank lines", "render", repeat("# h\n")),
    Case("render: setext headings", "render", repeat("h\n=\n")),
    Case("render: references to one footnote", "render",
         lambda size: repeat("x[^1] " * 300 + "\n\n")(size) + "[^1]: a\n"),
    Case("render: unclosed <a tags", "render", repeat("<a ")),
    Case("render: escapes in one paragraph", "render", repeat("\\[")),
    Case("render: [TOC] markers and headings", "render",
         lambda size: repeat("[TOC]\n\n")(size // 2) + repeat("# a\n\n")(size // 2)),
    Case("render: nested lists", "render",
         lambda size: "".join("  " * (i % 400) + "- a\n" for i in range(size // 400))),
    Case("render: ordinary prose", "render", repeat(NORMAL)),
    Case("diff: two versions of short lines", "diff",
         lambda size: (short_lines(size, 1), short_lines(size, 2))),
    Case("diff: one line rewritten word by word", "diff",
         lambda size: (words(size, "w"), words(size, "v"))),
    Case("diff: prose with every 10th line changed", "diff",
         lambda size: (repeat("Een regel gewone tekst.\n")(size),
                       "".join(line + ("!\n" if n % 10 == 0 else "\n") for n, line in
                               enumerate(repeat("Een regel gewone tekst.\n")(size).splitlines())))),
]


def misspelled(size: int) -> str:
    return " ".join("klantreizx" * 30 for _ in range(max(1, size // 300)))


def table_page(size: int) -> str:
    row = "| " + " | ".join(f"cel {n}" for n in range(12)) + " |\n"
    header = "| " + " | ".join(f"k{n}" for n in range(12)) + " |\n|" + "---|" * 12 + "\n"
    return "# Tabel\n\n" + header + row * max(1, size // len(row))


CASES += [
    Case("search: one 300-letter misspelled word", "search", misspelled, (300,)),
    Case("search: 50 misspelled 300-letter words", "search", misspelled, (15_000,)),
    Case("search: ten fuzzy words ~2", "search",
         lambda size: " ".join(f"klnat{n}~2" for n in range(10)), (100,)),
    Case("search: NOT NOT and open quotes", "search",
         lambda size: "NOT NOT " * (size // 8) + '"open', (500,)),
    Case("search: a 1 MB query", "search", repeat("klant OR "), (1_000_000,)),
    Case("export: a table page just under the budget (PDF)", "export", table_page,
         (90_000,)),
    Case("export: a 160 KB table page (PDF)", "export", table_page, (160_000,)),
]


class Wiki:
    """A small wiki with a real index, made once, for the search and export cases."""

    _services: Services | None = None

    @classmethod
    def services(cls) -> Services:
        if cls._services is None:
            folder = Path(tempfile.mkdtemp(prefix="cowiki-hostile-"))
            audit.configure(path=folder / "audit.log")  # keep the table readable
            services = open_data_dir(Settings.load({"data_dir": str(folder)}))
            files = {f"Hoofdstuk {n}.md": f"# Hoofdstuk {n}\n\nDe klantreis van {n} klanten"
                     f" in de regio.\n".encode() for n in range(300)}
            services.pages.import_files(files, services.server, "Hoofdstukken")
            services.indexer.rebuild()
            cls._services = services
        return cls._services


def run_search(_renderer: Renderer, query: str) -> str:
    try:
        results = Wiki.services().indexer.search(query)
    except WikiError as refused:
        return f"refused: {str(refused)[:40]}"
    return f"{results.total} found"


def run_export(_renderer: Renderer, text: str) -> str:
    services = Wiki.services()
    services.pages.save(f"Tabel {len(text)}", text, None, Person("Bench", "bench@example.org"))
    jobs = Jobs(services.settings.data_dir, Limits.from_settings(services.settings))
    try:
        job = jobs.start(resolve(services.repo, ""), "pdf", owner="bench")
    except WikiError as refused:
        return f"refused: {str(refused)[:48]}"
    answered = time.perf_counter()
    done = jobs.wait(job.id, timeout=900)
    WORKER_SECONDS[text] = time.perf_counter() - answered
    return f"queued; the worker then {done.status} in {WORKER_SECONDS[text]:.0f} s"


def run_render(renderer: Renderer, text: str) -> str:
    html = renderer.render_blob(blob_id(text), text)
    return "shown as is" if is_plain(html) else "formatted"


def run_diff(_renderer: Renderer, pair: tuple[str, str]) -> str:
    old, new = pair
    rows = diffs.side_by_side(old, new)
    diffs.inline_rows(rows)
    added, removed = diffs.row_stats(rows)
    diffs.unified(old, new, "a", "b")
    return f"+{added} -{removed}, {len(rows)} rows"


RUNNERS: dict[str, Callable[[Renderer, Any], str]] = {
    "render": run_render, "diff": run_diff, "search": run_search, "export": run_export}
# An export's reader waits for the queue's answer, not for the worker: its time is
# taken off the case's seconds (and shown in the result).
WORKER_SECONDS: dict[str, float] = {}


class Bystander(threading.Thread):
    """Formats ordinary pages (each new, so never cached) until stopped; keeps the slowest."""

    def __init__(self, renderer: Renderer) -> None:
        super().__init__(daemon=True)
        self.renderer = renderer
        self.stop = threading.Event()
        self.times: list[float] = []

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            start = time.perf_counter()
            html = self.renderer.render(f"# Pagina {n}\n\n" + NORMAL * 3)
            self.times.append(time.perf_counter() - start)
            assert not is_plain(html)
            time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only the 1 MB size")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--kind", choices=sorted(RUNNERS), action="append",
                        help="only cases of this kind (repeatable)")
    args = parser.parse_args()
    renderer = Renderer.for_settings(Settings.load())
    print(f"budget {renderer.budget.seconds:g} s per render, {renderer.budget.workers} workers;"
          f" target: every answer under {TARGET:g} s\n")
    renderer.render("# warm-up\n" + "x" * 6000)  # start the worker pool outside the timings
    results = []
    bystander = Bystander(renderer)
    bystander.start()
    print(f"{'case':44} {'size':>9} {'seconds':>8}  {'within':6}  result")
    for case in CASES:
        if args.kind and case.kind not in args.kind:
            continue
        for size in case.sizes:
            if args.quick and size != max(case.sizes):
                continue
            data = case.make(size)
            start = time.perf_counter()
            outcome = RUNNERS[case.kind](renderer, data)
            seconds = time.perf_counter() - start - WORKER_SECONDS.pop(data, 0.0)
            ok = seconds < TARGET
            results.append({"case": case.name, "size": size, "seconds": round(seconds, 3),
                            "ok": ok, "result": outcome})
            print(f"{case.name:44} {size:>9,} {seconds:8.3f}  {'yes' if ok else 'NO':6}  "
                  f"{outcome}", flush=True)
    bystander.stop.set()
    bystander.join()
    slowest = max(bystander.times)
    print(f"\nordinary page renders meanwhile: {len(bystander.times)}, slowest "
          f"{slowest * 1000:.0f} ms, median "
          f"{sorted(bystander.times)[len(bystander.times) // 2] * 1000:.1f} ms")
    failed = [r for r in results if not r["ok"]] + ([{"bystander": slowest}]
                                                     if slowest >= TARGET else [])
    print("all answers within target" if not failed else f"{len(failed)} over target")
    if args.json:
        args.json.write_text(json.dumps({"target": TARGET, "cases": results,
                                         "bystander_max": slowest}, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
