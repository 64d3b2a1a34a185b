"""The page-metadata cache answers exactly what git answers, after every kind of change.

Each test changes the wiki (web saves, renames, deletes, reverts, commits made
outside the app as a push would, a merge, `git gc`, a deleted cache, rewritten
history) and then compares every cached answer with git's own: the plain
`History` (git log, git blame) and `git log`/`git blame` run here.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pygit2
import pytest

from storage.history import History
from storage.repository import MAIN_REF, Person
from wiki.config import Settings
from wiki.datadir import Services, open_data_dir
from wiki.pages import PageStore

ANNA = Person("Anna", "anna@example.org")
BOB = Person("Bob", "Bob@Example.org")
CAROL = Person("Carol", "carol@example.org")


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return open_data_dir(Settings.load({"data_dir": str(tmp_path / "data")}))


def git(services: Services, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(services.repo.path), *args], check=True,
                          capture_output=True, text=True).stdout


def text(title: str, *lines: str) -> str:
    return "\n".join([f"# {title}", "", *lines]) + "\n"


def page_files(services: Services) -> set[str]:
    """Every .md path that ever existed in the history."""
    out = git(services, "log", "--format=", "--name-only", "--all")
    return {line for line in out.splitlines() if line.endswith(".md")}


def assert_same_as_git(services: Services, cached: bool = True) -> None:
    """Every cached answer equals git's (and, when `cached`, came from an up-to-date cache)."""
    meta, plain = services.pagemeta, History(services.repo.path)
    head = services.repo.head()
    assert head is not None
    if cached:
        assert meta._fresh() == head
    for path in sorted(page_files(services)):
        assert meta.last_change(path) == plain.last_change(path), path
        last = meta.last_change(path)
        raw = git(services, "log", "-1", "--format=%H", "main", "--", path).strip()
        assert (last.revision if last else "") == raw, path
        for limit, skip in ((100, 0), (2, 1), (1, 0)):
            assert meta.log(path, limit, skip) == plain.log(path, limit, skip), path
        if services.repo.blob_id(head, path) is not None:
            assert meta.blame(head, path) == plain.blame(head, path), path
            assert meta.blame(head, path) == plain.blame(head, path), path  # from the cache
            blamed = git(services, "blame", "--porcelain", head, "--", path)
            assert {b.revision for b in meta.blame(head, path)} == {
                line.split()[0] for line in blamed.splitlines()
                if line[:1] not in ("", "\t") and len(line.split()[0]) == 40}
    for limit, skip in ((50, 0), (3, 2)):
        assert meta.log(limit=limit, skip=skip) == plain.log(limit=limit, skip=skip)
    for email in ("bob@example.org", "anna@example.org"):
        assert meta.log(author_email=email) == plain.log(author_email=email)
    assert meta.contributions() == plain.contributions()
    titles = meta.page_titles()
    assert titles is not None
    from_git = PageStore(services.repo, plain, services.pages.max_page_bytes)  # reads blobs
    assert {n: t for n, (t, _blob) in titles.items()} == {
        p.name: p.title for p in from_git.all_pages()}
    assert services.pages.all_pages() == from_git.all_pages()


def test_web_saves_renames_deletes_and_reverts_match_git(services: Services) -> None:
    wiki = services.pages
    first = wiki.save("Plan", text("Plan", "one"), None, ANNA).revision
    wiki.save("Plan", text("Plan", "one", "two"), first, BOB)
    wiki.save("Notes/Idea", text("Idea"), None, CAROL)
    wiki.rename("Plan", "Strategy", BOB)
    wiki.save("Strategy", text("Strategy!", "one", "two", "three"),
              wiki.get("Strategy").revision, ANNA)
    wiki.rename("Strategy", "Archive/Strategy", CAROL)
    wiki.delete("Notes/Idea", wiki.get("Notes/Idea").revision, ANNA)
    wiki.revert("Archive/Strategy", first, BOB)
    assert services.pagemeta.catch_up() and services.pagemeta._reflected() == wiki.head()
    history = services.pagemeta.log("Archive/Strategy.md")
    assert [e.changes[0].status for e in history] == ["M", "R", "M", "R", "M", "A"]
    assert_same_as_git(services)


def test_a_page_deleted_and_created_again_keeps_its_whole_history(services: Services) -> None:
    wiki = services.pages
    wiki.save("Plan", text("Plan"), None, ANNA)
    wiki.delete("Plan", wiki.get("Plan").revision, BOB)
    wiki.save("Plan", text("Plan again"), None, CAROL)
    assert len(services.pagemeta.log("Plan.md")) == 3
    assert_same_as_git(services)


