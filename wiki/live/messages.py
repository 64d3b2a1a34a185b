"""Commit messages of folded live edits, in the wiki's language.

A fold's commit normally carries one person's edits and the same message as a save
("Update {name}"). When edits were too interleaved to split by person (folding.py's
fallback) the commit says so in plain words and names everyone with the
`Co-authored-by:` trailers git hosts and `git log` readers know.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.repository import Person
from wiki.wikilang import N_, WikiLanguage

__all__ = ["TOGETHER_NOTE", "coauthor_trailers", "live_commit_message"]

TOGETHER_NOTE = N_("Written together live by {names}: these edits were too interleaved to split"
                   " by person.")


def _clean(text: str) -> str:
    """One line without the angle brackets that delimit the address in a trailer."""
    return " ".join(text.replace("<", "").replace(">", "").split())


def coauthor_trailers(people: Sequence[Person]) -> str:
    """`Co-authored-by: Name <email>` lines, one per person, in order, without repeats."""
    lines = dict.fromkeys(f"Co-authored-by: {_clean(p.name)} <{_clean(p.email)}>" for p in people)
    return "\n".join(lines)


def live_commit_message(language: WikiLanguage, page: str, author: Person,
                        coauthors: Sequence[Person] = ()) -> str:
    """The message of one fold commit by `author` (with `coauthors` when merged)."""
    summary = language.commit_message("update", name=page)
    others = [person for person in coauthors if person != author]
    if not others:
        return summary
    names = ", ".join(_clean(person.name) for person in [author, *others])
    note = language.text(TOGETHER_NOTE, names=names)
    return f"{summary}\n\n{note}\n\n{coauthor_trailers(others)}"
