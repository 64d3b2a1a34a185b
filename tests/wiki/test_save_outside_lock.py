"""A save merges and writes its objects outside the writer lock; only the ref swap waits.

The merge (libgit2's, in process; `git merge-file` for overlapping edits), the
look-up of whose edits were merged and the writing of the blob, trees and
commit take milliseconds; under the lock every other save of the wiki would
wait for them. These tests slow a real merge down
on purpose and watch what other saves do meanwhile, change the page under a
running merge to see it redone, and move main between a save's writes and its
ref swap to see the written blob go on the new head.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygit2
import pytest

from storage import optimistic
from storage.repository import Blobs, Changes, Person, Repository
from wiki import pages
from wiki.config import Settings
from wiki.datadir import open_data_dir
from wiki.pages import PageStore

WriteCommit = Callable[..., "str | None"]

ANNA = Person("Anna", "anna@example.org")
BOB = Person("Bob", "bob@example.org")
CAROL = Person("Carol", "carol@example.org")
TEXT = "# Plan\n\nFirst paragraph.\n\nSecond paragraph.\n\nThird paragraph.\n"
WAIT = 10.0


@pytest.fixture
def wiki(tmp_path: Path) -> PageStore:
    return open_data_dir(Settings.load({"data_dir": str(tmp_path / "data")})).pages


def test_a_slow_merge_does_not_hold_up_a_save_of_another_page(
        wiki: PageStore, monkeypatch: pytest.MonkeyPatch) -> None:
    base = wiki.save("Plan", TEXT, None, ANNA).revision
    wiki.save("Plan", TEXT.replace("First", "Anna's first"), base, ANNA)
    merging, other_saved = threading.Event(), threading.Event()
    waited: list[bool] = []

    real = wiki.repo.merge_blobs

    def slow_merge(base_blob: str, ours: str, theirs: str) -> str | None:
        merging.set()
        waited.append(other_saved.wait(WAIT))  # False: the other save could not get through
        return real(base_blob, ours, theirs)

    monkeypatch.setattr(wiki.repo, "merge_blobs", slow_merge)
    results: list[object] = []
    stale = threading.Thread(target=lambda: results.append(wiki.save(
        "Plan", TEXT.replace("Third", "Bob's third"), base, BOB)))
    stale.start()
    assert merging.wait(WAIT)
    other = wiki.save("Notes", "# Notes\n", None, CAROL)  # would block if the merge held the lock
    other_saved.set()
    stale.join(WAIT * 2)
    assert waited == [True]
    merged = results[0]
    assert isinstance(merged, pages.SaveResult) and merged.merged_with == ("Anna",)
    text = wiki.get("Plan").markdown
    assert "Anna's first" in text and "Bob's third" in text
    assert wiki.get("Notes").revision in (other.revision, merged.revision)
    assert wiki.history.last_change("Notes.md").author == "Carol"  # type: ignore[union-attr]


def test_a_merge_is_redone_when_the_page_changes_while_it_runs(
        wiki: PageStore, monkeypatch: pytest.MonkeyPatch) -> None:
    base = wiki.save("Plan", TEXT, None, ANNA).revision
    wiki.save("Plan", TEXT.replace("First", "Anna's first"), base, ANNA)
    calls: list[str] = []
    real = wiki.repo.merge_blobs

    def merge_then_edit(base_blob: str, ours: str, theirs: str) -> str | None:
        calls.append(wiki.repo.read_blob(theirs).decode())
        result = real(base_blob, ours, theirs)
        if len(calls) == 1:  # Carol saves the page while Bob's merge runs
            page = wiki.get("Plan")
            wiki.save("Plan", page.markdown.replace("Second", "Carol's second"),
                      page.revision, CAROL)
        return result

    monkeypatch.setattr(wiki.repo, "merge_blobs", merge_then_edit)
    saved = wiki.save("Plan", TEXT.replace("Third", "Bob's third"), base, BOB)
    assert len(calls) == 2 and "Carol's second" in calls[1]
    assert saved.merged_with == ("Carol", "Anna")
    text = wiki.get("Plan").markdown
    assert all(edit in text for edit in ("Anna's first", "Carol's second", "Bob's third"))


def test_a_page_that_keeps_changing_is_merged_under_the_lock_in_the_end(
        wiki: PageStore, monkeypatch: pytest.MonkeyPatch) -> None:
    base = wiki.save("Plan", TEXT + "\nCount: 0\n", None, ANNA).revision
    wiki.save("Plan", TEXT.replace("First", "Anna's first") + "\nCount: 0\n", base, ANNA)
    held: list[bool] = []
    real = wiki.repo.merge_blobs

    def merge_then_edit(base_blob: str, ours: str, theirs: str) -> str | None:
        held.append(wiki.repo._lock_depth > 0)
        result = real(base_blob, ours, theirs)
        if len(held) <= optimistic.MAX_REBUILDS:  # someone else saves each time
            page = wiki.get("Plan")
            wiki.save("Plan", page.markdown.replace(f"Count: {len(held) - 1}",
                                                    f"Count: {len(held)}"),
                      page.revision, CAROL)
        return result

    monkeypatch.setattr(wiki.repo, "merge_blobs", merge_then_edit)
    wiki.save("Plan", TEXT.replace("Third", "Bob's third") + "\nCount: 0\n", base, BOB)
    assert held == [False] * optimistic.MAX_REBUILDS + [True]
    text = wiki.get("Plan").markdown
    assert f"Count: {optimistic.MAX_REBUILDS}" in text
    assert "Anna's first" in text and "Bob's third" in text


def recording_writes(monkeypatch: pytest.MonkeyPatch, then: Callable[[], object] | None = None
                     ) -> list[tuple[bool, Changes | Blobs]]:
    """Each commit write as (under the writer lock?, what it was given); `then` runs once,
    right after the first write."""
    writes: list[tuple[bool, Changes | Blobs]] = []
    real: WriteCommit = Repository.write_commit

    def write_commit(repo: Repository, head: str | None, changes: Changes | Blobs,
                     *args: Any, **kwargs: Any) -> str | None:
        writes.append((repo._lock_depth > 0, changes))
        written = real(repo, head, changes, *args, **kwargs)
        if then is not None and len(writes) == 1:
            then()
        return written

    monkeypatch.setattr(Repository, "write_commit", write_commit)
    return writes


def test_a_save_writes_its_objects_before_taking_the_writer_lock(
        wiki: PageStore, monkeypatch: pytest.MonkeyPatch) -> None:
    base = wiki.save("Plan", TEXT, None, ANNA).revision
    writes = recording_writes(monkeypatch)
    saved = wiki.save("Plan", TEXT.replace("First", "Bob's first"), base, BOB)
    assert [held for held, _ in writes] == [False]
    assert all(isinstance(blob, pygit2.Oid) for _, blobs in writes for blob in blobs.values())
    assert wiki.repo.head() == saved.revision
    assert wiki.history.last_change("Plan.md").author == "Bob"  # type: ignore[union-attr]


def test_when_main_moves_after_the_writes_the_same_blob_goes_on_the_new_head(
        wiki: PageStore, monkeypatch: pytest.MonkeyPatch) -> None:
    base = wiki.save("Plan", TEXT, None, ANNA).revision
    carol: list[str] = []
    writes = recording_writes(monkeypatch, then=lambda: carol.append(
        wiki.save("Notes", "# Notes\n", None, CAROL).revision))
    saved = wiki.save("Plan", TEXT.replace("First", "Bob's first"), base, BOB)
    # Bob's writes, then Carol's save of another page (outside the lock), then Bob's
    # blob on Carol's head: only the trees above it and a commit, under the lock.
    assert [held for held, _ in writes] == [False, False, True]
    assert writes[2][1] == writes[0][1]  # the blob written before is not written again
    assert wiki.repo.commit_info(saved.revision).parents[0].id == pygit2.Oid(hex=carol[0])
    assert wiki.get("Notes").markdown == "# Notes\n"
    assert "Bob's first" in wiki.get("Plan").markdown
    assert wiki.history.last_change("Plan.md").author == "Bob"  # type: ignore[union-attr]
    assert wiki.history.last_change("Notes.md").author == "Carol"  # type: ignore[union-attr]