def commit_outside(services: Services, changes: dict[str, bytes | None], who: Person,
                   message: str = "Pushed") -> str:
    """A commit on main made without the change door, as a git push makes it."""
    made = services.repo.commit(lambda _head: changes, who, message)
    assert made is not None
    return made


def test_commits_made_outside_the_app_are_caught_up_on_read(services: Services) -> None:
    services.pages.save("Plan", text("Plan", "a"), None, ANNA)
    commit_outside(services, {"Plan.md": text("Plan", "a", "b").encode()}, BOB)
    commit_outside(services, {"Plan.md": None, "Moved.md": text("Plan", "a", "b").encode(),
                              "files/x.png": b"\x89PNG"}, CAROL, "Move it\n\nwith a body")
    # A rename git finds by similarity only (the text changed a little on the way).
    commit_outside(services, {"Moved.md": None,
                              "Again.md": text("Plan", "a", "b", "c").encode()}, ANNA)
    last = services.pagemeta.last_change("Again.md")
    assert last is not None and last.author == "Anna"
    assert services.pagemeta._reflected() == services.repo.head()
    assert [e.author for e in services.pagemeta.log("Again.md")] == [
        "Anna", "Carol", "Bob", "Anna"]
    assert_same_as_git(services)


def test_a_merge_pushed_from_a_clone_leaves_its_pages_to_git(services: Services) -> None:
    wiki = services.pages
    base = wiki.save("Plan", text("Plan", "a"), None, ANNA).revision
    wiki.save("Other", text("Other"), None, ANNA)
    web = wiki.save("Plan", text("Plan", "a", "web"), wiki.get("Plan").revision, BOB).revision
    repo = pygit2.Repository(str(services.repo.path))
    sig = pygit2.Signature(CAROL.name, CAROL.email)
    side_tree = repo.TreeBuilder(repo[base].tree)
    side_tree.insert("Side.md", repo.create_blob(text("Side").encode()),
                     pygit2.enums.FileMode.BLOB)
    side = repo.create_commit(None, sig, sig, "Side work\n", side_tree.write(), [base])
    merged = repo.TreeBuilder(repo[web].tree)
    merged.insert("Side.md", repo.create_blob(text("Side").encode()),
                  pygit2.enums.FileMode.BLOB)
    merge = repo.create_commit(None, sig, sig, "Merge\n", merged.write(), [web, side])
    repo.references[MAIN_REF].set_target(merge)
    wiki.save("Plan", text("Plan", "a", "web", "after"), wiki.get("Plan").revision, ANNA)
    assert_same_as_git(services)


def test_git_gc_and_a_deleted_cache_change_no_answer(services: Services) -> None:
    wiki = services.pages
    wiki.save("Plan", text("Plan"), None, ANNA)
    wiki.rename("Plan", "Strategy", BOB)
    git(services, "gc", "--quiet", "--prune=now")
    assert_same_as_git(services)
    services.pagemeta.forget()
    assert_same_as_git(services, cached=False)  # git answers while the cache is rebuilt
    assert services.pagemeta.catch_up()
    assert services.pagemeta._reflected() == wiki.head()
    assert_same_as_git(services)


def test_a_damaged_cache_is_rebuilt_from_git(services: Services) -> None:
    services.pages.save("Plan", text("Plan"), None, ANNA)
    services.pagemeta.db_path.write_bytes(b"not a database" * 100)
    for suffix in ("-wal", "-shm"):
        Path(f"{services.pagemeta.db_path}{suffix}").unlink(missing_ok=True)
    assert services.pagemeta.last_change("Plan.md") == History(
        services.repo.path).last_change("Plan.md")
    services.pagemeta.catch_up()
    assert_same_as_git(services)


def test_rewritten_history_rebuilds_the_cache(services: Services) -> None:
    wiki = services.pages
    kept = wiki.save("Plan", text("Plan"), None, ANNA).revision
    wiki.save("Plan", text("Plan", "gone"), kept, BOB)
    assert services.pagemeta.catch_up()
    git(services, "update-ref", MAIN_REF, kept)  # a force push back in time
    commit_outside(services, {"Plan.md": text("Plan", "instead").encode()}, CAROL)
    assert_same_as_git(services)
    assert services.pagemeta._reflected() == wiki.head()


def test_old_revisions_answer_as_git_does_at_that_revision(services: Services) -> None:
    wiki = services.pages
    first = wiki.save("Plan", text("Plan", "a"), None, ANNA).revision
    second = wiki.save("Plan", text("Plan", "a", "b"), first, BOB).revision
    wiki.save("Plan", text("Plan", "a", "b", "c"), second, CAROL)
    plain = History(services.repo.path)
    for rev in (first, second):
        assert services.pagemeta.last_change("Plan.md", rev) == plain.last_change("Plan.md", rev)
        assert services.pagemeta.log("Plan.md", rev=rev) == plain.log("Plan.md", rev=rev)
        assert services.pagemeta.blame(rev, "Plan.md") == plain.blame(rev, "Plan.md")


