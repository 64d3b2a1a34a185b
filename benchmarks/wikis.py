"""Wikis to measure: a seeded workshop wiki, a root of many, and `cowiki serve` running them.

Shared by load.py (one wiki, or `--wikis N` in a root), bench_multi.py and
bench_database.py. A wiki here has participants with personal tokens, pages of
workshop words in one commit, a shared page with a section per participant,
and its search index. Loopback only: nothing here talks to another machine.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_save import NO_PERSON_LIMITS, free_port  # noqa: E402  (this folder is on sys.path)

from cowiki.root import url_prefix, wiki_settings  # noqa: E402
from storage.repository import Person  # noqa: E402
from wiki.config import Settings  # noqa: E402
from wiki.datadir import Services, open_data_dir  # noqa: E402

HOST = "127.0.0.1"
SHARED = "Shared notes"
WORDS = ("klanten", "samenwerking", "onderzoek", "gemeente", "beleid", "bewoners", "aanpak",
         "kennis", "customers", "collaboration", "research", "council", "policy", "residents",
         "approach", "partners", "knowledge", "energy", "education", "quality", "future")


def page_text(rng: random.Random, title: str) -> str:
    """A page of ~2 KB: a heading and a few paragraphs of workshop words."""
    paragraphs = [" ".join(rng.choices(WORDS, k=40)).capitalize() + "." for _ in range(6)]
    return f"# {title}\n\n" + "\n\n".join(paragraphs) + "\n"


def build_wiki(settings: Settings, numbers: Iterable[int], pages: int
               ) -> tuple[list[str], list[str]]:
    """Participants `numbers` with tokens and `pages` pages (one commit) plus the shared
    page, indexed; the wiki `settings` describe, on its database.

    Returns the page names and one 'name:token' credential per participant, in order.
    """
    services: Services = open_data_dir(settings)
    credentials = []
    for number in numbers:
        name = f"participant{number:02d}"
        user = services.accounts.add_user(name, f"{name}@example.org", "participant",
                                          "load-password-1")
        credentials.append(f"{name}:{services.accounts.create_token(user, 'load')}")
    rng = random.Random(9)
    names = [f"chapter-{n % 10}/page-{n:03d}" for n in range(pages)]
    changes: dict[str, bytes | None] = {f"{n}.md": page_text(rng, n).encode() for n in names}
    sections = "".join(f"## {c.split(':')[0]}\n\nNotes.\n\n" for c in credentials)
    shared = f"# {SHARED}\n\n{sections}## Everyone\n\nAll append here.\n"
    changes[f"{SHARED}.md"] = shared.encode()
    services.repo.commit(lambda head: changes, Person("Loader", "loader@example.org"),
                         "Seed the load test")
    services.indexer.rebuild()
    services.db.dispose()  # a root of 50 wikis must not keep 50 idle connections open here
    return names, credentials


def slug(number: int) -> str:
    """The name of wiki `number` in a root: wiki-00, wiki-01, ..."""
    return f"wiki-{number:02d}"


def build_root_wiki(root: Path, number: int, database_url: str, participants: Iterable[int],
                    pages: int) -> tuple[list[str], list[str]]:
    """Wiki `slug(number)` in `root`, as `cowiki --root ROOT serve` finds it: its own data
    dir, and with a PostgreSQL `database_url` its own schema of that database."""
    settings = wiki_settings(root, slug(number), Settings(database_url=database_url))
    return build_wiki(settings, participants, pages)


def wiki_url(base: str, number: int) -> str:
    """Where wiki `number` of a root answers: BASE/w/<slug>."""
    return base + url_prefix(slug(number))


@contextmanager
def running_server(folder: Path, workers: int, threads: int, root: bool = False,
                   env: Mapping[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """`cowiki serve` (gunicorn) on a free loopback port; yields its URL and process id.

    `folder` is one wiki's data dir, or with `root` a folder of wikis (`--root`); `env`
    adds to the server's environment (COWIKI_DATABASE_URL). Its log is FOLDER/server.log.
    """
    port = free_port()
    with open(folder / "server.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cowiki", "--root" if root else "--data", str(folder),
             "serve", "--host", HOST, "--port", str(port), "--workers", str(workers),
             "--threads", str(threads)],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, **NO_PERSON_LIMITS, **(env or {})})
        url = f"http://{HOST}:{port}"
        try:
            deadline = time.monotonic() + 60
            while not healthy(url):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"the server did not come up; see {log.name}")
                time.sleep(0.1)
            yield url, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def healthy(url: str) -> bool:
    try:
        return requests.get(url + "/healthz", timeout=5).status_code == 200
    except requests.RequestException:
        return False
