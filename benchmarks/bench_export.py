"""Export benchmark: PDF of 20 and of 200 generated pages, and every format's time.

    .venv/bin/python benchmarks/bench_export.py [--pages 20,200] [--formats pdf,html,...]
                                                [--json FILE]

Target: the 200-page PDF in under 60 s on 2 cores. Prints each figure and its
ratio to the limit; the figures go into benchmarks/README_export.md.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage.repository import Person  # noqa: E402
from wiki.changes import SERVER
from wiki.config import Settings  # noqa: E402
from wiki.datadir import Services, open_data_dir  # noqa: E402
from wiki.export import outline as outlines  # noqa: E402
from wiki.export.build import export, resolve  # noqa: E402

LIMIT_200_PDF = 60.0
AUTHORS = [Person(f"Auteur {n}", f"auteur{n}@example.org") for n in range(1, 9)]
WORDS = ["coördinatie", "gemeente", "samenwerking", "één", "café", "beleid", "uitvoering",
         "burgers", "regio", "onderzoek", "resultaat", "verantwoordelijkheid", "arbeidsmarkt",
         "financiering", "netwerk", "bestuurlijke", "afspraken", "kwaliteit",
         "zorgverzekeraars", "gegevensuitwisseling"]
TABLE = "| Fase | Weken |\n|---|--:|\n| Start | 4 |\n| Uitvoering | 12 |"


def paragraph(rng: random.Random, words: int = 90) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def page_text(rng: random.Random, number: int, total: int) -> str:
    link = f"[[Hoofdstuk {rng.randint(1, total):03d}]]"
    parts = [f"# Hoofdstuk {number:03d}", paragraph(rng), f"Zie ook {link}.[^1]",
             "## Aanpak", paragraph(rng), TABLE,
             "```python\ndef kosten(x):\n    return x * 1.21\n```", paragraph(rng),
             "[^1]: Een voetnoot."]
    return "\n\n".join(parts) + "\n"


def generate(root: Path, pages: int) -> Services:
    services = open_data_dir(Settings.load({"data_dir": str(root)}))
    rng = random.Random(pages)
    names = [f"Hoofdstuk {n:03d}" for n in range(1, pages + 1)]
    for number, name in enumerate(names, start=1):
        services.pages.save(name, page_text(rng, number, pages), None, rng.choice(AUTHORS))
    outline = outlines.Outline(title="Benchmark", subtitle=f"{pages} pagina's",
                               authors="Werkgroep", pages=tuple(names))
    outlines.save(services.repo, outline, AUTHORS[0], services.changes, SERVER)
    return services


def run(pages: int, formats: list[str]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        services = generate(Path(tmp) / "data", pages)
        source = resolve(services.repo, None)
        times = {}
        for fmt in formats:
            started = time.perf_counter()
            data = export(services.repo, services.history, source, fmt)
            times[fmt] = time.perf_counter() - started
            extra = ""
            if fmt == "pdf":
                out = Path(tmp) / "out.pdf"
                out.write_bytes(data)
                info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True)
                extra = next((ln.split()[-1] + " PDF pages" for ln in info.stdout.splitlines()
                              if ln.startswith("Pages:")), "")
            print(f"{pages:4d} wiki pages  {fmt:5s} {times[fmt]:7.2f} s  "
                  f"{len(data) / 1024:8.0f} KiB  {extra}", flush=True)
        return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", default="20,200")
    parser.add_argument("--formats", default="pdf,html,docx,epub,md")
    parser.add_argument("--json", metavar="FILE", help="also write the seconds as JSON")
    args = parser.parse_args()
    results = {n: run(n, args.formats.split(",")) for n in map(int, args.pages.split(","))}
    if args.json:
        Path(args.json).write_text(json.dumps({str(n): t for n, t in results.items()}))
    if 200 in results and "pdf" in results[200]:
        seconds = results[200]["pdf"]
        print(f"200-page PDF: {seconds:.1f} s = {seconds / LIMIT_200_PDF:.2f} x the "
              f"{LIMIT_200_PDF:.0f} s limit ({'OK' if seconds < LIMIT_200_PDF else 'TOO SLOW'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
