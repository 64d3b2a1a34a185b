"""Pushing while people save on the web: how many pushes land, and is anything lost?

A live gunicorn server (tests/conftest.py `start_server`, 2 workers, loopback
only) gets web saves at a steady rate (default 5 a second) on one page,
"Busy", each appending a line. Meanwhile one contributor pushes with the real
git client, one push every `--gap` seconds: each push changes the line at the
top of "Busy" (the web appends at the end, so the two merge cleanly) and adds
a page of its own. A push gets two tries; after a refusal it pulls and pushes
again.

- `--target merge` (default) pushes to refs/for/main, which the wiki merges;
- `--target main` pushes to refs/heads/main, as before refs/for/main existed.

At the end: every acknowledged web save's line must be in "Busy", every landed
push's page in the tree, one `pushed` change announced per landed push, and
`git fsck --strict` clean. The run is bounded by `--pushes` and `--max-seconds`.

Run: .venv/bin/python benchmarks/bench_push.py [--rate 5] [--pushes 10] [--gap 1]
     [--target merge|main] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import PASSWORDS, LiveServer, start_server  # noqa: E402

TOP = "# Busy\n\npushed: none\n\n" + "".join(f"filler {n}\n\n" for n in range(6))
TARGETS = {"merge": "HEAD:refs/for/main", "main": "HEAD:refs/heads/main"}


@dataclass
class Saves:
    """What the web saver did: the lines of acknowledged saves, conflicts, errors."""

    acknowledged: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    conflicts: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class Pushes:
    """Per push: the try it landed on (0: not within two), and the seconds of each try."""

    landed_on: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def git(home: Path, *args: str, cwd: Path | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "LANG": "C",
           "GIT_AUTHOR_NAME": "Pat", "GIT_AUTHOR_EMAIL": "participant@example.org",
           "GIT_COMMITTER_NAME": "Pat", "GIT_COMMITTER_EMAIL": "participant@example.org"}
    done = subprocess.run(["git", *args], cwd=cwd or home, env=env, capture_output=True,
                          text=True, timeout=120)
    if check and done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed:\n{done.stderr}")
    return done


def save_on_the_web(server: LiveServer, rate: float, stop: threading.Event,
                    saves: Saves) -> None:
    """Append one line to Busy every 1/rate seconds, each based on the saver's last save."""
    web = server.session("facilitator")
    url = f"{server.url}/api/v1/pages/Busy"
    page = web.get(url, timeout=30).json()
    text, revision = page["markdown"], page["revision"]
    start, n = time.monotonic(), 0
    while not stop.is_set():
        line = f"web save {n}"
        began = time.monotonic()
        answer = web.put(url, json={"markdown": f"{text}\n{line}\n", "base_revision": revision},
                         timeout=60)
        if answer.status_code in (200, 201):
            saves.seconds.append(time.monotonic() - began)
            saves.acknowledged.append(line)
            text, revision = f"{text}\n{line}\n", answer.json()["revision"]
        elif answer.status_code == 409:
            saves.conflicts += 1
        else:
            saves.errors.append(f"{answer.status_code}: {answer.text[:200]}")
        n += 1
        stop.wait(max(0.0, start + n / rate - time.monotonic()))


def push_once(home: Path, work: Path, target: str, pushes: Pushes) -> bool:
    began = time.monotonic()
    done = git(home, "push", "-q", "origin", target, cwd=work, check=False)
    pushes.seconds.append(time.monotonic() - began)
    return done.returncode == 0


def push_while_saving(server: LiveServer, home: Path, args: argparse.Namespace,
                      pushes: Pushes) -> None:
    """Each push: pull, change Busy's top line, add a page, commit, push (two tries)."""
    host = server.url.split("://", 1)[1]
    work = home / "work"
    git(home, "clone", "-q", f"http://participant:{PASSWORDS['participant']}@{host}/wiki.git",
        str(work))
    deadline = time.monotonic() + args.max_seconds
    for n in range(args.pushes):
        if time.monotonic() > deadline:
            break
        git(home, "pull", "-q", "--no-rebase", "--no-edit", cwd=work)
        busy = work / "Busy.md"
        lines = busy.read_text().splitlines(keepends=True)
        busy.write_text("".join(f"pushed: {n}\n" if line.startswith("pushed: ") else line
                                for line in lines))
        (work / f"Pushed {n}.md").write_text(f"# Pushed {n}\n\nFrom git.\n")
        git(home, "add", "-A", cwd=work)
        git(home, "commit", "-q", "-m", f"Push {n}", cwd=work)
        landed = 0
        for attempt in (1, 2):
            if push_once(home, work, TARGETS[args.target], pushes):
                landed = attempt
                break
            git(home, "pull", "-q", "--no-rebase", "--no-edit", cwd=work, check=False)
        pushes.landed_on.append(landed)
        time.sleep(args.gap)


