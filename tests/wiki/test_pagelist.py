"""The page list moves along with the head and always equals a list built anew.
Real git, real page-metadata cache, temp dirs."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from storage.names import page_name_from_file
from storage.repository import Person
from wiki import pagelist
from wiki.config import Settings
from wiki.datadir import Services, open_data_dir
from wiki.errors import WikiError
from wiki.pagelist import MAX_PATCHED, Listing, PageList, PageSummary
from wiki.pages import PageStore

ANNA = Person("Anna de Vries", "anna@example.org")
NAMES = ["Kievit", "grutto", "Tureluur", "Vogels/Lepelaar", "Vogels/kluut", "Vogels/Zee/Eider",
         "aalscholver", "Zwaluw"]


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return open_data_dir(Settings.load({"data_dir": str(tmp_path / "data")}))


def built_anew(store: PageStore) -> Listing:
    return PageList(store.repo, store._every_page, store._title_of).at(store.repo.head())


def built_from_git(store: PageStore) -> Listing:
    """Every page file of the head and its title read from git, not from the page cache."""
    def every_page(head: str) -> list[PageSummary]:
        return [PageSummary(name, store._title_of(entry.blob, name), entry.blob)
                for entry in store.repo.files(head)
                if (name := page_name_from_file(entry.path)) is not None]

    return PageList(store.repo, every_page, store._title_of).at(store.repo.head())


def assert_as_built_anew(store: PageStore) -> None:
    for fresh in (built_anew(store), built_from_git(store)):
        assert store.all_pages() == fresh.pages
        assert store.by_folded_name() == fresh.by_folded
        assert store.titles() == fresh.titles


def test_a_page_list_moved_along_equals_one_built_anew(services: Services) -> None:
    store, rng = services.pages, random.Random(7)
    for step in range(80):
        name = rng.choice(NAMES)
        existing = store.find(name)
        action = rng.random()
        try:
            if existing is None or action < 0.5:
                base = store.head() if existing else None
                title = f"# {name} {step}\n\n" if rng.random() < 0.7 else ""
                store.save(existing or name, f"{title}Tekst {step}.\n", base, ANNA)
            elif action < 0.7:
                store.delete(existing, store.head() or "", ANNA)
            else:
                store.rename(existing, rng.choice(NAMES) + f" {step % 3}", ANNA)
        except WikiError:
            continue  # a name taken by a rename: refused, nothing changed
        if rng.random() < 0.8:  # sometimes several commits between two looks
            assert_as_built_anew(store)
    assert_as_built_anew(store)


def test_a_large_change_and_a_rewritten_history_build_the_list_anew(
        services: Services, tmp_path: Path) -> None:
    store = services.pages
    store.save("Kievit", "# De kievit\n", None, ANNA)
    first = store.head()
    assert [p.title for p in store.all_pages() if p.name == "Kievit"] == ["De kievit"]
    store.import_files({f"Bulk/Pagina {n}.md": f"# Pagina {n}\n".encode()
                        for n in range(MAX_PATCHED + 1)}, ANNA, "import")
    assert_as_built_anew(store)
    # main moved back to a commit the list never saw (as after a forced push).
    subprocess.run(["git", "--git-dir", str(store.repo.path), "update-ref", "refs/heads/main",
                    str(first)], check=True)
    assert_as_built_anew(store)
    assert len(store.all_pages()) == len(built_anew(store).pages)


def test_the_pages_a_head_changed_come_from_the_page_cache_when_it_has_them(
        services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a save the cache knows the changed pages and their titles: no tree is compared
    (at 10,000 pages that read and parsed a 410 KB tree). Without the cache, git is."""
    store = services.pages
    store.save("Kievit", "# De kievit\n", None, ANNA)
    store.save("Vogels/Grutto", "# De grutto\n", None, ANNA)
    store.all_pages()
    compared: list[str] = []
    real_diff = pagelist.diff_commits
    monkeypatch.setattr(pagelist, "diff_commits",
                        lambda *args: compared.append("diff") or real_diff(*args))
    store.save("Kievit", "# De kieviet\n", store.head(), ANNA)
    store.rename("Vogels/Grutto", "Vogels/Gruttootje", ANNA)
    store.save("Tureluur", "Geen kop.\n", None, ANNA)
    assert_as_built_anew(store)
    assert compared == []
    assert store.titles()["Kievit"] == "De kieviet"
    without_cache = PageList(store.repo, store._every_page, store._title_of,
                             lambda *_args: None)
    without_cache.at(store.head())
    store.delete("Tureluur", store.head() or "", ANNA)
    assert without_cache.at(store.head()) == built_from_git(store)
    assert compared == ["diff"]
