"""Saves name their base; unchanged pages commit, changed ones merge or conflict."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.repository import Person
from wiki import revisions
from wiki.config import Settings
from wiki.datadir import open_data_dir
from wiki.errors import EditConflict, InvalidPageName, PageExists, PageNotFound, PageTooLarge
from wiki.pages import PageStore

ANNA = Person("Anna", "anna@example.org")
BOB = Person("Bob", "bob@example.org")
CAROL = Person("Carol", "carol@example.org")
TEXT = "# Strategie\n\nEerste alinea.\n\nTweede alinea.\n\nDerde alinea.\n"


@pytest.fixture
def wiki(tmp_path: Path) -> PageStore:
    """The wiki of a fresh data dir, wired as the app and the CLI wire it (its Home removed)."""
    services = open_data_dir(Settings.load({"data_dir": str(tmp_path), "max_page_bytes": 10_000}))
    home = services.pages.get("Home")
    services.pages.delete("Home", home.revision, services.server)
    return services.pages


def test_new_page_is_created_with_title_from_first_heading(wiki: PageStore) -> None:
    result = wiki.save("Strategie", TEXT, None, ANNA)
    assert result.created and result.changed and not result.merged
    page = wiki.get("Strategie")
    assert page.title == "Strategie" and page.markdown == TEXT
    assert page.revision == result.revision


def test_save_on_unchanged_base_is_a_plain_commit(wiki: PageStore) -> None:
    base = wiki.save("Strategie", TEXT, None, ANNA).revision
    result = wiki.save("Strategie", TEXT + "\nMeer.\n", base, BOB)
    assert result.changed and not result.merged and not result.created
    assert wiki.history.last_change("Strategie.md").author == "Bob"  # type: ignore[union-attr]


def test_the_usual_save_reads_no_text_and_the_same_text_changes_nothing(
        wiki: PageStore, monkeypatch: pytest.MonkeyPatch) -> None:
    base = wiki.save("Strategie", TEXT, None, ANNA).revision
    read: list[str] = []
    reader, later = wiki.repo.read_blob, []  # the caches follow later, as after an answer
    monkeypatch.setattr(wiki.repo, "read_blob", lambda blob: read.append(blob) or reader(blob))
    monkeypatch.setattr(wiki.door, "later", later.append)
    edited = wiki.save("Strategie", TEXT + "\nMeer.\n", base, BOB)
    assert edited.changed and read == []  # the page is as Bob read it: blob ids say so
    again = wiki.save("Strategie", TEXT + "\nMeer.\n", edited.revision, BOB)
    assert not again.changed and again.revision == edited.revision == wiki.head()
    # From the older base the same text is a merge that ends where the page already is.
    late = wiki.save("Strategie", TEXT + "\nMeer.\n", base, ANNA)
    assert not late.changed and wiki.head() == edited.revision
    for work in later:
        work()
    assert wiki.get("Strategie").markdown == TEXT + "\nMeer.\n"


def test_stale_edit_on_other_paragraph_is_merged(wiki: PageStore) -> None:
    base = wiki.save("Strategie", TEXT, None, ANNA).revision
    wiki.save("Strategie", TEXT.replace("Eerste", "Allereerste"), base, ANNA)
    result = wiki.save("Strategie", TEXT.replace("Derde", "Laatste"), base, BOB)
    assert result.merged_with == ("Anna",)
    text = wiki.get("Strategie").markdown
    assert "Allereerste alinea." in text and "Laatste alinea." in text


def no_git(*args: object, **kwargs: object) -> None:
    raise AssertionError(f"a git process was started: {args}")


def test_a_clean_merge_runs_no_git_process(wiki: PageStore,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    base = wiki.save("Strategie", TEXT, None, ANNA).revision
    annas = wiki.save("Strategie", TEXT.replace("Eerste", "Allereerste"), base, ANNA).revision
    wiki.save("Strategie", TEXT.replace("Eerste", "Allereerste").replace("Tweede", "2e"), annas,
              CAROL)
    for module in ("storage.gitcmd", "storage.merge", "storage.history"):
        monkeypatch.setattr(f"{module}.run_git", no_git, raising=False)
    result = wiki.save("Strategie", TEXT.replace("Derde", "Laatste"), base, BOB)
    assert result.merged_with == ("Carol", "Anna")
    assert wiki.get("Strategie").markdown == TEXT.replace("Eerste", "Allereerste").replace(
        "Tweede", "2e").replace("Derde", "Laatste")


def test_overlapping_stale_edit_conflicts_and_changes_nothing(wiki: PageStore) -> None:
    base = wiki.save("Strategie", TEXT, None, ANNA).revision
    theirs = wiki.save("Strategie", TEXT.replace("Tweede", "Anna's tweede"), base, ANNA)
    with pytest.raises(EditConflict) as info:
        wiki.save("Strategie", TEXT.replace("Tweede", "Bob's tweede"), base, BOB)
    conflict = info.value
    assert conflict.ours == TEXT.replace("Tweede", "Bob's tweede")
    assert "Anna's tweede" in conflict.theirs
    assert conflict.conflicts[0].ours == "Bob's tweede alinea."
    assert wiki.head() == theirs.revision
    assert "Anna's tweede" in wiki.get("Strategie").markdown


def test_creating_a_page_someone_else_just_created_conflicts(wiki: PageStore) -> None:
    wiki.save("Idee", "# Idee\n\nvan Anna\n", None, ANNA)
    with pytest.raises(EditConflict):
        wiki.save("Idee", "# Idee\n\nvan Bob\n", None, BOB)


def test_names_differing_only_in_case_are_one_page(wiki: PageStore) -> None:
    wiki.save("Strategie", TEXT, None, ANNA)
    with pytest.raises(PageExists):
        wiki.save("strategie", "other\n", None, BOB)
    assert wiki.find("STRATEGIE") == "Strategie"


def test_oversized_page_is_refused(wiki: PageStore) -> None:
    before = wiki.head()
    with pytest.raises(PageTooLarge):
        wiki.save("Big", "x" * 10_001, None, ANNA)
    assert wiki.head() == before


def test_hostile_name_is_refused_before_anything_is_written(wiki: PageStore) -> None:
    before = wiki.head()
    with pytest.raises(InvalidPageName):
        wiki.save("../../etc/passwd", "x", None, ANNA)
    assert wiki.head() == before


def test_text_is_normalised_to_lf_with_final_newline(wiki: PageStore) -> None:
    wiki.save("P", "a\r\nb\x00c", None, ANNA)
    assert wiki.get("P").markdown == "a\nbc\n"


def test_rename_keeps_history_and_text(wiki: PageStore) -> None:
    wiki.save("Oud", TEXT, None, ANNA)
    wiki.rename("Oud", "Hoofdstuk 1/Nieuw", BOB)
    assert wiki.get("Hoofdstuk 1/Nieuw").markdown == TEXT
    with pytest.raises(PageNotFound):
        wiki.get("Oud")
    entries = revisions.history(wiki, "Hoofdstuk 1/Nieuw")
    assert [e.kind for e in entries] == ["renamed", "created"]
    assert entries[0].old_name == "Oud"


def test_rename_onto_an_existing_page_is_refused(wiki: PageStore) -> None:
    wiki.save("A", "a\n", None, ANNA)
    wiki.save("B", "b\n", None, ANNA)
    with pytest.raises(PageExists):
        wiki.rename("A", "b", BOB)


def test_delete_needs_an_unchanged_base(wiki: PageStore) -> None:
    base = wiki.save("P", TEXT, None, ANNA).revision
    newer = wiki.save("P", TEXT + "x\n", base, BOB).revision
    with pytest.raises(EditConflict):
        wiki.delete("P", base, ANNA)
    wiki.delete("P", newer, ANNA)
    with pytest.raises(PageNotFound):
        wiki.get("P")


def test_revert_restores_old_text_as_a_new_commit(wiki: PageStore) -> None:
    first = wiki.save("P", TEXT, None, ANNA).revision
    wiki.save("P", "# Weg\n", first, BOB)
    result = wiki.revert("P", first, ANNA)
    assert result.changed and wiki.get("P").markdown == TEXT
    assert len(revisions.history(wiki, "P")) == 3


def test_deleted_page_can_be_restored_from_history(wiki: PageStore) -> None:
    first = wiki.save("P", TEXT, None, ANNA).revision
    wiki.delete("P", first, BOB)
    wiki.revert("P", first, ANNA)
    assert wiki.get("P").markdown == TEXT


def test_old_revision_of_a_renamed_page_is_readable(wiki: PageStore) -> None:
    first = wiki.save("Oud", TEXT, None, ANNA).revision
    wiki.rename("Oud", "Nieuw", BOB)
    old, new = revisions.texts(wiki, "Nieuw", first, wiki.head() or "")
    assert old == new == TEXT


def test_recent_changes_and_contributors_follow_git(wiki: PageStore) -> None:
    base = wiki.save("A", "a\n", None, ANNA).revision
    wiki.save("A", "a\nb\n", base, BOB)
    wiki.save("B", "b\n", None, BOB)
    changes = revisions.recent_changes(wiki, limit=10)
    assert [(c.author, c.pages[0].name, c.pages[0].kind) for c in changes][:3] == [
        ("Bob", "B", "created"), ("Bob", "A", "edited"), ("Anna", "A", "created")]
    people = {c.name: (c.commits, c.lines_added) for c in revisions.contributors(wiki)}
    assert people["Bob"] == (2, 2) and people["Anna"] == (1, 1)
