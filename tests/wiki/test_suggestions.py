"""Suggested changes: refs beside main, who may decide, credit in git, stale and frozen pages.

Real git (checked with the git binary), real SQLite and PostgreSQL, the real change door.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from wiki.accounts import User
from wiki.config import Settings
from wiki.datadir import Services, open_data_dir
from wiki.errors import EditConflict, Frozen, InvalidInput, PermissionDenied
from wiki.phases import set_frozen

TEXT = "# Plan\n\nWe meet on Monday.\n\nThe budget is small.\n\nWe write the report.\n"


@pytest.fixture
def wiki(tmp_path: Path, database_url: str) -> Services:
    return open_data_dir(Settings.load({"data_dir": str(tmp_path / "data")}))


@pytest.fixture
def people(wiki: Services) -> dict[str, User]:
    add = wiki.accounts.add_user
    return {"author": add("Anna", "anna@example.org", "participant", "anna-pass-123"),
            "suggester": add("Bram", "bram@example.org", "participant", "bram-pass-123"),
            "other": add("Cees", "cees@example.org", "participant", "cees-pass-123"),
            "facilitator": add("Fleur", "fleur@example.org", "facilitator", "fleur-pass-1"),
            "reader": add("Rik", "rik@example.org", "reader", "rik-pass-1234")}


@pytest.fixture
def base(wiki: Services, people: dict[str, User]) -> str:
    return wiki.pages.save("Plan", TEXT, None, people["author"].person).revision


def git(wiki: Services, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(wiki.repo.path), *args], check=True,
                          capture_output=True, text=True).stdout


def test_suggestion_is_a_commit_on_its_own_ref_and_main_is_untouched(
        wiki: Services, people: dict[str, User], base: str) -> None:
    made = wiki.suggestions.propose("Plan", TEXT.replace("Monday", "Tuesday"), base,
                                    people["suggester"], "Tuesday suits more people")
    assert wiki.repo.head() == base
    ref = f"refs/suggestions/{made.id}"
    assert git(wiki, "rev-parse", ref).strip() == made.commit
    assert git(wiki, "log", "-1", "--format=%an <%ae>|%P|%s", ref).strip() == (
        f"Bram <bram@example.org>|{base}|Tuesday suits more people")
    assert "Tuesday" in git(wiki, "show", f"{ref}:Plan.md")
    assert wiki.suggestions.count("Plan") == 1
    assert wiki.pages.get("Plan").markdown == TEXT


def test_accepting_credits_the_suggester_as_author_and_the_accepter_as_committer(
        wiki: Services, people: dict[str, User], base: str) -> None:
    made = wiki.suggestions.propose("Plan", TEXT.replace("small", "enough"), base,
                                    people["suggester"])
    done, saved = wiki.suggestions.accept(made.id, people["author"], "Agreed")
    assert (done.state, done.decided_by, done.reason, done.revision) == (
        "accepted", "Anna", "Agreed", saved.revision)
    assert git(wiki, "log", "-1", "--format=%an <%ae>|%cn <%ce>", "main").strip() == (
        "Bram <bram@example.org>|Anna <anna@example.org>")
    assert "The budget is enough." in wiki.pages.get("Plan").markdown
    assert wiki.suggestions.count("Plan") == 0


def test_accepting_keeps_the_accepters_own_draft(
        wiki: Services, people: dict[str, User], base: str) -> None:
    made = wiki.suggestions.propose("Plan", TEXT.replace("small", "enough"), base,
                                    people["suggester"])
    wiki.drafts.put("Plan", people["author"], TEXT + "\nHalf a thought\n", base)
    wiki.suggestions.accept(made.id, people["author"], "Agreed")
    kept = wiki.drafts.get("Plan", people["author"])
    assert kept is not None and "Half a thought" in kept.markdown


def test_stale_suggestion_on_another_paragraph_merges(
        wiki: Services, people: dict[str, User], base: str) -> None:
    made = wiki.suggestions.propose("Plan", TEXT.replace("Monday", "Tuesday"), base,
                                    people["suggester"])
    wiki.pages.save("Plan", TEXT.replace("the report", "the final report"), base,
                    people["other"].person)
    assert wiki.suggestions.texts(wiki.suggestions.get(made.id)).applies
    done, saved = wiki.suggestions.accept(made.id, people["facilitator"])
    text = wiki.pages.get("Plan").markdown
    assert "Tuesday" in text and "the final report" in text
    assert done.state == "accepted" and saved.merged_with == ("Cees",)


def test_stale_suggestion_on_the_same_words_becomes_a_conflict_to_redo(
        wiki: Services, people: dict[str, User], base: str) -> None:
    made = wiki.suggestions.propose("Plan", TEXT.replace("Monday", "Tuesday"), base,
                                    people["suggester"])
    current = wiki.pages.save("Plan", TEXT.replace("Monday", "Friday"), base,
                              people["other"].person).revision
    with pytest.raises(EditConflict):
        wiki.suggestions.accept(made.id, people["author"])
    assert wiki.suggestions.get(made.id).state == "conflict"
    assert wiki.repo.head() == current
    texts = wiki.suggestions.texts(wiki.suggestions.get(made.id))
    assert not texts.applies and "Tuesday" in texts.redone
    with pytest.raises(PermissionDenied):  # only the suggester redoes it
        wiki.suggestions.redo(made.id, people["author"], texts.redone, current)
    redone = wiki.suggestions.redo(made.id, people["suggester"], texts.redone, current)
    assert (redone.state, redone.base) == ("open", current)
    wiki.suggestions.accept(made.id, people["author"])
    assert "Tuesday" in wiki.pages.get("Plan").markdown


def test_reject_needs_a_reason_and_leaves_the_page_alone(
        wiki: Services, people: dict[str, User], base: str) -> None:
    made = wiki.suggestions.propose("Plan", TEXT + "\nMore.\n", base, people["suggester"])
    with pytest.raises(InvalidInput):
        wiki.suggestions.reject(made.id, people["author"], "  ")
    done = wiki.suggestions.reject(made.id, people["author"], "Out of scope")
    assert (done.state, done.reason, done.decided_by) == ("rejected", "Out of scope", "Anna")
    assert wiki.repo.head() == base
    with pytest.raises(InvalidInput):  # decided once
        wiki.suggestions.accept(made.id, people["author"])


def test_only_recent_authors_or_a_facilitator_decide_and_never_the_suggester_alone(
        wiki: Services, people: dict[str, User], base: str) -> None:
    # Bram wrote part of the page too: still, his own suggestion is not his to accept.
    later = wiki.pages.save("Plan", TEXT + "\nBram was here.\n", base,
                            people["suggester"].person).revision
    made = wiki.suggestions.propose("Plan", TEXT, later, people["suggester"])
    found = wiki.suggestions.get(made.id)
    assert wiki.suggestions.recent_authors("Plan") == {people["author"].id,
                                                      people["suggester"].id}
    for who in ("suggester", "other", "reader"):
        assert not wiki.suggestions.may_decide(found, people[who])
        with pytest.raises(PermissionDenied):
            wiki.suggestions.reject(made.id, people[who], "no")
    assert wiki.suggestions.may_decide(found, people["author"])
    assert wiki.suggestions.may_decide(found, people["facilitator"])


def test_readers_cannot_suggest_and_nothing_is_stored(
        wiki: Services, people: dict[str, User], base: str) -> None:
    with pytest.raises(PermissionDenied):
        wiki.suggestions.propose("Plan", TEXT + "x\n", base, people["reader"])
    assert wiki.suggestions.for_page("Plan", undecided_only=False) == []
    assert git(wiki, "for-each-ref", "refs/suggestions/") == ""


def test_frozen_page_takes_no_suggestions(wiki: Services, people: dict[str, User],
                                          base: str) -> None:
    set_frozen(wiki.db, "Plan", True, people["facilitator"].id)
    with pytest.raises(Frozen):
        wiki.suggestions.propose("Plan", TEXT + "x\n", base, people["suggester"])
    assert git(wiki, "for-each-ref", "refs/suggestions/") == ""


def test_a_suggestion_that_changes_nothing_is_refused(wiki: Services, people: dict[str, User],
                                                      base: str) -> None:
    with pytest.raises(InvalidInput):
        wiki.suggestions.propose("Plan", TEXT.replace("\n", "\r\n"), base, people["suggester"])


def test_suggestion_opens_a_discussion_and_notifies_recent_authors(
        wiki: Services, people: dict[str, User], base: str) -> None:
    made = wiki.suggestions.propose("Plan", TEXT + "\nÉén idee 🎉\n", base, people["suggester"],
                                    "Een idee", link=lambda s: f"/p/Plan/suggestions/{s.id}")
    thread = wiki.comments.get(made.comment_id or 0)
    assert thread.page == "Plan" and thread.author == "Bram" and "Een idee" in thread.body
    assert f"/p/Plan/suggestions/{made.id}" in thread.html
    told = wiki.notifications.unread_count(people["author"].id)
    assert told >= 1
    assert wiki.notifications.unread_count(people["suggester"].id) == 0
    wiki.suggestions.reject(made.id, people["author"], "Later")
    assert wiki.notifications.unread_count(people["suggester"].id) == 1


def test_audit_names_both_the_suggester_and_the_accepter(
        wiki: Services, people: dict[str, User], base: str,
        caplog: pytest.LogCaptureFixture) -> None:
    made = wiki.suggestions.propose("Plan", TEXT + "x\n", base, people["suggester"])
    with caplog.at_level("INFO", logger="cowiki.audit"):
        wiki.suggestions.accept(made.id, people["facilitator"])
    accepted = [r for r in caplog.records if r.name == "cowiki.audit.suggestion"]
    fields = accepted[-1].audit_fields  # type: ignore[attr-defined]
    assert (fields["user"], fields["suggester"], fields["action"]) == (
        "Fleur", "Bram", "accepted")
    save = [r for r in caplog.records if r.name == "cowiki.audit.save"][-1]
    assert save.audit_fields["via"] == "suggestion"  # type: ignore[attr-defined]
    assert save.audit_fields["account"] == people["facilitator"].id  # type: ignore[attr-defined]


def test_suggestion_follows_a_renamed_page_and_is_accepted_there(
        wiki: Services, people: dict[str, User], base: str) -> None:
    made = wiki.suggestions.propose("Plan", TEXT.replace("Monday", "Tuesday"), base,
                                    people["suggester"])
    wiki.pages.rename("Plan", "Chapter/Plan", people["author"].person)
    assert wiki.suggestions.get(made.id).page == "Chapter/Plan"
    wiki.suggestions.accept(made.id, people["author"])
    assert "Tuesday" in wiki.pages.get("Chapter/Plan").markdown
    assert wiki.pages.find("Plan") is None


def test_deciders_at_once_put_the_suggestion_in_the_page_once(
        wiki: Services, people: dict[str, User], base: str) -> None:
    made = wiki.suggestions.propose("Plan", TEXT.replace("small", "enough"), base,
                                    people["suggester"])
    deciders = [people["author"], people["facilitator"], people["author"], people["facilitator"]]
    start, outcomes = threading.Barrier(len(deciders)), []

    def decide(user: User, accept: bool) -> None:
        start.wait()
        try:
            if accept:
                wiki.suggestions.accept(made.id, user, "Agreed")
            else:
                wiki.suggestions.reject(made.id, user, "No")
            outcomes.append("accepted" if accept else "rejected")
        except InvalidInput:
            outcomes.append("refused")

    threads = [threading.Thread(target=decide, args=(user, i != 3))
               for i, user in enumerate(deciders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    [decided] = [o for o in outcomes if o != "refused"]
    assert sorted(outcomes) == sorted([decided] + ["refused"] * 3)
    assert wiki.suggestions.get(made.id).state == decided
    new_commits = git(wiki, "rev-list", f"{base}..main").split()
    assert len(new_commits) == (1 if decided == "accepted" else 0)


def test_an_accept_the_freeze_refuses_leaves_the_suggestion_waiting(
        wiki: Services, people: dict[str, User], base: str) -> None:
    made = wiki.suggestions.propose("Plan", TEXT.replace("small", "enough"), base,
                                    people["suggester"])
    set_frozen(wiki.db, "Plan", True, people["facilitator"].id)
    with pytest.raises(Frozen):
        wiki.suggestions.accept(made.id, people["author"], "Agreed")
    waiting = wiki.suggestions.get(made.id)
    assert (waiting.state, waiting.decided_by, waiting.decided) == ("open", "", None)
    set_frozen(wiki.db, "Plan", False, people["facilitator"].id)
    assert wiki.suggestions.accept(made.id, people["author"])[0].state == "accepted"
