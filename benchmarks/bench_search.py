"""Search at scale: build, update, query and catch-up times, against a naive file scan.

Generates a Dutch/English corpus (default 10,000 pages of ~3 KB in 20 chapter
folders), commits it, and measures in one run:

- full index build (pages/s), a one-page update, catch-up after 100 changed pages;
- query p50/p95 with highlighted snippets: a common word, a phrase, a fuzzy word;
- a naive scan of all page files for the same common word at 500 pages and at
  the full size — the limit without an index;
- the same queries as bare Whoosh queries on the same index (parse, search,
  top 10 paths; no stemming expansion, snippets or suggestions) — the limit
  of the search engine underneath.

Usage: .venv/bin/python benchmarks/bench_search.py [--pages N] [--keep DIR] [--json FILE]
Targets: common-word p50 < 30 ms at 10,000 pages and >= 20x faster than the
scan; catch-up of 100 changed pages < 3 s.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.qparser import FuzzyTermPlugin, MultifieldParser

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.repository import Person  # noqa: E402
from wiki.config import Settings  # noqa: E402
from wiki.datadir import Services, open_data_dir  # noqa: E402

DUTCH = """
de het een en van is dat niet op te zijn voor met die er aan ook als bij maar om wordt
naar dan nog wel of door we ze hun deze dit geen heeft kan moet uit over tot klanten
klant project werkgroep samenwerking onderzoek gemeente beleid bewoners ontwikkeling
resultaten aanpak doelen partners kennis ervaring deelnemers duurzaamheid energie wijk
zorg onderwijs organisatie verandering toekomst kwaliteit gesprekken werken werkt gewerkt
tevreden ideeën vragen antwoorden plannen
""".split()  # noqa: SIM905 (a word list reads better as text)
ENGLISH = """
the a an and of is that not on to are for with this it as at but by from be was have has
can will would which what when where who they their there these into customers customer
project working group collaboration research council policy residents development results
approach goals partners knowledge experience participants sustainability energy
neighbourhood care education organisation change future quality conversations running
runs run satisfied questions
""".split()  # noqa: SIM905 (a word list reads better as text)
COMMON = "klanten"
PHRASE = '"klanten zijn tevreden"'
FUZZY = "klnat~"
AUTHORS = [Person(n, f"{n.lower()}@example.org") for n in ("Anna", "Bram", "Chris", "Dewi")]


def sentence(rng: random.Random, words: list[str]) -> str:
    """A sentence of Zipf-weighted words (earlier words in the list are more common)."""
    count = rng.randint(8, 18)
    picked = rng.choices(words, weights=[1 / (i + 1) for i in range(len(words))], k=count)
    return " ".join(picked).capitalize() + "."


def page(rng: random.Random, number: int, extra: list[str]) -> tuple[str, str]:
    """One page of ~3 KB: title, two sections, Dutch or English (one in ten mixed)."""
    dutch = number % 2 == 0
    words = (DUTCH if dutch else ENGLISH) + extra
    parts = [f"# {'Pagina' if dutch else 'Page'} {number} {rng.choice(words)}"]
    while sum(len(p) for p in parts) < 3000:
        if len(parts) % 6 == 1:
            parts.append(f"## {sentence(rng, words)[:40]}")
        parts.append(" ".join(sentence(rng, words) for _ in range(4)))
        if number % 10 == 0:
            parts.append(sentence(rng, ENGLISH if dutch else DUTCH))
    if number % 20 == 0:
        parts.append("De klanten zijn tevreden over de aanpak.")
    return f"hoofdstuk-{number % 20:02d}/pagina-{number:05d}", "\n\n".join(parts) + "\n"


def corpus(size: int) -> dict[str, str]:
    """A reproducible corpus with a long tail of rare invented words."""
    rng = random.Random(42)
    extra = ["".join(rng.choices("aeioubdfgklmnprstvw", k=rng.randint(5, 10)))
             for _ in range(3000)]
    return dict(page(rng, n, extra) for n in range(size))


def timed(action: Callable[[], object]) -> float:
    """Seconds one call takes."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def naive_scan(folder: Path, word: str) -> int:
    """What a wiki without an index does: read every file, match, cut a snippet."""
    pattern = re.compile(re.escape(word), re.IGNORECASE)
    found = []
    for file in folder.rglob("*.md"):
        text = file.read_text(encoding="utf-8")
        match = pattern.search(text)
        if match:
            found.append((file, text[max(0, match.start() - 80): match.end() + 80]))
    return len(found)


