"""The intermediate document every format is written from.

`build` reads the outline and the chapter pages at one commit, renders and
rewrites each page into a numbered chapter, and collects the credits. The
writers (`compose`, `pdf`, `pandoc`, `bundle`) only turn this into bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from storage.history import History
from storage.names import attachment_file, attachment_type, page_file
from storage.repository import Repository
from wiki.export.credits import Credit, credits
from wiki.export.outline import Outline, existing_pages
from wiki.export.rewrite import rewrite_chapter
from wiki.people import Namer, git_name
from wiki.render import Renderer, page_title

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Chapter:
    """One numbered chapter: the page it comes from and its rewritten HTML."""

    number: int
    name: str
    title: str
    anchor: str
    html: str
    images: tuple[str, ...]


@dataclass(frozen=True)
class Document:
    """A whitepaper at one commit, ready to be written in any format."""

    outline: Outline
    commit: str
    version: str | None
    date: datetime
    chapters: tuple[Chapter, ...]
    credits: tuple[Credit, ...]

    @property
    def images(self) -> tuple[str, ...]:
        """Every attachment the chapters show, once, in order of appearance."""
        return tuple(dict.fromkeys(i for c in self.chapters for i in c.images))

    @property
    def reference(self) -> str:
        """How the paper names its source: the version tag and the short commit."""
        short = self.commit[:10]
        return f"{self.version} ({short})" if self.version else short


def _has_image(repo: Repository, commit: str) -> Callable[[str], bool]:
    def check(name: str) -> bool:
        is_image = attachment_type(name).startswith("image/")
        return is_image and repo.blob_id(commit, attachment_file(name)) is not None

    return check


def build(repo: Repository, history: History, renderer: Renderer, commit: str,
          outline: Outline, version: str | None = None, exclude: tuple[str, ...] = (),
          progress: Progress | None = None, shown: Namer = git_name) -> Document:
    """Build the document for `commit` in outline order.

    Args:
        repo: the repository to read pages and attachments from.
        history: for blame and commit counts in the credits.
        renderer: Markdown to sanitised HTML (wiki.render).
        commit: full hex id of the commit to export.
        outline: title, authors and chapter order.
        version: the version tag the commit was reached by, if any.
        exclude: author emails left out of the credits (the server).
        shown: the name the credits show for an author (wiki.people.display_names).
        progress: called with a fraction in [0, 1] and a short message.
    """
    report = progress or (lambda _f, _m: None)
    names = existing_pages(repo, commit, outline)
    anchors = {name.casefold(): f"ch-{n}" for n, name in enumerate(names, start=1)}
    has_image = _has_image(repo, commit)
    chapters = []
    for number, name in enumerate(names, start=1):
        blob = repo.blob_id(commit, page_file(name))
        assert blob is not None
        text = repo.read_blob(blob).decode("utf-8", errors="replace")
        body, images = rewrite_chapter(renderer.render_blob(blob, text), f"c{number}-",
                                       anchors, has_image)
        title = page_title(text, name.rsplit("/", 1)[-1])
        chapters.append(Chapter(number, name, title, f"ch-{number}", body, images))
        report(0.6 * number / max(1, len(names)), f"chapter {number} of {len(names)}")
    report(0.6, "credits")
    people = credits(history, commit, names, exclude, names=shown)
    when = datetime.fromtimestamp(repo.commit_info(commit).commit_time, UTC)
    return Document(outline, commit, version, when, tuple(chapters), tuple(people))
