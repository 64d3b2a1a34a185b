"""How each page operation's cost grows from 500 pages / 2,500 commits to 10,000 / 50,000.

Builds three wikis with `git fast-import` (500, 2,000 and 10,000 pages, five
commits per page, ALL pages in one folder as many real wikis have them, one
page with 301 revisions spread over the whole history), then measures in
process with the Flask test client, logged in, the median of several runs:

- page view, a page view right after someone else's save (the head moved, as
  it does all the time in a room that writes), history (first page of 50),
  blame, recent changes, contributors, the page list, and a save (an edit with
  its base revision);
- the same questions asked of git alone (`git log -1`, the history walk,
  `git blame`: what every request cost before the page-metadata cache), and
  the least a save writes (a blob, the root tree, a commit and a ref, with
  pygit2), and writing the bytes of the save's root tree to a new file: in a
  folder of 10,000 pages that tree is 410 KB;
- the one-off costs: fast-import, the commit-graph, the cache's first build;
- memory: `cowiki serve` (2 gunicorn workers) on the wiki, with its search
  index, after page views, history, blame, searches, the page list, recent
  changes and contributors; each worker's resident memory (VmRSS, target
  under 300 MB at 10,000 pages).

It prints the growth ratio 10,000/500 of each operation against the target
(at most 1.5x). `--quick` builds 500 and 2,000 pages only (a smoke run; the
ratio is then 2,000/500). The search indexer is not woken during the timed
runs: a save only wakes it, and its catch-up would compete for the CPU being
measured (bench_search.py measures the index). `--keep DIR` builds each wiki
in DIR once and reuses it in later runs (the 10,000-page build takes minutes).

`--merges N` makes N of the edits merges of a commit pushed from a stale clone
(one three commits below the head), as pushes to `refs/for/main` land.

    .venv/bin/python benchmarks/bench_scale.py [--quick] [--runs N] [--json FILE] [--keep DIR]
                                               [--merges N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pygit2  # noqa: E402
import requests  # noqa: E402
from bench_save import running_server  # noqa: E402

from app import create_app  # noqa: E402
from storage.gitcmd import run_git  # noqa: E402
from storage.history import History  # noqa: E402
from storage.repository import Person, Repository  # noqa: E402
from storage.treesplice import UNCOMPRESSED_BYTES  # noqa: E402
from wiki.indexer import Indexer  # noqa: E402

SIZES = [(500, 2_500), (2_000, 10_000), (10_000, 50_000)]
HISTORY_PAGE = "History-301"
HISTORY_REVISIONS = 301
TARGET_GROWTH = 1.5
TARGET_WORKER_MB = 300
SEARCHES = ["whitepaper", "workshop notes", "revision 3", "Page-00042", "zzzunknown"]
AUTHORS = [(f"Author {i}", f"author{i}@example.org") for i in range(12)]
PASSWORD = "facilitator-pass-1"
OPERATIONS = ["view", "view after a save", "history", "blame", "recent changes", "contributors",
              "page list", "save"]
GIT_ALONE = ["git: last change", "git: history", "git: blame", "git: a commit",
             "disk: a root tree"]


def page_name(number: int) -> str:
    return f"Page-{number:05d}"


def page_text(title: str, version: int, lines: int = 40) -> bytes:
    body = [f"# {title}", ""]
    for line in range(lines):
        marker = f" (revision {version})" if line == version % lines else ""
        body.append(f"Line {line} of {title}: workshop notes on the whitepaper{marker}.")
    return ("\n".join(body) + "\n").encode()


def fast_import_stream(pages: int, commits: int, merges: int = 0) -> Iterator[bytes]:
    """One commit per new page, then edits of random pages; the history page's revisions
    spread evenly over the whole history. With `merges`, that many edits are instead
    merges of a commit pushed from a clone three commits behind (one of them three
    commits before the head), as `refs/for/main` lands them."""
    rng = random.Random(7)
    when = int(time.time()) - commits * 600
    versions = [0] * pages
    every = max(1, commits // HISTORY_REVISIONS)
    history_version = 0
    merged_at = {commits - 3} if merges else set()
    merged_at |= {pages + (commits - pages) * (i + 1) // merges for i in range(merges - 1)}
    for number in range(commits):
        when += 600
        if number in merged_at:
            yield from pushed_merge(rng, number, when, pages, versions)
            continue
        if number == 0:
            path, data = "Home.md", b"# Home\n\nThe whitepaper.\n"
        elif number < pages:
            path, data = f"{page_name(number)}.md", page_text(page_name(number), 0)
        elif (number % every == 0 or number == pages) and history_version < HISTORY_REVISIONS:
            path, data = f"{HISTORY_PAGE}.md", page_text(HISTORY_PAGE, history_version)
            history_version += 1
        else:
            page = rng.randrange(1, pages)
            versions[page] += 1
            path, data = f"{page_name(page)}.md", page_text(page_name(page), versions[page])
        yield fast_import_commit(number + 1, rng.choice(AUTHORS), when,
                                 f"Edit {path[:-3]}".encode(), path, data)


def fast_import_commit(mark: int, author: tuple[str, str], when: int, message: bytes,
                       path: str, data: bytes) -> bytes:
    """One commit of a `git fast-import` stream on main, setting `path` to `data`."""
    name, email = author
    return (b"commit refs/heads/main\nmark :%d\n" % mark
            + f"author {name} <{email}> {when} +0000\n".encode()
            + f"committer cowiki <cowiki@localhost> {when} +0000\n".encode()
            + b"data %d\n%s\n" % (len(message), message)
            + f'M 100644 inline "{path}"\n'.encode()
            + b"data %d\n%s\n" % (len(data), data))


def pushed_merge(rng: random.Random, number: int, when: int, pages: int,
                 versions: list[int]) -> Iterator[bytes]:
    """A commit made on a clone of commit `number - 3` (dated between the two commits
    before this one), and commit `number` merging it into main with its page."""
    page = rng.randrange(1, pages)
    versions[page] += 1
    path, data = f"{page_name(page)}.md", page_text(page_name(page), versions[page])
    name, email = rng.choice(AUTHORS)
    message = f"Pushed {path[:-3]}".encode()
    side = 10_000_000 + number
    change = f'M 100644 inline "{path}"\n'.encode() + b"data %d\n%s\n" % (len(data), data)
    yield (b"commit refs/heads/pushed\nmark :%d\n" % side
           + f"author {name} <{email}> {when - 900} +0000\n".encode()
           + f"committer {name} <{email}> {when - 900} +0000\n".encode()
           + b"data %d\n%s\n" % (len(message), message) + b"from :%d\n" % (number - 2)
           + change)
    yield (b"commit refs/heads/main\nmark :%d\n" % (number + 1)
           + f"author {name} <{email}> {when} +0000\n".encode()
           + f"committer cowiki <cowiki@localhost> {when} +0000\n".encode()
           + b"data 5\nMerge\n" + b"merge :%d\n" % side + change)


def build(data_dir: Path, pages: int, commits: int, merges: int = 0) -> dict[str, float]:
    """The data dir with its history; seconds taken by each step."""
    repo = Repository.init(data_dir / "repo.git", Person("cowiki", "cowiki@localhost"))
    started = time.perf_counter()
    run_git("fast-import", "--quiet", git_dir=repo.path,
            input=b"".join(fast_import_stream(pages, commits, merges)), timeout=3600)
    if merges:  # the pushed commits are reachable through main's merges only
        run_git("update-ref", "-d", "refs/heads/pushed", git_dir=repo.path)
    imported = time.perf_counter()
    History(repo.path).maintain()  # what housekeeping does at once after an import
    return {"fast-import s": imported - started, "commit-graph s": time.perf_counter() - imported}


def measure_memory(data_dir: Path, pages: int) -> dict[str, float]:
    """Resident memory of each gunicorn worker after a round of every kind of read."""
    # A serving wiki has its search index. Built by `cowiki reindex`, as people do, not in
    # this process: the churn of a Whoosh build here made the next wiki's views slower.
    subprocess.run([sys.executable, "-m", "cowiki", "--data", str(data_dir), "reindex"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    app = create_app({"data_dir": str(data_dir)})
    services = app.extensions["cowiki"]
    user = services.accounts.by_name("bench")
    assert user is not None
    http = requests.Session()
    http.auth = ("bench", services.accounts.create_token(user, "memory"))
    rng = random.Random(5)
    with running_server(data_dir, 2) as (url, pid):
        def get(path: str) -> None:
            response = http.get(url + path, timeout=120)
            assert response.status_code == 200, (path, response.status_code)
        for _round in range(3):
            for _view in range(100):
                get(f"/p/{page_name(rng.randrange(1, pages))}")
            for path in (f"/p/{HISTORY_PAGE}/history", f"/p/{HISTORY_PAGE}/blame", "/pages",
                         "/changes", "/contributors", "/api/v1/pages"):
                get(path)
            for query in SEARCHES:
                get(f"/search?q={query}")
        sizes = worker_rss_mb(pid)
    return {"worker RSS MB (max)": max(sizes), "workers": float(len(sizes))}


def worker_rss_mb(master: int) -> list[float]:
    """VmRSS of the gunicorn workers: the master's children running the master's command."""
    command = Path(f"/proc/{master}/cmdline").read_bytes()
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    sizes = []
    for child in children:
        try:
            if Path(f"/proc/{child}/cmdline").read_bytes() != command:
                continue  # the live-editing process, not a worker
            status = Path(f"/proc/{child}/status").read_text()
        except OSError:
            continue
        kb = next(int(line.split()[1]) for line in status.splitlines()
                  if line.startswith("VmRSS:"))
        sizes.append(kb / 1024)
    return sizes


def median_ms(runs: int, action: Callable[[int], object],
              prepare: Callable[[int], None] | None = None) -> float:
    """Median wall time of `action(i)` over `runs` runs, after one warm-up."""
    samples = []
    for i in range(-1, runs):
        if prepare is not None:
            prepare(i)
        start = time.perf_counter()
        action(i)
        if i >= 0:
            samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def measure(data_dir: Path, pages: int, runs: int) -> dict[str, float]:
    """Median milliseconds of every operation on the built wiki."""
    Indexer.notify = lambda self, hurry=False: False  # type: ignore[method-assign]  # see the docstring
    app = create_app({"data_dir": str(data_dir), "rate_saves": 10**6})
    services = app.extensions["cowiki"]
    figures: dict[str, float] = {}
    started = time.perf_counter()
    services.pagemeta.catch_up()
    figures["cache build s"] = time.perf_counter() - started
    if services.accounts.by_name("bench") is None:  # a kept wiki has it from a run before
        services.accounts.add_user("bench", "bench@example.org", "facilitator", PASSWORD)
    client = app.test_client()
    with client.session_transaction() as session:
        session["csrf"] = "bench-csrf"
    assert client.post("/login", data={"name": "bench", "password": PASSWORD,
                                       "csrf_token": "bench-csrf"}).status_code == 302
    with client.session_transaction() as session:
        token = str(session.setdefault("csrf", "bench-csrf"))  # a login starts a new session
    rng = random.Random(11)
    history_url = f"/p/{HISTORY_PAGE}"

    def get(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    started = time.perf_counter()
    get(f"{history_url}/blame")
    figures["blame, first time ms"] = (time.perf_counter() - started) * 1000
    figures["view"] = median_ms(runs, lambda i: get(f"/p/{page_name(rng.randrange(1, pages))}"))
    figures["view after a save"] = median_ms(
        runs, lambda i: get(f"/p/{page_name(rng.randrange(1, pages))}"),
        lambda i: someone_saves(services, pages, rng, i))
    figures["history"] = median_ms(runs, lambda i: get(f"{history_url}/history"))
    figures["blame"] = median_ms(runs, lambda i: get(f"{history_url}/blame"))
    figures["recent changes"] = median_ms(runs, lambda i: get("/changes"))
    figures["contributors"] = median_ms(runs, lambda i: get("/contributors"))
    figures["page list"] = median_ms(runs, lambda i: get("/pages"))
    figures["save"] = save_ms(client, services, token, pages, runs, rng)
    plain, path = History(services.repo.path), f"{HISTORY_PAGE}.md"
    head = services.repo.head()
    git_runs = max(3, runs // 3)
    figures["git: last change"] = median_ms(git_runs, lambda i: plain.last_change(
        f"{page_name(rng.randrange(1, pages))}.md"))
    figures["git: history"] = median_ms(git_runs, lambda i: plain.log(path, limit=51))
    figures["git: blame"] = median_ms(git_runs, lambda i: plain.blame(head, path))
    repo = pygit2.Repository(str(services.repo.path))
    figures["git: a commit"] = median_ms(runs, lambda i: raw_commit(
        repo, page_name(rng.randrange(1, pages))))
    figures["disk: a root tree"] = tree_write_ms(repo, data_dir, runs)
    return figures


def tree_write_ms(repo: pygit2.Repository, data_dir: Path, runs: int) -> float:
    """Writing as many new bytes as a save's file of the root tree (zlib-compressed, or
    stored when large: storage/treesplice.py), each time to a new file as git does: the
    floor under the save's growth. On some VMs a page of memory the kernel has not used
    lately costs tens of microseconds."""
    head = repo[repo.references["refs/heads/main"].target]
    assert isinstance(head, pygit2.Commit)
    raw = head.tree.read_raw()
    size = len(raw) if len(raw) >= UNCOMPRESSED_BYTES else len(zlib.compress(raw, 1))
    data = [b""]
    with tempfile.TemporaryDirectory(dir=data_dir, prefix="bench-writes-") as folder:
        def write(i: int) -> None:
            with open(Path(folder) / f"tree-{i + 1}", "wb") as file:
                file.write(data[0])

        return median_ms(runs, write, lambda i: data.__setitem__(0, os.urandom(size)))


def raw_commit(repo: pygit2.Repository, page: str) -> None:
    """The least a save writes: a blob, the root tree with it, a commit, and a ref moved
    (refs/bench/raw, a side ref that the wiki never reads; it starts at main)."""
    ref = "refs/bench/raw"
    parent = repo.references[ref].target if ref in repo.references else \
        repo.references["refs/heads/main"].target
    parent_commit = repo[parent]
    assert isinstance(parent_commit, pygit2.Commit)
    builder = repo.TreeBuilder(parent_commit.tree)
    builder.insert(f"{page}.md", repo.create_blob(f"raw {time.time()}\n".encode()),
                   pygit2.enums.FileMode.BLOB)
    who = pygit2.Signature("Raw", "raw@example.org")
    new = repo.create_commit(None, who, who, "raw\n", builder.write(), [parent])
    repo.references.create(ref, new, force=True)


def someone_saves(services: Any, pages: int, rng: random.Random, run: int) -> None:
    """Another person's save (not timed): the head moves before the next view."""
    name = page_name(rng.randrange(1, pages))
    page = services.pages.get(name)
    services.pages.save(name, page.markdown + f"\nMoved in run {run}.\n", page.revision,
                        Person("Someone Else", "someone@example.org"))