def write_files(pages: dict[str, str], folder: Path) -> None:
    for name, text in pages.items():
        target = folder / f"{name}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def query_times(services: Services, query: str, runs: int) -> tuple[float, float, int]:
    services.indexer.search(query)  # warm caches once, as a running server would be
    samples = [timed(lambda: services.indexer.search(query)) for _ in range(runs)]
    p50, p95 = percentiles(samples)
    total = services.indexer.search(query).total
    every = services.indexer.search(query, per_page=max(1, total)).hits
    if len(every) != total:  # the total must count exactly the pages one can page through
        raise SystemExit(f"{query!r}: total {total} but {len(every)} pages listed")
    return p50, p95, total


def bare_whoosh_times(index_dir: Path, query: str, runs: int) -> tuple[float, float]:
    """The limit: the query straight on the Whoosh index, top 10 paths, nothing else."""
    ix = whoosh_index.open_dir(str(index_dir))
    kinds = ("title_", "head_", "phrase_" if '"' in query else "body_")  # as the wiki's parser
    fields = [n for n in ix.schema.names() if n.startswith(kinds)]
    parser = MultifieldParser(fields, ix.schema)
    parser.add_plugin(FuzzyTermPlugin())
    with ix.searcher() as searcher:
        def once() -> list[str]:
            return [hit["path"] for hit in searcher.search(parser.parse(query), limit=10)]

        once()  # warm, as for the wiki's own query
        return percentiles([timed(once) for _ in range(runs)])


def scan_time(pages: dict[str, str], size: int, work: Path) -> float:
    folder = work / f"files-{size}"
    write_files(dict(list(pages.items())[:size]), folder)
    naive_scan(folder, COMMON)  # warm the page cache: we compare CPU work, not disk
    return min(timed(lambda: naive_scan(folder, COMMON)) for _ in range(3))


def run(size: int, work: Path) -> dict[str, Any]:
    print(f"Generating {size} pages ...", file=sys.stderr)
    pages = corpus(size)
    mb = sum(len(t.encode()) for t in pages.values()) / 1e6
    services = open_data_dir(Settings.load({"data_dir": str(work / "data")}))
    changes: dict[str, bytes | None] = {f"{n}.md": t.encode() for n, t in pages.items()}
    services.repo.commit(lambda head: changes, AUTHORS[0], "Import corpus")
    print(f"corpus: {size} pages, {mb:.1f} MB", flush=True)

    build = timed(lambda: services.indexer.rebuild())
    print(f"full build: {build:.1f} s ({size / build:.0f} pages/s)", flush=True)

    names = list(pages)
    services.pages.save(names[1], pages[names[1]] + "\nEen nieuwe zin.\n", services.repo.head(),
                       AUTHORS[1])
    update = timed(lambda: services.indexer.catch_up())
    print(f"one-page update (catch-up of 1 commit): {update * 1000:.0f} ms", flush=True)

    rows = []
    for label, query in (("common word", COMMON), ("phrase", PHRASE), ("fuzzy", FUZZY)):
        p50, p95, total = query_times(services, query, runs=40)
        bare50, bare95 = bare_whoosh_times(services.indexer.index.current_directory(), query,
                                           runs=40)
        rows.append((label, query, p50, p95, total, bare50, bare95))
        print(f"query {label:11} {query!r:26} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
              f"({total} hits, 10 highlighted); bare Whoosh p50 {bare50:6.1f} ms  "
              f"p95 {bare95:6.1f} ms; ratio {p50 / bare50:4.1f}x", flush=True)

    for n, name in enumerate(names[2:102]):
        services.pages.save(name, pages[name] + f"\nWijziging {n}.\n", services.repo.head(),
                           AUTHORS[n % 4])
    catch_up = timed(lambda: services.indexer.catch_up())
    print(f"catch-up after 100 changed pages (100 commits): {catch_up:.2f} s "
          f"(target < 3 s: {'ok' if catch_up < 3 else 'MISSED'})", flush=True)

    small = scan_time(pages, min(500, size), work)
    full = scan_time(pages, size, work)
    print(f"naive scan for {COMMON!r}: {small * 1000:.0f} ms at {min(500, size)} pages, "
          f"{full * 1000:.0f} ms at {size} pages", flush=True)
    common_p50 = rows[0][2]
    print(f"common-word query p50 {common_p50:.1f} ms (target < 30 ms: "
          f"{'ok' if common_p50 < 30 else 'MISSED'}); {full * 1000 / common_p50:.0f}x faster "
          f"than the scan at {size} pages (target >= 20x)", flush=True)
    return {"pages": size, "build_s": build, "update_ms": update * 1000, "catch_up_s": catch_up,
            "scan_ms": full * 1000,
            "queries": [{"label": r[0], "query": r[1], "p50_ms": r[2], "p95_ms": r[3],
                         "hits": r[4], "bare_p50_ms": r[5], "bare_p95_ms": r[6],
                         "ratio": r[2] / r[5]} for r in rows]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-search-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        figures = run(args.pages, work)
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=1))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
