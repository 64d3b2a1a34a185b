"""Recent changes and contributors come from the page-metadata cache after merges, as git says.

Each test lands merges the way a push to `refs/for/main` does (pushed commits
on an older commit, merged on top of the web's saves), with the clocks of
real clones (ahead, behind, equal to the server's), nested and long side
branches, renames, deletes and reverts, `git gc`, and a deleted cache. After
every step the cache's answers are read with git out of reach (its path
points nowhere, so any answer git had to give would be empty) and compared
with the plain git-based `History`, and with `git log` itself.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pygit2
import pytest

from storage.history import History
from storage.repository import MAIN_REF, Person
from tests.pagemeta_support import assert_cache_answers_as_git
from wiki.config import Settings
from wiki.datadir import Services, open_data_dir

ANNA = Person("Anna", "anna@example.org")
BOB = Person("Bob", "Bob@Example.org")
CAROL = Person("Carol", "carol@example.org")
LAPTOP = Person("carol on her laptop", "CAROL@example.org")  # same person, other git name


@pytest.fixture
def services(tmp_path: Path, database_url: str) -> Services:
    made = open_data_dir(Settings.load({"data_dir": str(tmp_path / "data")}))
    made.accounts.add_user("carol", CAROL.email, "participant", "carol-password-1")
    return made


def text(title: str, *lines: str) -> str:
    return "\n".join([f"# {title}", "", *lines]) + "\n"


def commit_at(services: Services, parent: str, changes: dict[str, bytes | None], who: Person,
              when: int, merged: str | None = None, message: str = "Pushed work") -> str:
    """A commit as a clone makes it: author and committer `who`, at `when` by its clock."""
    made = services.repo.write_commit(parent, changes, who, message, merged=merged)
    assert made is not None
    git = services.repo.git
    commit = git[made].peel(pygit2.Commit)
    signature = pygit2.Signature(who.name, who.email, when, 0)
    return str(git.create_commit(None, signature, signature, commit.message, commit.tree_id,
                                 commit.parent_ids))


def land(services: Services, pushed: str, who: Person = CAROL,
         changes: dict[str, bytes | None] | None = None) -> str:
    """Merge `pushed` on top of main as `refs/for/main` does (the pusher authors it)."""
    head = services.repo.head()
    assert head is not None
    merge = services.repo.write_commit(head, changes or {}, who, "Merge pushed work",
                                       merged=pushed)
    assert merge is not None
    services.repo.git.references[MAIN_REF].set_target(merge)
    return merge


def test_pushes_merged_between_web_saves_are_listed_as_git_lists_them(
        services: Services, tmp_path: Path) -> None:
    wiki, now = services.pages, int(time.time())
    wiki.save("Plan", text("Plan", "a"), None, ANNA)
    fork = wiki.save("Notes", text("Notes", "n"), None, BOB).revision
    assert_cache_answers_as_git(services, tmp_path / "nowhere")
    wiki.save("Plan", text("Plan", "a", "web"), wiki.get("Plan").revision, ANNA)
    wiki.save("Other", text("Other"), None, BOB)
    # A clone whose clock runs an hour ahead, then one a day behind.
    ahead = commit_at(services, fork, {"Notes.md": text("Notes", "n", "git").encode()},
                      CAROL, now + 3600)
    ahead = commit_at(services, ahead, {"Idea.md": text("Idea").encode()}, LAPTOP, now + 3700)
    land(services, ahead, changes={"Notes.md": text("Notes", "n", "git").encode(),
                                   "Idea.md": text("Idea").encode()})
    assert_cache_answers_as_git(services, tmp_path / "nowhere")
    wiki.save("Plan", text("Plan", "a", "web", "again"), wiki.get("Plan").revision, BOB)
    behind = commit_at(services, fork, {"Late.md": text("Late").encode()}, CAROL, now - 86400)
    land(services, behind, BOB, {"Late.md": text("Late").encode()})
    wiki.save("Late", text("Late", "web"), wiki.get("Late").revision, ANNA)
    assert_cache_answers_as_git(services, tmp_path / "nowhere")


def test_renames_deletes_reverts_and_equal_clocks_after_merges_match_git(
        services: Services, tmp_path: Path) -> None:
    wiki = services.pages
    first = wiki.save("Plan", text("Plan", "a", "b", "c"), None, ANNA).revision
    fork = wiki.save("Notes", text("Notes", "n", "o", "p"), None, BOB).revision
    same = services.repo.commit_info(fork).commit_time
    wiki.rename("Plan", "Strategy", BOB)
    # Pushed at the very second of the fork: ties go to the commit that waited longest.
    moved = commit_at(services, fork, {"Notes.md": None,
                                       "Archive/Notes.md": text("Notes", "n", "o", "p").encode()},
                      CAROL, same)
    edited = commit_at(services, moved, {"Archive/Notes.md": text("Notes", "n", "o").encode()},
                       CAROL, same)
    land(services, edited, changes={"Notes.md": None,
                                    "Archive/Notes.md": text("Notes", "n", "o").encode()})
    wiki.delete("Archive/Notes", wiki.get("Archive/Notes").revision, ANNA)
    assert_cache_answers_as_git(services, tmp_path / "nowhere")
    wiki.rename("Strategy", "Plan", ANNA)
    wiki.revert("Plan", first, CAROL)
    assert_cache_answers_as_git(services, tmp_path / "nowhere")


def test_a_pushed_branch_that_merged_main_itself_and_a_long_one_match_git(
        services: Services, tmp_path: Path) -> None:
    wiki, now = services.pages, int(time.time())
    fork = wiki.save("Plan", text("Plan", "a"), None, ANNA).revision
    wiki.save("Web", text("Web"), None, BOB)
    web = wiki.save("Web", text("Web", "more"), wiki.get("Web").revision, ANNA).revision
    mine = commit_at(services, fork, {"Mine.md": text("Mine").encode()}, CAROL, now - 50)
    pulled = commit_at(services, mine, {"Web.md": text("Web", "more").encode()}, CAROL,
                       now - 40, merged=web, message="Merge main into my work")
    pulled = commit_at(services, pulled, {"Mine.md": text("Mine", "2").encode()}, CAROL, now - 30)
    land(services, pulled, changes={"Mine.md": text("Mine", "2").encode()})
    assert_cache_answers_as_git(services, tmp_path / "nowhere")
    long = services.repo.head() or ""
    for number in range(25):  # more than are read in process: one `git log --no-walk`
        long = commit_at(services, long, {f"Long-{number % 4}.md": text(
            "Long", str(number)).encode()}, LAPTOP if number % 3 else BOB, now + number)
    wiki.save("Plan", text("Plan", "a", "web"), wiki.get("Plan").revision, BOB)
    land(services, long, ANNA, {f"Long-{n}.md": text("Long", str(n + 21)).encode()
                                for n in range(4)})
    assert_cache_answers_as_git(services, tmp_path / "nowhere")


def test_a_merged_history_with_its_own_root_is_walked_again_whole(
        services: Services, tmp_path: Path) -> None:
    wiki, git = services.pages, services.repo.git
    wiki.save("Plan", text("Plan"), None, ANNA)
    signature = pygit2.Signature(CAROL.name, CAROL.email, int(time.time()) - 10, 0)
    builder = git.TreeBuilder()
    builder.insert("Elsewhere.md", git.create_blob(text("Elsewhere").encode()),
                   pygit2.enums.FileMode.BLOB)
    root = str(git.create_commit(None, signature, signature, "Another start\n",
                                 builder.write(), []))
    land(services, root, changes={"Elsewhere.md": text("Elsewhere").encode()})
    wiki.save("Plan", text("Plan", "after"), wiki.get("Plan").revision, BOB)
    assert_cache_answers_as_git(services, tmp_path / "nowhere")


def test_git_gc_and_a_deleted_cache_give_the_same_lists(services: Services,
                                                        tmp_path: Path) -> None:
    wiki, now = services.pages, int(time.time())
    fork = wiki.save("Plan", text("Plan"), None, ANNA).revision
    wiki.save("Plan", text("Plan", "web"), fork, BOB)
    land(services, commit_at(services, fork, {"Side.md": text("Side").encode()}, CAROL, now + 5),
         changes={"Side.md": text("Side").encode()})
    assert_cache_answers_as_git(services, tmp_path / "nowhere")
    subprocess.run(["git", "--git-dir", str(services.repo.path), "gc", "--quiet",
                    "--prune=now"], check=True)
    assert_cache_answers_as_git(services, tmp_path / "nowhere")
    services.pagemeta.forget()
    plain = History(services.repo.path)
    assert services.pagemeta.log(limit=50) == plain.log(limit=50)  # git answers meanwhile
    assert services.pagemeta.contributions() == plain.contributions()
    assert_cache_answers_as_git(services, tmp_path / "nowhere")
    wiki.save("Side", text("Side", "web"), wiki.get("Side").revision, ANNA)
    assert services.pagemeta._reflected() == wiki.head()  # recorded with the save
    assert_cache_answers_as_git(services, tmp_path / "nowhere")
