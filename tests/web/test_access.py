"""Roles are enforced on every route; sessions, CSRF, redirects and throttling behave."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from tests.conftest import PASSWORDS, csrf, post_form
from wiki.config import Settings
from wiki.datadir import open_data_dir
from wiki.dbschema import tokens
from wiki.views.access import PUBLIC

SAMPLE_ARGS = {"path": "Home", "name": "x.png", "token_id": "1"}


def routes(app: Flask) -> Iterator[tuple[str, str, str]]:
    """(endpoint, method, url) for every rule of the app, with sample arguments."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        url = rule.rule
        for arg in rule.arguments:
            numeric = isinstance(rule._converters[arg], IntegerConverter)
            sample = SAMPLE_ARGS.get(arg, "1" if numeric else "x")
            url = url.replace(f"<path:{arg}>", sample).replace(f"<int:{arg}>", sample)
            url = url.replace(f"<{arg}>", sample)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


def role_of(app: Flask, endpoint: str, method: str) -> str:
    roles: dict[str, str] = app.view_functions[endpoint].roles  # type: ignore[attr-defined]
    return roles.get(method, roles["*"])


def test_every_endpoint_declares_its_roles(app: Flask) -> None:
    undeclared = [e for e, view in app.view_functions.items()
                  if e != "static" and not hasattr(view, "roles")]
    assert undeclared == []


def test_anonymous_visitors_reach_only_public_routes(app: Flask, client: FlaskClient) -> None:
    token = csrf(client)
    for endpoint, method, url in routes(app):
        if role_of(app, endpoint, method) == PUBLIC:
            continue
        response = client.open(url, method=method, data={"csrf_token": token},
                               headers={"X-CSRF-Token": token})
        if url.startswith(("/api/", "/wiki.git")):
            assert response.status_code == 401, (method, url)
            assert "Basic" in response.headers.get("WWW-Authenticate", "")
        else:
            assert response.status_code == 302, (method, url, response.status_code)
            assert response.location.startswith("/login")


@pytest.mark.parametrize("role", ["reader", "participant"])
def test_users_below_a_routes_role_are_refused(app: Flask, client: FlaskClient,
                                               login_as: Callable[[str], FlaskClient],
                                               role: str) -> None:
    login_as(role)
    token = csrf(client)
    order = ["reader", "participant", "facilitator"]
    for endpoint, method, url in routes(app):
        needed = role_of(app, endpoint, method)
        if needed == PUBLIC or order.index(needed) <= order.index(role):
            continue
        response = client.open(url, method=method, data={"csrf_token": token},
                               headers={"X-CSRF-Token": token})
        assert response.status_code == 403, (role, method, url, response.status_code)


def test_role_matrix_for_pages(client: FlaskClient,
                               login_as: Callable[[str], FlaskClient]) -> None:
    expected = {"reader": (200, 403), "participant": (200, 302), "facilitator": (200, 302)}
    for role, (read, write) in expected.items():
        login_as(role)
        assert client.get("/p/Home").status_code == read
        base = client.get("/api/v1/pages/Home").json["revision"]
        response = post_form(client, "/p/Home/edit", markdown=f"# Home\n\n{role}\n",
                             base_revision=base)
        assert response.status_code == write, role
        post_form(client, "/logout")


def test_form_post_without_csrf_token_is_refused(client: FlaskClient,
                                                 login_as: Callable[[str], FlaskClient]) -> None:
    login_as("participant")
    response = client.post("/p/Home/edit", data={"markdown": "hijacked"})
    assert response.status_code == 400
    assert "hijacked" not in client.get("/api/v1/pages/Home").json["markdown"]


def test_login_has_the_same_answer_for_unknown_user_and_wrong_password(
        client: FlaskClient) -> None:
    unknown = post_form(client, "/login", name="nobody", password="whatever-123")
    wrong = post_form(client, "/login", name="reader", password="whatever-123")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.text == wrong.text


