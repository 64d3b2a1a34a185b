"""The two wikis bench_peer.py compares: one corpus, cowiki's data dir, Otter's repository.

Both repositories are built from the same `git fast-import` stream (same seed, same
names, same dates), so their commits are identical; only the layout around them
differs: cowiki keeps a bare repository in its data dir, An Otter Wiki a working
tree whose files it reads. All pages sit at the top level with lower-case file
names, which is what Otter expects (it lower-cases page names unless told not to).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from bench_save import free_port
from bench_scale import fast_import_commit

OTTER_VERSION = "2.26.1"
HISTORY_PAGE = "history-300"
HISTORY_REVISIONS = 300
COMMON_WORD = "workshop"
RARE_WORD = "quetzalcoatlus"
RARE_PAGES = (7, 42, 77)  # all below the quick run's 100 pages
AUTHORS = [(f"Author {i}", f"author{i}@example.org") for i in range(12)]
VOCABULARY = ("the of and to in a is that for it as with on by this be are from or at an which "
              "group paper draft section chapter argument evidence reader question answer method "
              "result figure table source claim review comment note idea proposal summary outline "
              "policy data model context example case study analysis theory practice education "
              "research community network platform open access license version meeting agenda "
              "decision consensus author editor participant facilitator timeline budget risk "
              "goal scope impact measure survey interview finding limitation future work")
WORDS = VOCABULARY.split()


def page_name(number: int) -> str:
    return HISTORY_PAGE if number == 0 else f"page-{number:05d}"


def fixed_line(number: int) -> str:
    """A sentence no edit touches: what a page view must show."""
    return f"Page number {number} of the benchmark corpus."


class Corpus:
    """Markdown pages made of paragraphs; an edit rewrites one paragraph."""

    def __init__(self, pages: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.pages = pages
        self.texts: dict[int, list[str]] = {}

    def sentence(self) -> str:
        words = [self.rng.choice(WORDS) for _ in range(self.rng.randrange(8, 18))]
        if self.rng.random() < 0.3:
            words.insert(self.rng.randrange(len(words)), COMMON_WORD)
        if self.rng.random() < 0.1:
            words.insert(self.rng.randrange(len(words)), f"*{self.rng.choice(WORDS)}*")
        return " ".join(words).capitalize() + "."

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randrange(3, 7)))

    def new_page(self, number: int) -> list[str]:
        link = page_name(self.rng.randrange(1, self.pages))
        see_also = f"See also [{link}]({link})"
        if number in RARE_PAGES:
            see_also += f" and the {RARE_WORD} notes"
        parts = [f"# {page_name(number)}", f"{fixed_line(number)} The {COMMON_WORD} wrote it."]
        for section in range(4):
            parts += [f"## Section {section + 1}", self.paragraph(), self.paragraph()]
        parts += ["- " + self.sentence() for _ in range(3)]
        parts.append(see_also + ".")
        return parts

    def edit(self, number: int) -> bytes:
        """The page's next revision: a new page, or one of its paragraphs rewritten."""
        if number not in self.texts:
            self.texts[number] = self.new_page(number)
        else:
            parts = self.texts[number]
            slots = [i for i, part in enumerate(parts) if part and part[0].isalpha() and i > 1
                     and not part.startswith("See also")]
            parts[self.rng.choice(slots)] = self.paragraph()
        return ("\n\n".join(self.texts[number]) + "\n").encode()


