"""The workshop around the text, in the domain: invites, comments, reactions, presence,
drafts and phases, on a real data directory (git + SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.repository import Person
from wiki.accounts import User
from wiki.comments import Comments
from wiki.config import Settings
from wiki.datadir import Services, open_data_dir
from wiki.drafts import Drafts
from wiki.errors import Frozen, InvalidInput, PermissionDenied
from wiki.invites import InviteInvalid, Invites
from wiki.phases import frozen_scopes, is_frozen, set_frozen
from wiki.presence import EXPIRES, Presence
from wiki.reactions import Reactions, comment_target, page_target
from wiki.workshop import rank_pages


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return open_data_dir(Settings.load({"data_dir": str(tmp_path / "data")}))


@pytest.fixture
def people(services: Services) -> dict[str, User]:
    return {role: services.accounts.add_user(role.title(), f"{role}@example.org", role,
                                             "password-123")
            for role in ("reader", "participant", "facilitator")}


@pytest.fixture
def comments(services: Services) -> Comments:
    return Comments(services.db, services.renderer)


def test_invite_admits_as_many_people_as_it_has_uses(services: Services,
                                                      people: dict[str, User]) -> None:
    invites = Invites(services.accounts)
    invite = invites.create(people["facilitator"], "participant", 7, 2)
    anna = invites.register(invite.code, "Anna", "anna@example.org", "anna-pass-1")
    invites.register(invite.code, "Bert", "bert@example.org", "bert-pass-1")
    assert anna.role == "participant"
    with pytest.raises(InviteInvalid):
        invites.register(invite.code, "Cees", "cees@example.org", "cees-pass-1")


def test_refused_registration_gives_the_use_back(services: Services,
                                                 people: dict[str, User]) -> None:
    invites = Invites(services.accounts)
    invite = invites.create(people["facilitator"], "reader", 1, 1)
    with pytest.raises(InvalidInput):
        invites.register(invite.code, "Participant", "other@example.org", "pass-word-1")
    assert invites.register(invite.code, "Dirk", "dirk@example.org", "pass-word-1").role == "reader"


def test_revoked_or_expired_invites_admit_nobody(services: Services,
                                                 people: dict[str, User]) -> None:
    invites = Invites(services.accounts)
    invite = invites.create(people["facilitator"], "participant", 1, 5)
    invites.revoke(invite.code)
    with pytest.raises(InviteInvalid):
        invites.usable(invite.code)
    assert not invite.usable(now=invite.expires + 1)
    with pytest.raises(InvalidInput):
        invites.create(people["facilitator"], "admin", 1, 1)


def test_deactivated_people_cannot_log_in_or_use_tokens(services: Services,
                                                        people: dict[str, User]) -> None:
    accounts, user = services.accounts, people["participant"]
    token = accounts.create_token(user)
    accounts.set_active(user, False)
    assert accounts.authenticate("Participant", "password-123") is None
    assert accounts.user_for_token("Participant", token) is None
    accounts.set_active(user, True)
    assert accounts.authenticate("Participant", "password-123") is not None


def test_comment_markdown_is_rendered_sanitised(comments: Comments,
                                                people: dict[str, User]) -> None:
    made = comments.add("Home", people["participant"],
                        "Ik **ben het eens** <script>alert(1)</script> [x](javascript:alert(2))")
    assert "<strong>ben het eens</strong>" in made.html
    assert "<script" not in made.html and "javascript:" not in made.html


def test_replies_to_a_reply_join_the_top_level_thread(comments: Comments,
                                                      people: dict[str, User]) -> None:
    top = comments.add("Home", people["participant"], "Eerste")
    reply = comments.add("Home", people["facilitator"], "Antwoord", parent=top.id)
    deeper = comments.add("Home", people["participant"], "Nog een", parent=reply.id)
    assert deeper.parent == top.id
    [thread] = comments.for_page("Home", people["reader"])
    assert [r.id for r in thread.replies] == [reply.id, deeper.id]
    assert comments.count("Home") == 3


def test_only_the_author_edits_and_a_facilitator_may_delete(comments: Comments,
                                                            people: dict[str, User]) -> None:
    made = comments.add("Home", people["participant"], "Typo hier")
    with pytest.raises(PermissionDenied):
        comments.edit(made.id, people["facilitator"], "Overgenomen")
    assert comments.edit(made.id, people["participant"], "Typo weg").edited is not None
    other = comments.add("Home", people["facilitator"], "Van mij")
    with pytest.raises(PermissionDenied):
        comments.delete(other.id, people["participant"])
    comments.delete(made.id, people["facilitator"])
    assert comments.for_page("Home", people["participant"])[0].id == other.id


def test_hidden_comments_are_visible_to_facilitators_only(comments: Comments,
                                                          people: dict[str, User]) -> None:
    made = comments.add("Home", people["participant"], "Koop mijn boek!")
    with pytest.raises(PermissionDenied):
        comments.hide(made.id, people["participant"], "nee")
    comments.hide(made.id, people["facilitator"], "zelfpromotie")
    assert comments.for_page("Home", people["participant"]) == []
    [shown] = comments.for_page("Home", people["facilitator"])
    assert shown.hidden and shown.hidden_reason == "zelfpromotie"
    assert comments.count("Home", people["participant"]) == 0
    comments.unhide(made.id, people["facilitator"])
    assert comments.count("Home", people["participant"]) == 1


def test_hiding_a_comment_keeps_other_peoples_replies(comments: Comments,
                                                      people: dict[str, User]) -> None:
    made = comments.add("Home", people["facilitator"], "Koop mijn boek!")
    comments.add("Home", people["participant"], "Goed punt over de markt.", parent=made.id)
    comments.hide(made.id, people["facilitator"], "zelfpromotie")
    [thread] = comments.for_page("Home", people["participant"])
    assert thread.withheld and thread.body == thread.html == thread.author == ""
    assert thread.hidden_reason is None  # the reason is for facilitators
    assert [r.body for r in thread.replies] == ["Goed punt over de markt."]


def test_reports_are_counted_once_per_person_for_facilitators(comments: Comments,
                                                              people: dict[str, User]) -> None:
    made = comments.add("Home", people["facilitator"], "Een mening")
    comments.report(made.id, people["participant"], "offensive")
    comments.report(made.id, people["participant"], "self-promotion")
    assert comments.report_reasons(made.id) == {"self-promotion": 1}
    assert [c.id for c in comments.reported()] == [made.id]
    with pytest.raises(InvalidInput):
        comments.report(made.id, people["participant"], "boring")


def test_comments_of_a_deleted_page_stay_and_follow_a_rename(services: Services,
                                                             comments: Comments,
                                                             people: dict[str, User]) -> None:
    author = people["facilitator"].person
    services.pages.save("Plan", "# Plan\n", None, author)
    comments.add("Plan", people["participant"], "Goed plan")
    services.pages.rename("Plan", "Plan B", author)
    assert comments.count("Plan B") == 1 and comments.count("Plan") == 0
    services.pages.delete("Plan B", services.pages.head() or "", author)
    assert comments.for_page("Plan B", None)[0].body == "Goed plan"


def test_a_reaction_toggles_and_counts_per_person(services: Services,
                                                  people: dict[str, User]) -> None:
    reactions = Reactions(services.db)
    target = page_target("Home")
    reactions.toggle(target, people["participant"], "agree")
    tally = reactions.toggle(target, people["facilitator"], "agree")
    assert tally.counts["agree"] == 2 and tally.mine == {"agree"}
    tally = reactions.toggle(target, people["facilitator"], "agree")
    assert tally.counts["agree"] == 1 and tally.mine == frozenset()
    with pytest.raises(InvalidInput):
        reactions.toggle(comment_target(1), people["participant"], "angry")


def test_pages_sort_by_most_discussed_and_most_agreed(services: Services, comments: Comments,
                                                      people: dict[str, User]) -> None:
    author = people["facilitator"].person
    for name in ("Alpha", "Beta"):
        services.pages.save(name, f"# {name}\n", None, author)
    comments.add("Beta", people["participant"], "Hmm")
    Reactions(services.db).toggle(page_target("Alpha"), people["participant"], "agree")
    pages = services.pages.all_pages()
    stores = services.comments, services.reactions
    assert rank_pages(*stores, pages, "discussed")[0].page.name == "Beta"
    assert rank_pages(*stores, pages, "agreed")[0].page.name == "Alpha"


def test_presence_shows_other_editors_until_they_go_quiet(services: Services,
                                                          people: dict[str, User]) -> None:
    presence = Presence(services.db)
    presence.heartbeat("Home", people["participant"], dirty=True, now=1000.0)
    [editor] = presence.editors("Home", besides=people["facilitator"], now=1010.0)
    assert editor.name == "Participant" and editor.dirty
    assert presence.editors("Home", besides=people["participant"], now=1010.0) == []
    assert presence.editors("Home", now=1000.0 + EXPIRES + 1) == []


def test_a_draft_is_kept_per_person_and_never_committed(services: Services,
                                                        people: dict[str, User]) -> None:
    drafts = Drafts(services.db, 1000)
    head = services.pages.head()
    drafts.put("Home", people["participant"], "# Half af", head)
    assert drafts.get("Home", people["participant"]).markdown == "# Half af"  # type: ignore[union-attr]
    assert drafts.get("Home", people["facilitator"]) is None
    assert services.pages.head() == head
    drafts.delete("Home", people["participant"])
    assert drafts.get("Home", people["participant"]) is None


def test_frozen_folder_refuses_participants_but_not_facilitators(services: Services,
                                                                 people: dict[str, User]) -> None:
    wiki, anna = services.pages, people["participant"].person
    wiki.save("Hoofdstuk 1/Markt", "# Markt\n", None, anna)
    set_frozen(services.db, "Hoofdstuk 1", True, people["facilitator"].id)
    with pytest.raises(Frozen):
        wiki.save("Hoofdstuk 1/Markt", "# Markt\n\nmeer\n", wiki.head(), anna)
    with pytest.raises(Frozen):
        wiki.rename("Hoofdstuk 1/Markt", "Markt", anna)
    wiki.save("Hoofdstuk 1/Markt", "# Markt\n\nslot\n", wiki.head(), people["facilitator"].person)
    wiki.save("Hoofdstuk 2", "# Twee\n", None, anna)  # outside the scope
    assert is_frozen(services.db, "hoofdstuk 1/markt.md") is not None


def test_frozen_wiki_refuses_uploads_and_unfreezing_reopens(services: Services,
                                                            people: dict[str, User]) -> None:
    set_frozen(services.db, "WIKI", True, None)
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 20
    with pytest.raises(Frozen):
        services.attachments.add("chart.png", png, Person("Participant", "participant@example.org"))
    set_frozen(services.db, "wiki", False, None)
    assert frozen_scopes(services.db) == []
    services.attachments.add("chart.png", png, people["participant"].person)