def test_session_cookie_is_httponly_and_samesite(client: FlaskClient) -> None:
    response = post_form(client, "/login", name="reader", password=PASSWORDS["reader"])
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x",
                                    "/\\evil.example", "javascript:alert(1)"])
def test_login_redirects_only_to_local_paths(client: FlaskClient, target: str) -> None:
    response = post_form(client, "/login", name="reader", password=PASSWORDS["reader"],
                         next=target)
    assert response.status_code == 302
    assert response.location == "/"


def test_login_goes_to_the_local_page_asked_for(client: FlaskClient) -> None:
    response = post_form(client, "/login", name="reader", password=PASSWORDS["reader"],
                         next="/p/Home/history")
    assert response.location == "/p/Home/history"


def test_repeated_failed_logins_are_throttled(client: FlaskClient) -> None:
    for _ in range(10):
        assert post_form(client, "/login", name="reader", password="wrong-pass").status_code == 401
    response = post_form(client, "/login", name="reader", password=PASSWORDS["reader"])
    assert response.status_code == 429


def test_api_accepts_basic_auth_with_password_or_token(app: Flask, client: FlaskClient) -> None:
    accounts = app.extensions["cowiki"].accounts
    token = accounts.create_token(accounts.by_name("participant"), "test")
    for secret in (PASSWORDS["participant"], token):
        response = client.get("/api/v1/pages", auth=("participant", secret))
        assert response.status_code == 200
    assert client.get("/api/v1/pages", auth=("reader", token)).status_code == 401
    assert client.get("/api/v1/pages", auth=("participant", "cw_wrong")).status_code == 401


def test_tokens_are_stored_hashed(app: Flask) -> None:
    accounts = app.extensions["cowiki"].accounts
    token = accounts.create_token(accounts.by_name("reader"), "t")
    stored = app.extensions["cowiki"].db.connect().execute(select(tokens.c.token_hash)).scalars()
    assert all(token not in value for value in stored)


