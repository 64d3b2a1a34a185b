"""Live co-editing under load: keystroke-to-other-screen latency, memory per room, commits.

The real live process (`python -m cowiki.live`, tests/live_support.py) on a
fresh data dir; simulated browsers are pycrdt documents speaking y-websocket
over its unix socket, all in this one asyncio process. Two scenes:

- one page, `--editors` (50) people typing at once;
- `--pages` (10) live pages, five people typing on each.

Every editor types one character every 1/`--rate` seconds (5/s, a fast typist),
each a code point of its own from a private-use plane (four UTF-8 bytes, like
emoji), at a random spot. A watching reader on each page notes when each
character reaches its screen: keystroke-to-other-screen latency (p50, p95;
target p95 < 100 ms on loopback). Memory per room: the live process's RSS with
the rooms open minus before, per room. Typists send their keystrokes but do
not apply the others' (each browser does that on its own machine); the
watchers apply everything. Commits per editing minute: commits the
rooms made (idle and 5-minute folds while typing, the last fold when everyone
leaves) per minute of typing, all editors together.

Run: .venv/bin/python benchmarks/bench_live.py [--quick] [--seconds 20] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.live_support import LiveProcess, YClient, start_live, ticket  # noqa: E402
from wiki.config import Settings  # noqa: E402
from wiki.datadir import Services, open_data_dir  # noqa: E402

FIRST = 0xF0000  # the supplementary private-use plane: one unique code point per keystroke
PAGE_TEXT = "# Werkplan\n\n" + "".join(f"Alinea {n}: de coördinatie van één café.\n\n"
                                        for n in range(20))


class Clock:
    """Send times of keystrokes and the latencies seen by watchers."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.latencies: list[float] = []
        self.next = 0

    def mark(self) -> str:
        char = chr(FIRST + self.next)
        self.next += 1
        self.sent[char] = time.perf_counter()
        return char

    def seen(self, inserted: str) -> None:
        now = time.perf_counter()
        for char in inserted:
            started = self.sent.pop(char, None)
            if started is not None:
                self.latencies.append((now - started) * 1000)


def watch(client: YClient, clock: Clock) -> None:
    """Note every keystroke that reaches this reader's screen."""

    def observed(event: Any) -> None:
        for part in event.delta:
            if "insert" in part:
                clock.seen(str(part["insert"]))

    client.text.observe(observed)


async def typist(client: YClient, clock: Clock, rate: float, until: float,
                 rng: random.Random) -> int:
    typed = 0
    while time.perf_counter() < until:
        await asyncio.sleep(rng.expovariate(rate))
        await client.type(rng.randrange(len(str(client.text)) + 1), clock.mark())
        typed += 1
    return typed