def save_ms(client: Any, services: Any, token: str, pages: int, runs: int,
            rng: random.Random) -> float:
    """A web save of an existing page, its base revision read first (not timed)."""
    form: dict[str, str] = {}

    def prepare(i: int) -> None:
        name = page_name(rng.randrange(1, pages))
        page = services.pages.get(name)
        form.update(name=name, markdown=page.markdown + f"\nSaved in run {i}.\n",
                    base_revision=page.revision, csrf_token=token)

    def save(_i: int) -> None:
        response = client.post(f"/p/{form['name']}/edit", data=form)
        assert response.status_code == 302, (response.status_code, response.text[:3000])

    return median_ms(runs, save, prepare)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="500 and 2,000 pages only")
    parser.add_argument("--runs", type=int, default=15, help="runs per operation (median)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--merges", type=int, default=0, metavar="N",
                        help="N of the edits are merges of pushed commits (one near the head)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="build the wikis in DIR and reuse them when they are there")
    args = parser.parse_args()
    sizes = SIZES[:2] if args.quick else SIZES
    print(f"bench_scale: {os.cpu_count()} CPUs, load average {load()}", flush=True)
    results: dict[int, dict[str, float]] = {}
    for pages, commits in sizes:
        with tempfile.TemporaryDirectory(prefix="cowiki-scale-") as tmp:
            data_dir = (args.keep or Path(tmp)) / f"{pages}-pages" / "data"
            built = (data_dir / "repo.git" / "HEAD").exists()
            figures = {} if built else build(data_dir, pages, commits, args.merges)
            figures |= measure(data_dir, pages, args.runs)
            figures |= measure_memory(data_dir, pages)
        results[pages] = figures
        print(f"\n{pages} pages / {commits} commits (load average {load()}):", flush=True)
        for key, value in figures.items():
            print(f"  {key:<24} {value:10.1f}")
    report = print_growth(results)
    if args.json:
        args.json.write_text(json.dumps({"sizes": {str(k): v for k, v in results.items()},
                                         "growth": report}, indent=1))
    return 0


def print_growth(results: dict[int, dict[str, float]]) -> dict[str, float]:
    """The table of medians per size and the growth from the smallest to the largest."""
    small, large = min(results), max(results)
    print(f"\nmedian ms per operation; growth = {large:,} pages / {small:,} pages "
          f"(target <= {TARGET_GROWTH}x for cowiki's operations)\n")
    sizes = sorted(results)
    print("operation".ljust(20) + "".join(f"{s:>10,}" for s in sizes) + "    growth")
    growth = {}
    for key in OPERATIONS + GIT_ALONE:
        ratio = results[large][key] / results[small][key]
        growth[key] = ratio
        verdict = "" if key in GIT_ALONE else ("  ok" if ratio <= TARGET_GROWTH else "  MISSED")
        print(key.ljust(20) + "".join(f"{results[s][key]:10.1f}" for s in sizes)
              + f"{ratio:9.2f}x{verdict}")
    beyond = [results[size]["save"] - results[size]["disk: a root tree"] for size in sizes]
    print("save - root tree".ljust(20) + "".join(f"{ms:10.1f}" for ms in beyond)
          + f"{beyond[-1] / beyond[0]:9.2f}x  (the save less the disk floor above)")
    rss = results[large]["worker RSS MB (max)"]
    print("worker RSS MB".ljust(20) + "".join(f"{results[s]['worker RSS MB (max)']:10.0f}"
                                              for s in sizes)
          + f"   {'ok' if rss < TARGET_WORKER_MB else 'MISSED'} (target < {TARGET_WORKER_MB} MB)")
    print(f"\nload average at the end: {load()}")
    return growth


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
