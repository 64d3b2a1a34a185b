"""Commit messages of live folds: plain note and Co-authored-by trailers git itself reads."""

from __future__ import annotations

import subprocess

from storage.repository import Person
from wiki.live.messages import coauthor_trailers, live_commit_message
from wiki.wikilang import ENGLISH

ANNA = Person("Anna de Vries", "anna@example.org")
BRAM = Person("Bram Çelik", "bram@example.org")
ZOË = Person("Zoë <x>", "zoe@example.org")


def git_trailers(message: str) -> list[str]:
    parsed = subprocess.run(["git", "interpret-trailers", "--parse"], input=message,
                            capture_output=True, text=True, check=True)
    return parsed.stdout.splitlines()


def test_one_persons_commit_has_the_plain_save_message() -> None:
    assert live_commit_message(ENGLISH, "Plan", ANNA) == "Update Plan"
    assert live_commit_message(ENGLISH, "Plan", ANNA, [ANNA]) == "Update Plan"


def test_a_shared_commit_names_everyone_and_git_reads_the_trailers() -> None:
    message = live_commit_message(ENGLISH, "Plan", ANNA, [BRAM, ZOË, BRAM])
    assert message.splitlines()[0] == "Update Plan"
    assert "Written together live by Anna de Vries, Bram Çelik, Zoë x" in message
    assert git_trailers(message) == ["Co-authored-by: Bram Çelik <bram@example.org>",
                                     "Co-authored-by: Zoë x <zoe@example.org>"]


def test_trailers_are_one_line_each_without_repeats() -> None:
    assert coauthor_trailers([BRAM, Person("Eve\nEvil", "e@example.org"), BRAM]) == (
        "Co-authored-by: Bram Çelik <bram@example.org>\nCo-authored-by: Eve Evil <e@example.org>")
