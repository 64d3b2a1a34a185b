"""Chapter templates live in git as templates.json: an example in the wiki's language to start,
each change a commit by the facilitator, never a page."""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path

import pytest

from storage.repository import Person
from wiki.changes import Origin
from wiki.chapter_templates import TEMPLATES_FILE, fill
from wiki.config import Settings
from wiki.datadir import Services, open_data_dir
from wiki.errors import InvalidInput, PageNotFound, PageTooLarge

FENNA = Person("Fenna", "fenna@example.org")
WEB = Origin(None, "web")


def open_wiki(tmp_path: Path, language: str = "en") -> Services:
    return open_data_dir(Settings.load({"data_dir": str(tmp_path / "data"),
                                        "language": language, "max_page_bytes": 5000}))


def log(services: Services) -> list[str]:
    done = subprocess.run(["git", "--git-dir", str(services.repo.path), "log",
                           "--format=%an|%s"], capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def test_a_dutch_wiki_starts_with_a_dutch_example_and_no_extra_commit(tmp_path: Path) -> None:
    services = open_wiki(tmp_path, "nl")
    (example,) = services.templates.all()
    assert example.name == "Hoofdstuk: probleem, aanpak, resultaat"
    assert example.markdown.startswith("# {title}\n\n## Probleem\n")
    assert "## Aanpak" in example.markdown and "## Resultaat" in example.markdown
    assert log(services) == ["cowiki|Wiki aangemaakt"]


def test_an_english_wiki_starts_with_an_english_example(tmp_path: Path) -> None:
    (example,) = open_wiki(tmp_path).templates.all()
    assert example.name == "Chapter: problem, approach, result"
    assert "## Approach" in example.markdown


def test_each_change_is_a_commit_by_the_facilitator_in_templates_json(tmp_path: Path) -> None:
    services = open_wiki(tmp_path)
    made = services.templates.add("  Interview  ", "# {title}\n\nWie: \n", FENNA, WEB)
    assert made.id == 2 and made.name == "Interview"
    services.templates.update(1, "Chapter", "# {title}\n\n## Parts\n", FENNA, WEB)
    services.templates.delete(2, FENNA, WEB)
    assert [(t.id, t.name) for t in services.templates.all()] == [(1, "Chapter")]
    assert log(services)[:3] == ["Fenna|Remove the template “Interview”",
                                 "Fenna|Change the template “Chapter”",
                                 "Fenna|Add the template “Interview”"]
    stored = json.loads(services.repo.read(services.repo.head(), TEMPLATES_FILE) or b"")
    assert stored == {"templates": [{"id": 1, "name": "Chapter",
                                     "markdown": "# {title}\n\n## Parts\n"}]}


def test_templates_are_no_page(tmp_path: Path) -> None:
    services = open_wiki(tmp_path)
    services.templates.add("Interview", "# {title}\n", FENNA, WEB)
    assert [p.name for p in services.pages.all_pages()] == ["Home"]


def test_numbers_are_not_reused_after_a_delete(tmp_path: Path) -> None:
    services = open_wiki(tmp_path)
    services.templates.add("A", "a\n", FENNA, WEB)
    services.templates.delete(2, FENNA, WEB)
    assert services.templates.add("B", "b\n", FENNA, WEB).id == 2  # highest left is 1
    services.templates.delete(1, FENNA, WEB)
    assert services.templates.add("C", "c\n", FENNA, WEB).id == 3


def test_only_the_three_placeholders_are_filled() -> None:
    text = fill("# {title}\n\n{name}, {date}, {other} and {{title}}\n", "Map/Plan", "Ons plan",
                date(2026, 5, 1))
    assert text == "# Ons plan\n\nMap/Plan, 2026-05-01, {other} and {Ons plan}\n"


def test_a_new_page_starts_from_a_template(tmp_path: Path) -> None:
    services = open_wiki(tmp_path)
    assert services.templates.start(1, "Hoofdstuk 3", "Markt").startswith("# Markt\n\n## Problem")
    with pytest.raises(PageNotFound):
        services.templates.start(9, "Hoofdstuk 3", "Markt")


@pytest.mark.parametrize(("name", "text", "error"), [
    ("", "x", InvalidInput), ("   ", "x", InvalidInput), ("n" * 121, "x", InvalidInput),
    ("Groot", "x" * 5001, PageTooLarge)])
def test_unfit_templates_are_refused_and_nothing_is_written(
        tmp_path: Path, name: str, text: str, error: type[Exception]) -> None:
    services = open_wiki(tmp_path)
    head = services.repo.head()
    with pytest.raises(error):
        services.templates.add(name, text, FENNA, WEB)
    assert services.repo.head() == head


def test_changing_a_template_that_is_gone_is_not_found(tmp_path: Path) -> None:
    services = open_wiki(tmp_path)
    with pytest.raises(PageNotFound):
        services.templates.update(5, "X", "x", FENNA, WEB)
    with pytest.raises(PageNotFound):
        services.templates.delete(5, FENNA, WEB)
