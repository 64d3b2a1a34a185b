"""Accounts, invites, reset links and the wiki's language on both engines, also when
several workers act at once.

Each test runs on SQLite and on PostgreSQL (the `database` fixture). The races use
real threads, each with its own connection like a gunicorn worker: on PostgreSQL
they really write at once, so only the unique keys and the single-statement
claims keep a name, an invite's last use or a reset link from being taken twice.
"""

from __future__ import annotations

from typing import TypeVar

import pytest

from tests.concurrency_support import at_once
from wiki.accounts import Accounts, User
from wiki.db import Database
from wiki.errors import InvalidInput
from wiki.invites import InviteInvalid, Invites
from wiki.resets import PasswordResets, ResetInvalid
from wiki.wikilang import WikiLanguage

T = TypeVar("T")
PASSWORD = "tulips in spring"


@pytest.fixture
def accounts(database: Database) -> Accounts:
    return Accounts(database)


@pytest.fixture
def facilitator(accounts: Accounts) -> User:
    return accounts.add_user("Fien", "fien@example.org", "facilitator", "facilitating well")


def test_a_taken_name_key_or_email_is_refused_as_in_use(accounts: Accounts) -> None:
    accounts.add_user("Anna", "anna@example.org", "participant", PASSWORD)
    for name, email in (("ANNA", "other@example.org"), ("Ａｎｎａ", "other@example.org"),
                        ("Bert", "ANNA@example.org")):
        with pytest.raises(InvalidInput, match="already in use"):
            accounts.add_user(name, email, "participant", PASSWORD)
    assert [user.name for user in accounts.all_users()] == ["Anna"]


def test_people_joining_at_once_under_one_name_get_one_account(
        database: Database, accounts: Accounts) -> None:
    results = at_once(6, database=database, work=lambda n: accounts.add_user(
        "Anna", f"anna{n}@example.org", "participant", PASSWORD))
    made = [r for r in results if isinstance(r, User)]
    refused = [r for r in results if not isinstance(r, User)]
    assert len(made) == 1
    assert all(isinstance(r, InvalidInput) and "already in use" in str(r) for r in refused)
    assert accounts.count() == 1


def test_an_invite_admits_exactly_its_uses_when_a_room_joins_at_once(
        database: Database, accounts: Accounts, facilitator: User) -> None:
    invites = Invites(accounts)
    code = invites.create(facilitator, "participant", 7, 3).code
    results = at_once(8, database=database, work=lambda n: invites.register(
        code, f"Person {n}", f"person{n}@example.org", PASSWORD))
    assert sum(isinstance(r, User) for r in results) == 3
    assert all(isinstance(r, User | InviteInvalid) for r in results), results
    invite = invites.get(code)
    assert invite is not None and invite.uses == 3 and not invite.usable()
    assert accounts.count() == 4


def test_a_refused_join_gives_the_use_back(accounts: Accounts, facilitator: User) -> None:
    invites = Invites(accounts)
    code = invites.create(facilitator, "reader", 7, 1).code
    with pytest.raises(InvalidInput, match="already in use"):
        invites.register(code, "Fien", "someone@example.org", PASSWORD)
    assert invites.usable(code).uses == 0
    assert invites.register(code, "Gijs", "gijs@example.org", PASSWORD).role == "reader"


def test_invites_list_newest_first_with_their_creator(accounts: Accounts,
                                                      facilitator: User) -> None:
    invites = Invites(accounts)
    older = invites.create(facilitator, "reader", 7, 5)
    newer = invites.create(facilitator, "facilitator", 1, 1)
    assert [(i.code, i.created_by, i.creator_may_invite) for i in invites.all()] == [
        (newer.code, "Fien", True), (older.code, "Fien", True)]
    accounts.set_role(facilitator, "participant")
    assert [i.creator_may_invite for i in invites.all()] == [False, True]
    invites.revoke(older.code)
    with pytest.raises(InviteInvalid):
        invites.usable(older.code)


def test_a_reset_link_opened_in_two_tabs_sets_one_password(
        database: Database, accounts: Accounts, facilitator: User) -> None:
    resets = PasswordResets(accounts)
    secret = resets.issue(facilitator)
    results = at_once(4, database=database,
                      work=lambda n: resets.redeem(secret, f"new password {n}!"))
    done = [n for n, r in enumerate(results) if isinstance(r, User)]
    assert len(done) == 1
    assert all(isinstance(r, ResetInvalid) for n, r in enumerate(results) if n not in done)
    assert accounts.authenticate("Fien", f"new password {done[0]}!") is not None
    with pytest.raises(ResetInvalid, match="already used"):
        resets.user_for(secret)


def test_of_links_made_at_once_one_works(database: Database, accounts: Accounts,
                                        facilitator: User) -> None:
    resets = PasswordResets(accounts)
    secrets = at_once(4, database=database, work=lambda n: resets.issue(facilitator))
    assert all(isinstance(s, str) for s in secrets), secrets
    assert sum(works(resets, str(secret)) for secret in secrets) == 1


def works(resets: PasswordResets, secret: str) -> bool:
    try:
        resets.user_for(secret)
    except ResetInvalid:
        return False
    return True


def test_logging_out_everywhere_at_once_ends_every_session(
        database: Database, accounts: Accounts, facilitator: User) -> None:
    sid = accounts.start_session(facilitator)
    assert accounts.session_user(facilitator.id, facilitator.generation, sid) == facilitator
    ended = at_once(5, database=database, work=lambda n: accounts.end_all_sessions(facilitator))
    assert ended == [None] * 5
    now = accounts.get(facilitator.id)
    assert now is not None and now.generation == facilitator.generation + 5
    assert accounts.session_user(facilitator.id, facilitator.generation, sid) is None
    assert accounts.session_user(now.id, now.generation, sid) is None


def test_a_token_names_its_owner_until_revoked(accounts: Accounts, facilitator: User) -> None:
    token = accounts.create_token(facilitator, "laptop")
    assert accounts.user_for_token("FIEN", token) == facilitator
    assert accounts.user_for_token("Gijs", token) is None
    [listed] = accounts.tokens(facilitator)
    assert listed.label == "laptop" and listed.last_used is not None
    accounts.revoke_token(facilitator, listed.id)
    assert accounts.user_for_token("Fien", token) is None


def test_the_wiki_language_is_the_facilitators_choice_else_the_default(
        database: Database) -> None:
    language = WikiLanguage("nl", database)
    assert language.get() == "nl"
    language.set("en")
    language.set("en")  # again: replaced, not added
    assert WikiLanguage("nl", database).get() == "en"
    language.set("nl")
    assert language.get() == "nl"
