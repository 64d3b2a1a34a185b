"""The page list moves along with the head and always equals a list built anew.
Real git, real page-metadata cache, temp dirs."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from storage.repository import Person
from wiki.config import Settings
from wiki.datadir import Services, open_data_dir
from wiki.errors import WikiError
from wiki.pagelist import MAX_PATCHED, Listing, PageList
from wiki.pages import PageStore

ANNA = Person("Anna de Vries", "anna@example.org")
NAMES = ["Kievit", "grutto", "Tureluur", "Vogels/Lepelaar", "Vogels/kluut", "Vogels/Zee/Eider",
         "aalscholver", "Zwaluw"]


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return open_data_dir(Settings.load({"data_dir": str(tmp_path / "data")}))


def built_anew(store: PageStore) -> Listing:
    return PageList(store.repo, store._every_page, store._title_of).at(store.repo.head())


def assert_as_built_anew(store: PageStore) -> None:
    fresh = built_anew(store)
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