async def scene(services: Services, pages: list[str], editors_per_page: int, seconds: float,
                rate: float, live: LiveProcess) -> dict[str, Any]:
    data = Path(services.settings.data_dir)
    ids = [u.id for u in services.accounts.all_users() if u.role == "participant"]
    reader = next(u.id for u in services.accounts.all_users() if u.role == "reader")
    clock, rng = Clock(), random.Random(18)
    rss_before = rss(live)
    watchers, editors = [], []
    for page in pages:
        watcher = await YClient.connect(data, page, ticket(data, page, reader, "read"))
        await asyncio.wait_for(watcher.synced.wait(), 30)
        watch(watcher, clock)
        watchers.append(watcher)
        for n in range(editors_per_page):
            account = ids[(len(editors) + n) % len(ids)]
            # Typists don't apply the others' keystrokes: on a real day each browser does that
            # on its own machine; here they would all share the live process's two cores.
            client = await YClient.connect(data, page, ticket(data, page, account),
                                           follow=False)
            editors.append(client)
    for client in editors:
        await asyncio.wait_for(client.synced.wait(), 30)
    rss_open = rss(live)
    head = services.repo.head()
    cpu_before = cpu_seconds(live)
    started = time.perf_counter()
    typed = await asyncio.gather(*(typist(c, clock, rate, started + seconds, rng)
                                   for c in editors))
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(live) - cpu_before
    await asyncio.sleep(1.0)  # the last keystrokes reach the watchers
    rss_typed = rss(live)
    for client in editors + watchers:
        await client.close()
    for _ in range(300):  # the last writer left: every room folds and closes
        if live.health()["rooms"] == 0:
            break
        await asyncio.sleep(0.1)
    commits = len(services.history.log(None, limit=100_000, rev=f"{head}..main"))
    lat = sorted(clock.latencies)
    return {
        "pages": len(pages), "editors": len(editors), "seconds": round(elapsed, 1),
        "keystrokes": sum(typed), "delivered": len(lat),
        "p50_ms": round(statistics.median(lat), 1) if lat else None,
        "p95_ms": round(lat[int(len(lat) * 0.95)], 1) if lat else None,
        "rss_per_room_mb": round((rss_typed - rss_before) / len(pages) / 1e6, 2),
        "rss_open_per_room_mb": round((rss_open - rss_before) / len(pages) / 1e6, 2),
        "live_cpu_share": round(cpu / elapsed, 2),
        "commits": commits,
        "commits_per_editing_minute": round(commits / (elapsed * len(editors) / 60), 2),
    }


def cpu_seconds(live: LiveProcess) -> float:
    """CPU time the live process used so far (user + system)."""
    fields = Path(f"/proc/{live.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss(live: LiveProcess) -> int:
    """Resident memory of the live process, in bytes."""
    for line in Path(f"/proc/{live.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def make_wiki(folder: Path, pages: int, people: int) -> Services:
    services = open_data_dir(Settings.load({"data_dir": str(folder / "data")}))
    services.accounts.add_user("lezer", "lezer@example.org", "reader", "a-pass-word-1")
    for n in range(people):
        services.accounts.add_user(f"typist{n}", f"typist{n}@example.org", "participant",
                                   "a-pass-word-1")
    writer = services.accounts.by_name("typist0")
    assert writer is not None
    for n in range(pages):
        services.pages.save(f"Live {n}", PAGE_TEXT, None, writer.person)
    return services


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--editors", type=int, default=50)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=5.0, help="keystrokes per second each")
    parser.add_argument("--quick", action="store_true", help="10 editors, 3 pages, 5 s")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.quick:
        args.editors, args.pages, args.seconds = 10, 3, 5.0
    results = {}
    with tempfile.TemporaryDirectory(prefix="cowiki-live-") as tmp:
        services = make_wiki(Path(tmp), args.pages, args.editors)
        live = start_live(Path(services.settings.data_dir))
        try:
            results["one_page"] = asyncio.run(scene(
                services, ["Live 0"], args.editors, args.seconds, args.rate, live))
            print_scene(f"{args.editors} editors on one page", results["one_page"])
            results["many_pages"] = asyncio.run(scene(
                services, [f"Live {n}" for n in range(args.pages)], 5, args.seconds,
                args.rate, live))
            print_scene(f"{args.pages} live pages, 5 editors each", results["many_pages"])
        finally:
            live.stop()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def print_scene(title: str, figures: dict[str, Any]) -> None:
    print(f"\n{title}: {figures['keystrokes']} keystrokes in {figures['seconds']} s, "
          f"{figures['delivered']} seen by a watcher")
    print(f"  keystroke to other screen: p50 {figures['p50_ms']} ms, "
          f"p95 {figures['p95_ms']} ms (target p95 < 100 ms); the live process used "
          f"{figures['live_cpu_share']} CPU cores meanwhile")
    print(f"  memory per room: {figures['rss_per_room_mb']} MB after typing "
          f"({figures['rss_open_per_room_mb']} MB just opened)")
    print(f"  commits: {figures['commits']}, "
          f"{figures['commits_per_editing_minute']} per editing minute", flush=True)


if __name__ == "__main__":
    sys.exit(main())