def test_public_read_lets_anonymous_read_but_not_write(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app import create_app

    app = create_app({"data_dir": str(tmp_path / "d"), "public_read": True})
    client = app.test_client()
    assert client.get("/p/Home").status_code == 200
    assert client.get("/api/v1/pages/Home").status_code == 200
    assert post_form(client, "/p/Home/edit", markdown="x").status_code == 302
    assert client.put("/api/v1/pages/Home", json={"markdown": "x"}).status_code == 401


def test_token_use_is_recorded_on_the_account_page(app: Flask, client: FlaskClient) -> None:
    accounts = app.extensions["cowiki"].accounts
    user = accounts.by_name("reader")
    token = accounts.create_token(user, "laptop")
    assert accounts.tokens(user)[0].last_used is None
    client.get("/api/v1/pages", auth=("reader", token))
    assert accounts.tokens(user)[0].last_used is not None


def test_only_a_changed_session_writes_the_cookie(
        login_as: Callable[[str], FlaskClient], monkeypatch: pytest.MonkeyPatch) -> None:
    """A preview or a page view answered after a save must not put back the cookie it was
    sent with: that would drop the save's "Saved." (four people saving one page at once)."""
    client = login_as("participant")
    assert "Set-Cookie" in client.get("/p/Home").headers  # the login's new CSRF token
    assert "Set-Cookie" not in client.get("/p/Home").headers
    assert "Set-Cookie" not in post_form(client, "/preview", markdown="# Hoi").headers
    saved = client.post("/p/Notities/edit", data={"csrf_token": csrf(client), "markdown": "Hoi"},
                        headers={"X-Requested-With": "fetch"})
    assert saved.status_code == 200 and "Set-Cookie" in saved.headers  # with the flash
    assert "Saved." in client.get("/p/Notities").text
    later = time.time() + 86400
    monkeypatch.setattr(time, "time", lambda: later)
    cookie = client.get("/p/Home").headers["Set-Cookie"]  # a day on, the login's expiry moves
    assert "Expires=" in cookie
    assert "Set-Cookie" not in client.get("/p/Home").headers


def test_a_script_signed_in_by_token_gets_no_cookie_and_piles_up_nothing(
        app: Flask, client: FlaskClient) -> None:
    """A script that posts the editor's form with a token and never follows the redirect
    must not grow a session that each later request decodes and signs again."""
    accounts = app.extensions["cowiki"].accounts
    token = accounts.create_token(accounts.by_name("participant"), "script")
    for n in range(8):
        page = client.get("/api/v1/pages/Notities", auth=("participant", token))
        base = page.get_json()["revision"] if page.status_code == 200 else ""
        saved = client.post("/p/Notities/edit", auth=("participant", token),
                            data={"markdown": f"Versie {n}", "base_revision": base})
        assert saved.status_code == 302 and "Set-Cookie" not in saved.headers
    assert client.get_cookie("session") is None
    assert app.extensions["cowiki"].pages.get("Notities").markdown.strip() == "Versie 7"


def test_a_browser_keeps_only_the_last_few_messages(
        login_as: Callable[[str], FlaskClient]) -> None:
    """Saves whose "Saved." nobody saw yet (redirects not followed) stay few: a cookie past
    4 KB would be dropped by the browser, and the login with it."""
    from wiki.views.sessions import KEPT_MESSAGES

    client = login_as("participant")
    pages = client.application.extensions["cowiki"].pages
    for n in range(KEPT_MESSAGES + 4):
        base = pages.get("Notities").revision if n else ""
        saved = client.post("/p/Notities/edit", headers={"X-Requested-With": "fetch"},
                            data={"csrf_token": csrf(client), "markdown": f"V{n}",
                                  "base_revision": base})
        assert saved.status_code == 200
    with client.session_transaction() as session:
        assert len(session["_flashes"]) == KEPT_MESSAGES
    assert client.get("/p/Notities").text.count("Saved.") == KEPT_MESSAGES


def test_a_saves_answer_is_followed_by_spare_object_files(
        login_as: Callable[[str], FlaskClient]) -> None:
    """The files the next save writes its objects into are made after this one's answer
    (storage/loose.py); the objects themselves are whole and git's."""
    from storage.loose import SPARE_PREFIX, SPARES

    client = login_as("participant")
    services = client.application.extensions["cowiki"]
    objects = services.repo.path / "objects"
    mine = f"{SPARE_PREFIX}{os.getpid()}_"

    def spares() -> int:
        return len([n for n in os.listdir(objects) if n.startswith(mine)])

    # A command outside the server (as the CLI runs) writes into new files and makes none.
    command = open_data_dir(Settings.load({"data_dir": str(services.settings.data_dir)}))
    command.pages.save("Vogels", "Kievit\n", None, services.accounts.by_name("participant").person)
    assert spares() == 0
    saved = client.post("/p/Notities/edit", data={"csrf_token": csrf(client), "markdown": "Hoi"})
    assert saved.status_code == 302 and spares() == 0
    saved.close()  # the server has sent the answer: its follow-ups run
    assert spares() == SPARES + 1  # and one to link as main.lock (storage/mainref.py)
    page = services.pages.get("Notities")
    saved = client.post("/p/Notities/edit", data={"csrf_token": csrf(client), "markdown": "Hoi!",
                                                  "base_revision": page.revision})
    assert saved.status_code == 302
    assert spares() == SPARES + 1 - 4  # blob, folder tree, commit, lock: used by this save
    saved.close()
    assert spares() == SPARES + 1
    assert not (services.repo.path / "refs" / "heads" / "main.lock").exists()
    assert subprocess.run(["git", "--git-dir", str(services.repo.path), "fsck", "--strict"],
                          capture_output=True).returncode == 0
    assert services.pages.get("Notities").markdown.strip() == "Hoi!"