def test_a_web_save_is_recorded_at_once_without_a_catch_up(services: Services) -> None:
    wiki = services.pages
    wiki.save("Plan", text("Plan", "a"), None, ANNA)
    services.pagemeta._await_background_catch_up()
    for line in ("b", "c"):
        saved = wiki.save("Plan", text("Plan", "a", line), wiki.get("Plan").revision, BOB)
        assert services.pagemeta._reflected() == saved.revision == wiki.head()
    assert_same_as_git(services)


def test_commits_made_outside_are_read_in_process(services: Services, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    services.pages.save("Plan", text("Plan", "a"), None, ANNA)
    assert services.pagemeta.catch_up()
    commit_outside(services, {"Plan.md": text("Plan", "a", "b").encode()}, BOB)
    commit_outside(services, {"Notes.md": text("Notes").encode(),
                              "files/x.png": b"\x89PNG\x00"}, CAROL)
    monkeypatch.setenv("PATH", str(tmp_path))  # no git program to run
    assert services.pagemeta.catch_up()
    answers = [services.pagemeta.last_change("Plan.md"), services.pagemeta.log("Notes.md")]
    monkeypatch.undo()
    plain = History(services.repo.path)
    assert answers == [plain.last_change("Plan.md"), plain.log("Notes.md")]
    assert_same_as_git(services)


def side_commit(services: Services, parent: str, changes: dict[str, bytes | None],
                who: Person = CAROL, merged: str | None = None) -> str:
    made = services.repo.write_commit(parent, changes, who, "Side work", merged=merged)
    assert made is not None
    return made


def land(services: Services, merge: str) -> None:
    services.repo.git.references[MAIN_REF].set_target(merge)


def test_pages_touched_by_merges_are_answered_by_the_cache(services: Services,
                                                           tmp_path: Path) -> None:
    wiki = services.pages
    base = wiki.save("Plan", text("Plan", "a", "b", "c"), None, ANNA).revision
    wiki.save("Side", text("Side", "x"), None, ANNA)
    fork = wiki.head()
    assert fork is not None
    wiki.save("Plan", text("Plan", "a!", "b", "c"), wiki.get("Plan").revision, BOB)
    one = side_commit(services, fork, {"Side.md": text("Side", "y").encode()})
    two = side_commit(services, one, {"Plan.md": text("Plan", "a", "b", "c!").encode(),
                                      "New.md": text("New").encode()}, BOB)
    head = wiki.head()
    assert head is not None
    land(services, services.repo.write_commit(head, {
        "Side.md": text("Side", "y").encode(), "New.md": text("New").encode(),
        "Plan.md": text("Plan", "a!", "b", "c!").encode()}, ANNA, "Merge", merged=two) or "")
    wiki.save("Side", text("Side", "y", "z"), wiki.get("Side").revision, ANNA)
    again = side_commit(services, wiki.head() or "", {
        "Plan.md": text("Plan", "a!", "b!", "c!").encode()})
    land(services, services.repo.write_commit(wiki.head(), {}, BOB, "Merge again",
                                              merged=again) or "")
    land(services, side_commit(services, wiki.head() or "", {
        "Other.md": text("Other").encode()}, ANNA,
        merged=side_commit(services, base, {"Other.md": text("Other").encode()})))
    wiki.save("Plan", text("Plan", "a!", "b!", "c!", "d"), wiki.get("Plan").revision, CAROL)
    meta, plain = services.pagemeta, History(services.repo.path)
    assert meta.catch_up()
    paths = ("Plan.md", "Side.md", "New.md", "Other.md")
    blames = {path: meta._blame_revision(MAIN_REF, path) for path in paths}
    meta.path = tmp_path / "no-repository"  # whatever the cache cannot answer now fails
    answers = [(meta.last_change(p), meta.log(p), meta.log(p, 2, 1)) for p in paths]
    meta.path = services.repo.path
    assert answers == [(plain.last_change(p), plain.log(p), plain.log(p, 2, 1)) for p in paths]
    assert blames == {p: plain.last_change(p).revision for p in paths}  # type: ignore[union-attr]
    assert len(plain.log("Plan.md")) > 4 and len(plain.log("Side.md")) >= 3
    assert meta._conn().execute("SELECT count(*) FROM walked").fetchone()[0] >= 6
    assert_same_as_git(services)