def fast_import_stream(pages: int, commits: int) -> Iterator[bytes]:
    """One commit per new page, then edits of random pages; the history page's
    revisions spread evenly over the whole history."""
    corpus, rng = Corpus(pages), random.Random(11)
    when = 1_700_000_000
    edits = commits - pages
    history_at = {pages + k * edits // HISTORY_REVISIONS for k in range(1, HISTORY_REVISIONS)}
    for number in range(commits):
        when += 600
        if number < pages:
            page = number
        elif number in history_at:
            page = 0
        else:
            page = rng.randrange(1, pages)
        data = corpus.edit(page)
        yield fast_import_commit(number + 1, rng.choice(AUTHORS), when,
                                 f"Edit {page_name(page)}".encode(), f"{page_name(page)}.md", data)


def git(git_dir: Path, *args: str, data: bytes | None = None) -> str:
    done = subprocess.run(["git", "--git-dir", str(git_dir), *args], input=data,
                          capture_output=True, check=True, timeout=3600)
    return done.stdout.decode()


def build_cowiki(data_dir: Path, pages: int, commits: int) -> None:
    """cowiki's data dir: the history imported, then what its housekeeping and a
    running server would have made of it (commit-graph, page cache, search index)."""
    from storage.repository import Person, Repository
    from wiki.config import Settings
    from wiki.datadir import open_data_dir

    repo = Repository.init(data_dir / "repo.git", Person("cowiki", "cowiki@localhost"))
    git(repo.path, "fast-import", "--quiet", data=b"".join(fast_import_stream(pages, commits)))
    services = open_data_dir(Settings(data_dir=data_dir))
    services.history.maintain()
    services.pagemeta.catch_up()
    services.indexer.rebuild()


def build_otter(repo: Path, pages: int, commits: int) -> None:
    """Otter's working tree: the same history, checked out, then `git gc` (what
    Otter's housekeeping page offers an admin; it writes a commit-graph too)."""
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    git(repo / ".git", "fast-import", "--quiet",
        data=b"".join(fast_import_stream(pages, commits)))
    subprocess.run(["git", "-C", str(repo), "reset", "-q", "--hard", "main"], check=True)
    subprocess.run(["git", "-C", str(repo), "gc", "-q"], check=True)


def otter_venv(wanted: Path | None) -> Path:
    """A virtualenv with An Otter Wiki and gunicorn, never the project's own."""
    venv = wanted or Path("/tmp/cowiki-bench-otter-venv")
    if not (venv / "bin" / "gunicorn").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q",
                        f"otterwiki=={OTTER_VERSION}", "gunicorn"], check=True)
    found = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import otterwiki; print(otterwiki.__version__)"],
                           capture_output=True, text=True, check=True).stdout.strip()
    if found != OTTER_VERSION:
        raise SystemExit(f"{venv} has otterwiki {found}, not {OTTER_VERSION}")
    return venv


@contextmanager
def running_otter(venv: Path, home: Path) -> Iterator[tuple[str, int]]:
    """Otter under gunicorn, one sync worker, anonymous reading and writing;
    yields its base URL and process id."""
    settings = home / "settings.cfg"
    settings.write_text(
        f"REPOSITORY = {str(home / 'repo')!r}\n"
        f"SECRET_KEY = {'bench-' * 6!r}\n"
        f"SQLALCHEMY_DATABASE_URI = {'sqlite:///' + str(home / 'otter.db')!r}\n"
        "READ_ACCESS = 'ANONYMOUS'\nWRITE_ACCESS = 'ANONYMOUS'\n"
        "ATTACHMENT_ACCESS = 'ANONYMOUS'\nLOG_LEVEL = 'WARNING'\n")
    port = free_port()
    log = open(home / "server.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [str(venv / "bin" / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}",
              "--timeout", "600", "otterwiki.server:app"], cwd=home, stdout=log,
        stderr=subprocess.STDOUT, env={**os.environ, "OTTERWIKI_SETTINGS": str(settings)})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url + "/-/healthz", time.monotonic() + 120)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def wait_until_healthy(health_url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            if requests.get(health_url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{health_url} did not answer; see server.log beside its repository")


@dataclass
class Revisions:
    """The history page's two newest revisions (a diff a reader opens from its history)."""

    older: str
    newer: str


def history_revisions(git_dir: Path) -> Revisions:
    newest = git(git_dir, "log", "-2", "--format=%H", "main", "--", f"{HISTORY_PAGE}.md").split()
    return Revisions(older=newest[1], newer=newest[0])
