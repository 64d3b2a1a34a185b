"""Clone and push over cowiki's smart HTTP against plain local git on the same history.

Builds a wiki history of 2,500 commits over 500 pages (git fast-import), then:

- push: all 2,500 commits in one `git push` to the running wiki (gunicorn,
  2 workers, pre-receive checks of every commit, push log) versus the same
  push into a local bare copy without hooks;
- clone: `git clone` of the wiki over HTTP versus `git clone --bare` of the
  repository on disk (hard links) and with `--no-local` (packs like a server).

Run: .venv/bin/python benchmarks/bench_git.py [--commits 2500] [--pages 500] [--runs 3]
     [--json FILE]
Prints seconds and ratios (HTTP time / local time) measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

# The per-person limits (COWIKI_RATE_*) stop people who click faster than people do;
# these scripts do exactly that to measure the server, so they switch them off.
NO_PERSON_LIMITS = {f"COWIKI_RATE_{kind}": "0" for kind in ("SAVES", "COMMENTS", "REACTIONS",
                                                          "EXPORTS")}
ROOT = Path(__file__).resolve().parent.parent
AUTHOR = "Bench Writer <participant@example.org>"


def sh(*args: str, cwd: Path | None = None, stdin: bytes | None = None) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(list(args), cwd=cwd, input=stdin, capture_output=True, env=env,
                          timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr.decode()}")
    return done.stdout.decode()


def cowiki(data: Path, *args: str, stdin: str = "") -> str:
    return sh(sys.executable, "-m", "cowiki", "--data", str(data), *args,
              stdin=stdin.encode()).strip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = open(data / "server.log", "wb")  # noqa: SIM115 (lives as long as the server)
    process = subprocess.Popen([sys.executable, "-m", "cowiki", "--data", str(data), "serve",
                                "--port", str(port), "--workers", "2"],
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, **NO_PERSON_LIMITS})
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return process, url
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("server did not start")


def fast_import_stream(parent: str, commits: int, pages: int, seed: int = 7) -> bytes:
    """A fast-import stream: first every page is created, then random pages are edited."""
    rng = random.Random(seed)
    texts: dict[int, list[str]] = {}
    out: list[bytes] = []
    when = 1_700_000_000
    for n in range(commits):
        page = n if n < pages else rng.randrange(pages)
        lines = texts.setdefault(page, [f"# Page {page}", ""])
        lines.append(f"Paragraph {len(lines)} of page {page}: " + "lorem ipsum " * 8)
        body = ("\n".join(lines) + "\n").encode()
        message = f"Edit Page {page}".encode()
        out += [b"commit refs/heads/main\n",
                f"author {AUTHOR} {when + n} +0000\n".encode(),
                f"committer {AUTHOR} {when + n} +0000\n".encode(),
                f"data {len(message)}\n".encode() + message + b"\n"]
        if n == 0:
            out.append(f"from {parent}\n".encode())
        out.append(f'M 100644 inline "Page {page}.md"\n'.encode())
        out.append(f"data {len(body)}\n".encode() + body + b"\n")
    return b"".join(out)


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def push_run(tmp: Path, seed: Path, stream: bytes, run: int) -> tuple[float, float]:
    """One fresh copy of the seed wiki: (HTTP push, local push) seconds for the whole history."""
    data = tmp / f"data{run}"
    shutil.copytree(seed, data, symlinks=True)
    token = cowiki(data, "token", "participant")
    baseline = tmp / f"baseline{run}.git"
    sh("git", "clone", "-q", "--bare", str(data / "repo.git"), str(baseline))
    work = tmp / f"work{run}"
    sh("git", "clone", "-q", str(data / "repo.git"), str(work))
    sh("git", "fast-import", "--quiet", cwd=work, stdin=stream)
    sh("git", "reset", "-q", "--hard", "main", cwd=work)
    process, url = start_server(data)
    try:
        remote = url.replace("http://", f"http://participant:{token}@") + "/wiki.git"
        http = timed(lambda: sh("git", "push", "-q", remote, "main", cwd=work))
    finally:
        process.terminate()
        process.wait(timeout=30)
    local = timed(lambda: sh("git", "push", "-q", str(baseline), "main", cwd=work))
    return http, local


def clone_run(tmp: Path, data: Path, url: str, run: int) -> tuple[float, float, float]:
    """(HTTP clone, local bare clone, local --no-local bare clone) seconds."""
    http = timed(lambda: sh("git", "clone", "-q", url, str(tmp / f"http{run}")))
    local = timed(lambda: sh("git", "clone", "-q", "--bare", str(data / "repo.git"),
                             str(tmp / f"local{run}.git")))
    packed = timed(lambda: sh("git", "clone", "-q", "--bare", "--no-local",
                              str(data / "repo.git"), str(tmp / f"packed{run}.git")))
    return http, local, packed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commits", type=int, default=2500)
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-git-") as name:
        tmp = Path(name)
        seed_dir = tmp / "seed"
        cowiki(seed_dir, "init")
        cowiki(seed_dir, "adduser", "participant", "--email", "participant@example.org",
               "--role", "participant", "--password-stdin", stdin="bench-password-1\n")
        parent = sh("git", "--git-dir", str(seed_dir / "repo.git"), "rev-parse", "main").strip()
        stream = fast_import_stream(parent, args.commits, args.pages)
        pushes = []
        for run in range(args.runs):
            # Each wiki is a copy of the seed, so one stream fits all.
            pushes.append(push_run(tmp, seed_dir, stream, run))
        data = tmp / "data0"
        commits = sh("git", "--git-dir", str(data / "repo.git"), "rev-list", "--count", "main")
        token = cowiki(data, "token", "participant")
        process, url = start_server(data)
        try:
            remote = url.replace("http://", f"http://participant:{token}@") + "/wiki.git"
            clones = [clone_run(tmp, data, remote, run) for run in range(args.runs)]
        finally:
            process.terminate()
            process.wait(timeout=30)
    report(args, int(commits), pushes, clones)


def report(args: argparse.Namespace, commits: int, pushes: list[tuple[float, float]],
           clones: list[tuple[float, float, float]]) -> None:
    def med(values: list[float]) -> float:
        return statistics.median(values)

    push_http, push_local = med([p[0] for p in pushes]), med([p[1] for p in pushes])
    clone_http = med([c[0] for c in clones])
    clone_local, clone_packed = med([c[1] for c in clones]), med([c[2] for c in clones])
    print(f"history: {commits} commits, {args.pages} pages; median of {args.runs} runs")
    print(f"push  {args.commits} commits over HTTP: {push_http:.2f} s;"
          f" into local bare repo: {push_local:.2f} s; ratio {push_http / push_local:.1f}x")
    print(f"clone over HTTP: {clone_http:.2f} s; git clone --bare (local): {clone_local:.2f} s,"
          f" ratio {clone_http / clone_local:.1f}x; --no-local: {clone_packed:.2f} s,"
          f" ratio {clone_http / clone_packed:.1f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "commits": commits, "pages": args.pages, "runs": args.runs,
            "push_http_s": push_http, "push_local_s": push_local,
            "clone_http_s": clone_http, "clone_local_s": clone_local,
            "clone_no_local_s": clone_packed}, indent=1))


if __name__ == "__main__":
    main()
