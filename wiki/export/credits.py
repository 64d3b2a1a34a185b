"""Contributors from git history: commits over the whole history, lines in the final text.

Lines come from `git blame` of every chapter at the exported commit, so the
share says who wrote the text that is actually printed, not who churned most.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from storage.history import History
from storage.names import page_file
from wiki.people import Namer, git_name


@dataclass(frozen=True)
class Credit:
    """One author's share: commits, lines in the final text, and lines per chapter."""

    name: str
    email: str
    commits: int
    lines: int
    share: float
    chapters: tuple[tuple[str, int], ...] = field(default=())


def chapter_lines(history: History, commit: str, page: str) -> dict[str, tuple[str, int]]:
    """Non-blank lines of one page at `commit` per author email: (name, count)."""
    counts: dict[str, tuple[str, int]] = {}
    for line in history.blame(commit, page_file(page)):
        if not line.text.strip():
            continue
        key = line.email.lower() or line.author
        name, count = counts.get(key, (line.author, 0))
        counts[key] = (name, count + 1)
    return counts


def credits(history: History, commit: str, pages: Iterable[str],
            exclude: Iterable[str] = (), names: Namer = git_name) -> list[Credit]:
    """Every author with commits and final-text lines, most lines (then commits) first.

    Args:
        history: the repository's history.
        commit: the exported commit (full hex id).
        pages: the chapter pages in outline order.
        exclude: email addresses to leave out (the server's own identity).
        names: the name shown for an author (wiki.people.display_names), so the
            credits name each person as the rest of the wiki does.
    """
    skip = {e.lower() for e in exclude}
    shown: dict[str, str] = {}
    commits: dict[str, int] = {}
    for c in history.contributions(rev=commit):
        key = c.email.lower() or c.name
        shown[key], commits[key] = names(c.name, c.email), c.commits
    per_chapter: dict[str, list[tuple[str, int]]] = {}
    totals: dict[str, int] = {}
    for page in pages:
        for key, (name, count) in chapter_lines(history, commit, page).items():
            shown.setdefault(key, names(name, key))
            totals[key] = totals.get(key, 0) + count
            per_chapter.setdefault(key, []).append((page, count))
    all_lines = sum(v for k, v in totals.items() if k not in skip) or 1
    result = [
        Credit(shown[k], k, commits.get(k, 0), totals.get(k, 0),
               totals.get(k, 0) / all_lines, tuple(per_chapter.get(k, ())))
        for k in shown if k not in skip
    ]
    return sorted(result, key=lambda c: (-c.lines, -c.commits, c.name.casefold()))
