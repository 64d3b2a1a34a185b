"""Accounts shared by the wikis of a root on one PostgreSQL database.

Each wiki of `cowiki --root DIR` keeps its pages, git, search and members; with a
PostgreSQL COWIKI_DATABASE_URL one account (name, email, password, tokens) works
in every wiki it is a member of, and becomes a member through that wiki's invite.
Roles and deactivation stay per wiki. The wikis are made with the real
`create-wiki` command and served in process (one Flask app per wiki, as the
root's dispatcher builds them).
"""

from __future__ import annotations

import base64
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import make_url, select

from app import create_app
from cowiki.root import wiki_overrides, wiki_settings
from tests.conftest import csrf, post_form
from tests.pgcluster import Cluster
from tests.web.test_multi_wiki import PASSWORD, cowiki, create_wiki, empty_database
from wiki.accounts import Accounts
from wiki.backup import create_backup, restore_backup
from wiki.config import Settings
from wiki.db import Database
from wiki.dbdialect import schema_url
from wiki.dbschema import users
from wiki.invites import Invites

NEW_PASSWORD = "a-new-long-secret-2"


@pytest.fixture
def root(postgres: Cluster | None, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Wikis alpha (Ann facilitates) and beta (Bob) sharing one new PostgreSQL database."""
    if postgres is None:
        pytest.skip("PostgreSQL is not installed here")
    monkeypatch.setenv("COWIKI_DATABASE_URL", empty_database(postgres))
    folder = tmp_path / "root"
    for slug, name in (("alpha", "Ann"), ("beta", "Bob")):
        done = create_wiki(folder, slug, name)
        assert done.returncode == 0, done.stderr
    apps: list[Flask] = []
    monkeypatch.setattr("tests.web.test_shared_accounts._APPS", apps)
    yield folder
    for app in apps:
        app.extensions["cowiki"].db.dispose()


_APPS: list[Flask] = []


def wiki(root: Path, slug: str) -> FlaskClient:
    """A browser on wiki `slug` of the root (its own app, prefix and key)."""
    app = create_app(wiki_overrides(root, slug, Settings.load({})))
    _APPS.append(app)
    return app.test_client()


def log_in(client: FlaskClient, name: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"name": name, "password": password,
                                       "csrf_token": csrf(client)})


def invite(client: FlaskClient, role: str = "participant") -> str:
    """An invite of the wiki `client` is logged in to as its facilitator."""
    made = client.post("/api/v1/invites", json={"role": role, "max_uses": 5},
                       headers={"X-CSRF-Token": csrf(client)})
    assert made.status_code == 201, made.text
    return str(made.get_json()["code"])


def join_with_account(client: FlaskClient, code: str, name: str,
                      password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return post_form(client, f"/invite/{code}", existing="1", name=name, password=password)


def test_an_account_joins_another_wiki_through_its_invite(root: Path) -> None:
    ann_in_beta = wiki(root, "beta")
    refused = log_in(ann_in_beta, "Ann")
    assert refused.status_code == 403 and "not part of this wiki yet" in refused.text
    bob = wiki(root, "beta")
    assert log_in(bob, "Bob").status_code == 302
    code = invite(bob)
    page = ann_in_beta.get(f"/invite/{code}").text
    assert "Already have an account on this server?" in page
    wrong = join_with_account(ann_in_beta, code, "Ann", "not her password")
    assert wrong.status_code == 400 and "do not match" in wrong.text
    assert join_with_account(ann_in_beta, code, "Ann").status_code == 302
    assert ann_in_beta.get("/welcome").status_code == 200
    beta_invites = Invites(bob.application.extensions["cowiki"].accounts)
    found = beta_invites.get(code)
    assert found is not None and found.uses == 1  # the wrong password gave its use back
    # One account, two places: a participant here, still the facilitator of alpha.
    people = {u.name: u.role for u in bob.application.extensions["cowiki"].accounts.all_users()}
    assert people == {"Bob": "facilitator", "Ann": "participant"}
    alpha = wiki(root, "alpha")
    assert log_in(alpha, "Ann").status_code == 302
    assert alpha.application.extensions["cowiki"].accounts.by_name("Ann").role == "facilitator"
    assert alpha.application.extensions["cowiki"].accounts.by_name("Bob") is None
    # A name belongs to one person on the whole server.
    fresh = wiki(root, "beta")
    taken = post_form(fresh, f"/invite/{code}", name="ann", email="other@example.org",
                      password="yet-another-secret-3")
    assert taken.status_code == 400 and "already in use" in taken.text


def test_a_new_password_holds_in_every_wiki_and_ends_the_old_logins(root: Path) -> None:
    bob = wiki(root, "beta")
    log_in(bob, "Bob")
    ann_beta = wiki(root, "beta")
    assert join_with_account(ann_beta, invite(bob), "Ann").status_code == 302
    assert ann_beta.get("/welcome").status_code == 200
    ann_alpha = wiki(root, "alpha")
    log_in(ann_alpha, "Ann")
    changed = post_form(ann_alpha, "/account/password", current=PASSWORD, new=NEW_PASSWORD)
    assert changed.status_code in (200, 302), changed.text
    assert ann_beta.get("/welcome").status_code == 302  # logged out there too
    again = wiki(root, "beta")
    assert log_in(again, "Ann").status_code == 401
    assert log_in(again, "Ann", NEW_PASSWORD).status_code == 302


def test_roles_and_deactivation_stay_with_their_wiki(root: Path) -> None:
    bob = wiki(root, "beta")
    log_in(bob, "Bob")
    ann_beta = wiki(root, "beta")
    join_with_account(ann_beta, invite(bob), "Ann")
    accounts = bob.application.extensions["cowiki"].accounts
    ann = accounts.by_name("Ann")
    accounts.set_active(ann, False)
    assert log_in(wiki(root, "beta"), "Ann").status_code == 401
    assert log_in(wiki(root, "alpha"), "Ann").status_code == 302
    # An invite does not bring back someone a facilitator stopped, nor lower a role.
    join_with_account(wiki(root, "beta"), invite(bob), "Ann")
    assert accounts.get(ann.id).active is False
    alpha = wiki(root, "alpha")
    log_in(alpha, "Ann")
    join_with_account(wiki(root, "alpha"), invite(alpha, "reader"), "Ann")
    assert alpha.application.extensions["cowiki"].accounts.get(ann.id).role == "facilitator"


def test_a_role_change_and_a_persons_limits_stay_with_their_wiki(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COWIKI_RATE_COMMENTS", "2")
    bob = wiki(root, "beta")
    log_in(bob, "Bob")
    ann_beta = wiki(root, "beta")
    join_with_account(ann_beta, invite(bob), "Ann")
    ann_alpha = wiki(root, "alpha")
    log_in(ann_alpha, "Ann")

    def comments(client: FlaskClient) -> list[int]:
        return [client.post("/api/v1/pages/Home/comments", json={"body": f"Punt {n}"},
                            headers={"X-CSRF-Token": csrf(client)}).status_code
                for n in range(3)]

    assert comments(ann_alpha) == [201, 201, 429]
    assert comments(ann_beta) == [201, 201, 429]  # her limit in beta is beta's alone
    accounts = bob.application.extensions["cowiki"].accounts
    accounts.set_role(accounts.by_name("Ann"), "reader")
    assert ann_beta.get("/welcome").status_code == 302  # logged out where it changed
    assert ann_alpha.get("/welcome").status_code == 200  # still in alpha
    accounts.set_active(accounts.by_name("Ann"), False)
    assert ann_alpha.get("/welcome").status_code == 200


def test_a_token_works_in_the_wikis_its_account_belongs_to(root: Path) -> None:
    alpha = wiki(root, "alpha")
    log_in(alpha, "Ann")
    token = alpha.application.extensions["cowiki"].accounts.create_token(
        alpha.application.extensions["cowiki"].accounts.by_name("Ann"), "laptop")
    auth = {"Authorization": _basic("Ann", token)}
    assert wiki(root, "alpha").get("/api/v1/pages", headers=auth).status_code == 200
    outsider = wiki(root, "beta")
    assert outsider.get("/api/v1/pages", headers=auth).status_code == 401
    bob = wiki(root, "beta")
    log_in(bob, "Bob")
    join_with_account(wiki(root, "beta"), invite(bob), "Ann")
    assert wiki(root, "beta").get("/api/v1/pages", headers=auth).status_code == 200


def test_create_wiki_makes_an_existing_account_its_facilitator(root: Path) -> None:
    wrong = cowiki("--root", str(root), "create-wiki", "gamma", "--facilitator", "Ann",
                   "--email", "ann@alpha.example.org", "--password-stdin",
                   stdin="not-her-password-9\n")
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1, wrong.stderr
    assert not (root / "gamma").exists()
    done = create_wiki(root, "gamma", "Ann")
    assert done.returncode == 0, done.stderr
    gamma = wiki(root, "gamma")
    assert log_in(gamma, "Ann").status_code == 302
    assert gamma.application.extensions["cowiki"].accounts.by_name("Ann").role == "facilitator"
    conn = gamma.application.extensions["cowiki"].db.connect()
    assert conn.execute(select(users.c.name).order_by(users.c.name)).scalars().all() \
        == ["Ann", "Bob"]  # one account for Ann on the whole server


def test_a_backup_holds_the_wikis_own_members_and_restores_anywhere(
        root: Path, tmp_path: Path) -> None:
    bob = wiki(root, "beta")
    log_in(bob, "Bob")
    assert join_with_account(wiki(root, "beta"), invite(bob), "Ann").status_code == 302
    done = create_wiki(root, "gamma", "Cat")  # an account beta has nothing to do with
    assert done.returncode == 0, done.stderr
    archive = tmp_path / "beta.tar"
    create_backup(root / "beta", archive,
                  wiki_settings(root, "beta", Settings.load({})).database_url)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert any(name.endswith(".db") for name in names), names
    # Restored beside the others on the same database: the same accounts, not copies.
    restore_backup(archive, wiki_settings(root, "delta", Settings.load({})))
    delta = wiki(root, "delta")
    assert log_in(delta, "Ann").status_code == 302
    accounts = delta.application.extensions["cowiki"].accounts
    assert {u.name: u.role for u in accounts.all_users()} == {"Bob": "facilitator",
                                                             "Ann": "participant"}
    names_on_server = accounts.db.connect().execute(select(users.c.name)).scalars().all()
    assert sorted(names_on_server) == ["Ann", "Bob", "Cat"]
    # And onto a SQLite wiki of its own: the two members, with their passwords.
    alone = tmp_path / "alone"
    restore_backup(archive, Settings.load({"data_dir": str(alone), "database_url": ""}))
    own = create_app({"data_dir": str(alone), "database_url": ""})
    _APPS.append(own)
    assert {u.name for u in own.extensions["cowiki"].accounts.all_users()} == {"Ann", "Bob"}
    assert log_in(own.test_client(), "Ann").status_code == 302


def _basic(name: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{secret}".encode()).decode()


def test_a_root_schema_with_accounts_of_its_own_keeps_them(root: Path,
                                                          postgres: Cluster) -> None:
    # A wiki made before accounts were shared has its own users table: its search_path
    # finds that first, so its people keep logging in and stay apart from the others.
    url = make_url(Settings.load({}).database_url)
    old = Database(url.update_query_dict({"options": '-csearch_path="wiki_old",public'})
                   .render_as_string(hide_password=False))
    old.migrate()
    Accounts(old).add_user("Oda", "oda@old.example.org", "facilitator", NEW_PASSWORD)
    old.dispose()
    now = Database(schema_url(url.render_as_string(hide_password=False), "wiki_old"))
    try:
        now.migrate()
        accounts = Accounts(now)
        assert accounts.shared is False
        assert accounts.by_name("Ann") is None  # a shared account is not seen here
        assert accounts.authenticate("Oda", NEW_PASSWORD) is not None
    finally:
        now.dispose()


def test_wrong_passwords_lock_the_account_in_every_wiki(root: Path) -> None:
    # Ten guesses, not ten per wiki: the failed logins are counted with the accounts.
    bob = wiki(root, "beta")
    log_in(bob, "Bob")
    assert join_with_account(wiki(root, "beta"), invite(bob), "Ann").status_code == 302
    alpha = wiki(root, "alpha")
    for _ in range(10):
        assert log_in(alpha, "Ann", "a wrong guess").status_code == 401
    locked = log_in(wiki(root, "beta"), "Ann")
    assert locked.status_code == 429, locked.text
    accounts = bob.application.extensions["cowiki"].accounts
    accounts.unlock(accounts.by_name("Ann"))  # a facilitator of either wiki may lift it
    assert log_in(wiki(root, "alpha"), "Ann").status_code == 302


def test_a_facilitator_cannot_make_a_reset_link_for_a_shared_account(root: Path) -> None:
    # Bob facilitates beta only: a reset link would hand him Ann's account in alpha.
    bob = wiki(root, "beta")
    log_in(bob, "Bob")
    assert join_with_account(wiki(root, "beta"), invite(bob), "Ann").status_code == 302
    accounts = bob.application.extensions["cowiki"].accounts
    ann = accounts.by_name("Ann")
    refused = post_form(bob, f"/admin/users/{ann.id}/password-reset")
    assert refused.status_code == 403, refused.text
    assert "one account for all workshops" in refused.text
    # The server's administrator still can.
    done = cowiki("--data", str(root / "beta"), "passwd", "Ann", "--reset-link")
    assert done.returncode == 0 and "/reset/" in done.stdout, done.stderr