def checks(server: LiveServer, saves: Saves, pushes: Pushes) -> dict[str, object]:
    """What survived: web lines in Busy, pushed pages in the tree, announcements, fsck."""
    repo = str(server.data_dir / "repo.git")
    final = server.session("reader").get(f"{server.url}/api/v1/pages/Busy",
                                         timeout=30).json()["markdown"]
    tree = subprocess.run(["git", "--git-dir", repo, "ls-tree", "--name-only", "main"],
                          capture_output=True, text=True, check=True).stdout.splitlines()
    fsck = subprocess.run(["git", "--git-dir", repo, "fsck", "--strict"],
                          capture_output=True, text=True)
    landed = [n for n, on in enumerate(pushes.landed_on) if on]
    deadline = time.monotonic() + 20
    log = server.data_dir / "server.log"
    while time.monotonic() < deadline and log.read_text().count('"event":"pushed"') < len(landed):
        time.sleep(0.2)
    return {
        "web_saves_lost": [line for line in saves.acknowledged if line not in final],
        "pushed_pages_missing": [n for n in landed if f"Pushed {n}.md" not in tree],
        "pushed_announced": log.read_text().count('"event":"pushed"'),
        "fsck_clean": fsck.returncode == 0 and not fsck.stdout.strip(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=5.0, help="web saves per second")
    parser.add_argument("--pushes", type=int, default=10)
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between pushes")
    parser.add_argument("--target", choices=sorted(TARGETS), default="merge")
    parser.add_argument("--max-seconds", type=float, default=180.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-push-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        server = start_server(data, workers=2)
        try:
            figures = run(server, Path(tmp), args)
        finally:
            server.process.terminate()
            server.process.wait(timeout=30)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    ok = (figures["landed_within_two_tries"] >= 0.9 * figures["pushes_tried"]
          and not figures["web_saves_lost"] and figures["fsck_clean"])
    return 0 if ok else 1


def run(server: LiveServer, tmp: Path, args: argparse.Namespace) -> dict[str, object]:
    web = server.session("facilitator")
    created = web.put(f"{server.url}/api/v1/pages/Busy", json={"markdown": TOP}, timeout=30)
    assert created.status_code in (200, 201), created.text
    home = tmp / "home"
    home.mkdir()
    saves, pushes, stop = Saves(), Pushes(), threading.Event()
    saver = threading.Thread(target=save_on_the_web, args=(server, args.rate, stop, saves))
    began = time.monotonic()
    saver.start()
    try:
        push_while_saving(server, home, args, pushes)
    finally:
        stop.set()
        saver.join(timeout=120)
    took = time.monotonic() - began
    landed = [on for on in pushes.landed_on if on]
    return {
        "target": TARGETS[args.target], "web_saves_per_second_asked": args.rate,
        "web_saves_per_second_done": round(len(saves.acknowledged) / took, 2),
        "pushes_tried": len(pushes.landed_on), "landed_within_two_tries": len(landed),
        "landed_first_try": landed.count(1), "landed_second_try": landed.count(2),
        "push_seconds_median": round(statistics.median(pushes.seconds), 2),
        "push_seconds_max": round(max(pushes.seconds), 2),
        "web_save_seconds_median": round(statistics.median(saves.seconds or [0.0]), 3),
        "web_saves_acknowledged": len(saves.acknowledged), "web_conflicts": saves.conflicts,
        "web_errors": saves.errors[:5], "seconds": round(took, 1),
        **checks(server, saves, pushes),
    }


if __name__ == "__main__":
    sys.exit(main())
