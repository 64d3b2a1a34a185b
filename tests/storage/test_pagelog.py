"""The first-parent log read in process says exactly what `git log --first-parent` says.

A history with every kind of change a wiki sees (new pages, edits, deletes,
renames git finds by content, an attachment, a symlink turning into a file, a
commit of many files, a merge) is read three ways: by `git log`
(`first_parent_log`), in process (`new_commits`) and one commit at a time with
only its known paths (`logged_commit`). All three must agree.
"""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

from storage.gitcmd import run_git
from storage.pagelog import HistoryRewritten, first_parent_log, logged_commit, new_commits
from storage.pathwalk import walk_path
from storage.repository import MAIN_REF, Person, Repository

ANNA = Person("Anna", "anna@example.org")
BOB = Person("Bob", "bob@example.org")


def lines(title: str, count: int, changed: int = -1) -> bytes:
    body = [f"# {title}", ""] + [
        f"Line {n} of {title}{' (changed)' if n == changed else ''}." for n in range(count)]
    return ("\n".join(body) + "\n").encode()


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    return Repository.init(tmp_path / "repo.git", Person("cowiki", "cowiki@localhost"))


def commit(repo: Repository, changes: dict[str, bytes | None], who: Person = ANNA) -> str:
    made = repo.commit(lambda _head: changes, who, f"Change {sorted(changes)}")
    assert made is not None
    return made


def link(repo: Repository, path: str, target: str, who: Person = BOB) -> str:
    """A commit that makes `path` a symlink (a type change git reports as T)."""
    git = repo.git
    head = repo.head()
    assert head is not None
    builder = git.TreeBuilder(git[head].peel(pygit2.Tree))
    builder.insert(path, git.create_blob(target.encode()), pygit2.enums.FileMode.LINK)
    sig = pygit2.Signature(who.name, who.email)
    new = git.create_commit(MAIN_REF, sig, sig, "Link\n", builder.write(), [head])
    return str(new)


def a_varied_history(repo: Repository) -> list[str]:
    made = [commit(repo, {"Home.md": lines("Home", 3), "Plan.md": lines("Plan", 30)})]
    made.append(commit(repo, {"Plan.md": lines("Plan", 30, changed=4)}, BOB))
    made.append(commit(repo, {"files/logo.png": b"\x89PNG\x00\x01binary" * 50}))
    made.append(commit(repo, {"Plan.md": None, "Strategy.md": lines("Plan", 30, changed=5)}))
    made.append(commit(repo, {"Old.md": lines("Old", 2), "Notes/A.md": lines("A", 4),
                              "Notes/B.md": lines("B", 4)}, BOB))
    made.append(commit(repo, {"Old.md": None}))
    made.append(link(repo, "Home.md", "Notes/A.md"))
    made.append(commit(repo, {"Notes/A.md": lines("A", 5), "Home.md": lines("Home", 4)}))
    return made


def test_in_process_log_equals_git_log(repo: Repository) -> None:
    made = a_varied_history(repo)
    head = made[-1]
    by_git = first_parent_log(str(repo.path), head, None)
    assert new_commits(repo, head, None) == by_git
    for since in made[:-1]:
        assert new_commits(repo, head, since) == first_parent_log(str(repo.path), head, since)
    assert {c.status for logged in by_git for c in logged.changes} >= {"A", "M", "D", "R", "T"}


def test_one_commit_with_its_known_paths_equals_git(repo: Repository) -> None:
    made = a_varied_history(repo)
    for logged in first_parent_log(str(repo.path), made[-1], None):
        if any(c.status == "R" for c in logged.changes):
            continue  # a rename is two paths git pairs; a web save never makes one
        assert logged_commit(repo, logged.revision, {c.path for c in logged.changes}) == logged


def test_a_commit_not_on_the_chain_means_history_was_rewritten(repo: Repository) -> None:
    first = commit(repo, {"Plan.md": lines("Plan", 3)})
    commit(repo, {"Plan.md": lines("Plan", 4)})
    other = repo.write_commit(first, {"Plan.md": lines("Other", 4)}, BOB, "Elsewhere")
    assert other is not None
    with pytest.raises(HistoryRewritten):
        new_commits(repo, repo.head() or "", other)


def test_a_merge_is_listed_against_its_first_parent_and_walked_as_git_log_does(
        repo: Repository) -> None:
    base = commit(repo, {"Plan.md": lines("Plan", 10), "Side.md": lines("Side", 3)})
    main = commit(repo, {"Plan.md": lines("Plan", 10, changed=1)})
    side1 = repo.write_commit(base, {"Side.md": lines("Side", 3, changed=0)}, BOB, "Side 1")
    assert side1 is not None
    side2 = repo.write_commit(side1, {"Side.md": lines("Side", 3, changed=2),
                                      "Plan.md": lines("Plan", 10, changed=8)}, BOB, "Side 2")
    assert side2 is not None
    merged = repo.write_commit(main, {"Side.md": lines("Side", 3, changed=2),
                                      "Plan.md": lines("Plan", 11, changed=1)},
                               ANNA, "Merge", merged=side2)
    assert merged is not None
    repo.git.references[MAIN_REF].set_target(merged)
    assert new_commits(repo, merged, None) == first_parent_log(str(repo.path), merged, None)
    chain = {base, main, merged}
    walk = walk_path(repo, merged, "Side.md", lambda rev: rev in chain)
    assert [c.revision for c in walk.shown] == [side2, side1] and walk.resume == base
    walk = walk_path(repo, merged, "Plan.md", lambda rev: rev in chain)
    assert walk.shown[0].revision == merged and walk.shown[0].status == ""  # a version of its own
    for path in ("Side.md", "Plan.md"):
        walk = walk_path(repo, merged, path, lambda rev: rev in chain)
        rest = git_log(repo, walk.resume, path) if walk.resume else []
        assert [c.revision for c in walk.shown] + rest == git_log(repo, merged, path)


def git_log(repo: Repository, rev: str, path: str) -> list[str]:
    return run_git("log", "--format=%H", git_dir=repo.path, revisions=[rev],
                   paths=[path]).text.split()
