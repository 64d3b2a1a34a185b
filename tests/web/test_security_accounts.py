"""Weak passwords and look-alike names are refused; invites die with their creator's role."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORDS, post_form
from wiki.accounts import Accounts, hash_password
from wiki.db import Database
from wiki.dbmigrate import current, head
from wiki.errors import InvalidInput
from wiki.invites import InviteInvalid, Invites
from wiki.sqlite_legacy import MIGRATIONS


@pytest.mark.parametrize("password", ["password", "12345678", "Password1", "iloveyou",
                                      "qwertyuiop", "Anna2024!", "anna@example.org"])
def test_common_passwords_and_ones_own_name_are_refused(app: Flask, password: str) -> None:
    accounts = app.extensions["cowiki"].accounts
    with pytest.raises(InvalidInput):
        accounts.add_user("Anna", "anna@example.org", "participant", password)
    assert accounts.by_name("Anna") is None


def test_a_weak_new_password_is_refused_on_the_account_page(
        app: Flask, client: FlaskClient) -> None:
    post_form(client, "/login", name="reader", password=PASSWORDS["reader"])
    response = post_form(client, "/account/password", current=PASSWORDS["reader"],
                         new="reader123")
    assert response.status_code == 400
    assert post_form(client, "/login", name="reader",
                     password=PASSWORDS["reader"]).status_code == 302


@pytest.mark.parametrize("name", ["Ａｎｎａ", "ANNA", " anna "])
def test_a_look_alike_of_a_taken_name_is_refused(app: Flask, name: str) -> None:
    accounts = app.extensions["cowiki"].accounts
    accounts.add_user("Anna", "anna@example.org", "participant", "tulips in spring")
    with pytest.raises(InvalidInput, match="already in use"):
        accounts.add_user(name, "other@example.org", "participant", "tulips in spring")


def test_full_width_name_logs_in_to_the_same_account(app: Flask, client: FlaskClient) -> None:
    app.extensions["cowiki"].accounts.add_user("Anna", "anna@example.org", "participant",
                                               "tulips in spring")
    response = post_form(client, "/login", name="Ａｎｎａ", password="tulips in spring")
    assert response.status_code == 302
    assert "Anna" in client.get("/account").text


def test_accounts_that_already_look_alike_keep_working_after_the_upgrade(
        tmp_path: Path) -> None:
    # SQLite only: files from before Alembic are SQLite files; migrate() gives them the
    # hand-made migrations they lack, then Alembic's.
    path = tmp_path / "wiki.db"
    folding = next(number for number, m in enumerate(MIGRATIONS) if callable(m))
    with sqlite3.connect(path) as conn:  # the schema as it was before names were folded
        for script in MIGRATIONS[:folding]:
            assert isinstance(script, str)
            conn.executescript(script)
        conn.execute(f"PRAGMA user_version = {folding}")
        for number, name in enumerate(["Anna", "Ａｎｎａ"]):
            conn.execute("INSERT INTO users (name, email, role, password_hash, created)"
                         " VALUES (?, ?, 'participant', ?, 0)",
                         (name, f"a{number}@example.org", hash_password(f"pass of {name}")))
    conn.close()
    db = Database(path)
    db.migrate()
    assert current(db.connect()) == head()
    accounts = Accounts(db)
    assert accounts.authenticate("Anna", "pass of Anna") is not None
    assert accounts.authenticate("Ａｎｎａ", "pass of Ａｎｎａ") is not None
    with pytest.raises(InvalidInput, match="already in use"):
        accounts.add_user("aNNa", "x@example.org", "reader", "tulips in spring")


def invite(app: Flask, by: str, role: str) -> str:
    accounts = app.extensions["cowiki"].accounts
    return Invites(accounts).create(accounts.by_name(by), role, 7, 10).code


def test_invite_of_a_removed_facilitator_no_longer_admits_anyone(
        app: Flask, client: FlaskClient) -> None:
    accounts = app.extensions["cowiki"].accounts
    code = invite(app, "facilitator", "facilitator")
    accounts.set_role(accounts.by_name("facilitator"), "participant")
    assert client.get(f"/invite/{code}").status_code == 404
    response = post_form(client, f"/invite/{code}", name="Mallory", email="m@example.org",
                         password="a fine long secret")
    assert response.status_code == 404
    assert accounts.by_name("Mallory") is None


def test_invites_keep_working_while_the_creator_still_holds_the_role(app: Flask) -> None:
    accounts = app.extensions["cowiki"].accounts
    code = invite(app, "facilitator", "participant")
    accounts.set_role(accounts.by_name("facilitator"), "participant")
    made = Invites(accounts).register(code, "Bert", "bert@example.org", "a fine long secret")
    assert made.role == "participant"


def test_invite_of_a_deactivated_creator_is_dead(app: Flask) -> None:
    accounts = app.extensions["cowiki"].accounts
    code = invite(app, "facilitator", "reader")
    accounts.set_active(accounts.by_name("facilitator"), False)
    with pytest.raises(InviteInvalid):
        Invites(accounts).register(code, "Bert", "bert@example.org", "a fine long secret")
    assert not Invites(accounts).get(code).usable()
