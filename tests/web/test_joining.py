"""Everyone gets in: a room on one Wi-Fi joins and logs in, typos lock one account only,
a proxy's forwarded address counts, forgotten passwords have a way back, and the invite
shows a QR code and lands newcomers on a welcome page in their language."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import create_app
from tests.conftest import PASSWORDS, csrf, post_form
from wiki import resets
from wiki.accounts import ACCOUNT_FAILURES, ADDRESS_FAILURES
from wiki.invites import INVITE_FAILURES, qr_svg

Login = Callable[[str], FlaskClient]
ROOM = {"REMOTE_ADDR": "192.0.2.10"}  # the workshop's Wi-Fi, as the server sees it
DUTCH = {"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}
FACILITATOR = ("facilitator", PASSWORDS["facilitator"])


def make_invite(client: FlaskClient, uses: int = 40) -> str:
    made = client.post("/api/v1/invites", json={"role": "participant", "max_uses": uses},
                       auth=FACILITATOR)
    assert made.status_code == 201, made.text
    return str(made.json["code"])


def join(app: Flask, code: str, name: str, password: str = "",
         **headers: str) -> tuple[FlaskClient, TestResponse]:
    """One person's browser in the room filling in the invite form."""
    browser = app.test_client()
    response = browser.post(f"/invite/{code}", environ_base=ROOM, headers=headers, data={
        "csrf_token": csrf(browser), "name": name,
        "email": f"{name.lower().replace(' ', '.')}@example.org",
        "password": password or f"{name} likes long passwords"})
    return browser, response


def log_in(client: FlaskClient, name: str, password: str,
           address: str = "192.0.2.10") -> TestResponse:
    return client.post("/login", environ_base={"REMOTE_ADDR": address},
                       data={"name": name, "password": password, "csrf_token": csrf(client)})


# -- joining -----------------------------------------------------------------------------

def test_forty_people_join_through_one_invite_from_one_address(app: Flask,
                                                               client: FlaskClient) -> None:
    code = make_invite(client)
    for number in range(40):
        _, response = join(app, code, f"Person {number}")
        assert response.status_code == 302, (number, response.text)
        assert response.location == "/welcome"
    assert len(app.extensions["cowiki"].accounts.all_users()) == 3 + 40


def test_refused_joins_are_limited_per_invite_not_for_the_room(app: Flask,
                                                               client: FlaskClient) -> None:
    busy, other = make_invite(client), make_invite(client)
    for _ in range(INVITE_FAILURES.count):
        assert join(app, busy, "Weak", password="short")[1].status_code == 400
    refused = join(app, busy, "Anna")[1]
    assert refused.status_code == 429 and "Too many attempts" in refused.text
    assert int(refused.headers["Retry-After"]) > 0
    assert join(app, other, "Anna")[1].status_code == 302  # same room, another invite


def test_an_address_is_stopped_only_at_a_ceiling_of_refused_joins(client: FlaskClient) -> None:
    code = make_invite(client)
    answers = [client.post("/api/v1/register", environ_base=ROOM, json={
        "invite": f"guess-{n}", "name": "X", "email": "x@example.org",
        "password": "xxxx-xxxx"}).status_code for n in range(ADDRESS_FAILURES.count + 1)]
    assert answers[:-1] == [404] * ADDRESS_FAILURES.count and answers[-1] == 429
    elsewhere = client.post("/api/v1/register", environ_base={"REMOTE_ADDR": "198.51.100.7"},
                            json={"invite": code, "name": "Bert", "email": "bert@example.org",
                                  "password": "bert likes long passwords"})
    assert elsewhere.status_code == 201


# -- logging in --------------------------------------------------------------------------

def test_ten_wrong_passwords_lock_only_that_account_until_a_facilitator_unlocks(
        app: Flask, client: FlaskClient) -> None:
    for _ in range(ACCOUNT_FAILURES.count):
        assert log_in(client, "reader", "wrong password").status_code == 401
    neighbour = app.test_client()
    assert log_in(neighbour, "participant", PASSWORDS["participant"]).status_code == 302
    locked = log_in(app.test_client(), "reader", PASSWORDS["reader"])
    assert locked.status_code == 429 and "ask a facilitator to unlock it" in locked.text
    assert int(locked.headers["Retry-After"]) > 0

    facilitator = app.test_client()
    assert log_in(facilitator, "facilitator", PASSWORDS["facilitator"]).status_code == 302
    people = facilitator.get("/admin/users").text
    reader_id = app.extensions["cowiki"].accounts.by_name("reader").id
    assert f'action="/admin/users/{reader_id}/unlock"' in people
    assert people.count("/unlock\"") == 1  # only the reader is locked
    assert post_form(facilitator, f"/admin/users/{reader_id}/unlock").status_code == 302
    assert "/unlock\"" not in facilitator.get("/admin/users").text
    assert log_in(app.test_client(), "reader", PASSWORDS["reader"]).status_code == 302


def test_a_lock_also_stops_basic_auth_and_the_api_lifts_it(app: Flask,
                                                          client: FlaskClient) -> None:
    for _ in range(ACCOUNT_FAILURES.count):
        client.get("/api/v1/pages", auth=("participant", "wrong"), environ_base=ROOM)
    right = ("participant", PASSWORDS["participant"])
    assert client.get("/api/v1/pages", auth=right, environ_base=ROOM).status_code == 429
    assert client.get("/api/v1/pages", auth=("reader", PASSWORDS["reader"]),
                      environ_base=ROOM).status_code == 200
    assert client.post("/api/v1/users/participant/unlock",
                       auth=("reader", PASSWORDS["reader"])).status_code == 403
    unlocked = client.post("/api/v1/users/Participant/unlock", auth=FACILITATOR)
    assert unlocked.status_code == 200 and unlocked.json == {"name": "participant",
                                                             "locked": False}
    assert client.get("/api/v1/pages", auth=right, environ_base=ROOM).status_code == 200
    assert client.post("/api/v1/users/nobody/unlock", auth=FACILITATOR).status_code == 404


def test_an_address_is_stopped_only_at_a_ceiling_of_failed_logins(app: Flask) -> None:
    accounts = app.extensions["cowiki"].accounts
    for number in range(ADDRESS_FAILURES.count):  # a script trying names, from one address
        assert accounts.log_in(f"guess {number}", "wrong", "192.0.2.66") is None
    refused = log_in(app.test_client(), "reader", PASSWORDS["reader"], address="192.0.2.66")
    assert refused.status_code == 429 and "from your network" in refused.text
    assert log_in(app.test_client(), "reader", PASSWORDS["reader"]).status_code == 302


# -- behind a reverse proxy --------------------------------------------------------------

def proxied_app(data_dir: Path, **settings: object) -> Flask:
    app = create_app({"data_dir": str(data_dir), **settings})
    app.config["TESTING"] = True
    return app


def refuse_joins_from(client: FlaskClient, forwarded_for: str, count: int) -> list[int]:
    """Refused joins through the proxy (one REMOTE_ADDR) for a client at `forwarded_for`."""
    return [client.post("/api/v1/register", json={"invite": f"guess-{n}", "name": "X",
                                                  "email": "x@example.org", "password": "x"},
                        environ_base={"REMOTE_ADDR": "10.0.0.1"},
                        headers={"X-Forwarded-For": forwarded_for}).status_code
            for n in range(count)]


def test_a_trusted_proxy_makes_x_forwarded_for_the_address(tmp_path: Path) -> None:
    client = proxied_app(tmp_path / "d", trusted_proxies=1).test_client()
    assert refuse_joins_from(client, "203.0.113.5", ADDRESS_FAILURES.count + 1)[-1] == 429
    assert refuse_joins_from(client, "203.0.113.6", 1) == [404]  # someone else: not stopped


def test_without_trusted_proxies_x_forwarded_for_is_ignored(tmp_path: Path) -> None:
    client = proxied_app(tmp_path / "d").test_client()
    assert refuse_joins_from(client, "203.0.113.5", ADDRESS_FAILURES.count + 1)[-1] == 429
    assert refuse_joins_from(client, "203.0.113.6", 1) == [429]  # a forged header dodges nothing


# -- forgotten passwords -----------------------------------------------------------------

def reset_url(client: FlaskClient, name: str) -> str:
    made = client.post(f"/api/v1/users/{name}/password-reset", auth=FACILITATOR)
    assert made.status_code == 201, made.text
    url = str(made.json["url"])
    assert re.fullmatch(r"http://localhost/reset/[\w-]{40,}", url), url
    return url.removeprefix("http://localhost")


def test_a_reset_link_works_once_and_ends_the_other_sessions(app: Flask,
                                                            client: FlaskClient) -> None:
    laptop = app.test_client()
    assert log_in(laptop, "participant", PASSWORDS["participant"]).status_code == 302
    link = reset_url(client, "participant")
    phone = app.test_client()
    form = phone.get(link)
    assert form.status_code == 200 and "New password for participant" in form.text
    assert log_in(app.test_client(), "participant", PASSWORDS["participant"]).status_code == 302
    done = post_form(phone, link, new="a brand new pass phrase")
    assert done.status_code == 302
    assert "participant" in phone.get("/account").text  # logged in on the phone
    assert laptop.get("/account").status_code == 302  # and out on the laptop
    assert log_in(app.test_client(), "participant", PASSWORDS["participant"]).status_code == 401
    assert log_in(app.test_client(), "participant",
                  "a brand new pass phrase").status_code == 302
    again = app.test_client().get(link)
    assert again.status_code == 404 and "already used" in again.text
    assert post_form(app.test_client(), link, new="another new phrase").status_code == 404


def test_an_expired_or_replaced_reset_link_says_so(app: Flask, client: FlaskClient,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resets, "RESET_SECONDS", 0)
    expired = reset_url(client, "reader")
    answer = client.get(expired)
    assert answer.status_code == 404 and "has expired" in answer.text
    monkeypatch.undo()
    older, newer = reset_url(client, "reader"), reset_url(client, "reader")
    assert "already used, or a newer one was made" in client.get(older).text
    assert client.get(newer).status_code == 200
    unknown = client.get("/reset/not-a-real-link")
    assert unknown.status_code == 404 and "unknown" in unknown.text


def test_a_weak_password_on_a_reset_link_keeps_the_link(app: Flask, client: FlaskClient) -> None:
    link = reset_url(client, "reader")
    weak = post_form(client, link, new="password")
    assert weak.status_code == 400 and "most common" in weak.text
    assert post_form(client, link, new="a sturdy pass phrase").status_code == 302


def test_a_reset_lifts_a_lock(app: Flask, client: FlaskClient) -> None:
    for _ in range(ACCOUNT_FAILURES.count):
        log_in(client, "reader", "wrong password")
    link = reset_url(client, "reader")
    assert post_form(app.test_client(), link, new="a sturdy pass phrase").status_code == 302
    assert log_in(app.test_client(), "reader", "a sturdy pass phrase").status_code == 302


def test_facilitator_makes_a_reset_link_on_the_people_page(app: Flask, client: FlaskClient,
                                                           login_as: Login) -> None:
    login_as("facilitator")
    reader_id = app.extensions["cowiki"].accounts.by_name("reader").id
    page = client.get("/admin/users").text
    assert f'action="/admin/users/{reader_id}/password-reset"' in page
    shown = post_form(client, f"/admin/users/{reader_id}/password-reset")
    assert shown.status_code == 200 and 'data-copy="reset-url"' in shown.text
    link = re.search(r'value="http://localhost(/reset/[\w-]+)"', shown.text)
    assert link is not None
    assert "New password for reader" in app.test_client().get(link.group(1)).text


def test_people_change_their_own_password_by_api(app: Flask, client: FlaskClient) -> None:
    old = ("reader", PASSWORDS["reader"])
    wrong = client.post("/api/v1/account/password", auth=old,
                        json={"old": "not it", "new": "a sturdy pass phrase"})
    assert wrong.status_code == 403
    weak = client.post("/api/v1/account/password", auth=old,
                       json={"old": PASSWORDS["reader"], "new": "reader"})
    assert weak.status_code == 400
    changed = client.post("/api/v1/account/password", auth=old,
                          json={"old": PASSWORDS["reader"], "new": "a sturdy pass phrase"})
    assert changed.status_code == 200 and changed.json["changed"] is True
    assert client.get("/api/v1/pages", auth=old).status_code == 401
    assert client.get("/api/v1/pages",
                      auth=("reader", "a sturdy pass phrase")).status_code == 200


def test_changing_ones_password_in_the_browser_keeps_this_session(
        app: Flask, client: FlaskClient, login_as: Login) -> None:
    login_as("participant")
    response = client.post("/api/v1/account/password", headers={"X-CSRF-Token": csrf(client)},
                           json={"old": PASSWORDS["participant"], "new": "a sturdy pass phrase"})
    assert response.status_code == 200
    assert client.get("/account").status_code == 200
    again = client.post("/api/v1/account/password", headers={"X-CSRF-Token": csrf(client)},
                        json={"old": "a sturdy pass phrase", "new": "an even better phrase"})
    assert again.status_code == 200  # the page's CSRF token still works


# -- the invite page and the welcome page ------------------------------------------------

def test_the_invite_page_shows_a_qr_code_and_a_copy_button(app: Flask, client: FlaskClient,
                                                           login_as: Login) -> None:
    login_as("facilitator")
    made = post_form(client, "/admin/invites", role="participant", expires_days="1",
                     max_uses="35")
    assert made.status_code == 302 and made.location.startswith("/admin/invites/")
    page = client.get(made.location)
    code = made.location.rsplit("/", 1)[1]
    url = f"http://localhost/invite/{code}"
    assert page.status_code == 200
    assert f'value="{url}"' in page.text and 'data-copy="invite-url"' in page.text
    assert qr_svg(url) in page.text and '<svg viewBox="' in page.text
    assert not re.search(r'src="(https?:)?//', page.text)  # nothing from another site
    assert "this computer only" in page.text  # localhost: phones cannot open it
    assert f'href="/admin/invites/{code}"' in client.get("/admin/users").text


def test_newcomer_lands_on_a_welcome_page_in_the_invite_pages_language(
        app: Flask, client: FlaskClient) -> None:
    code = make_invite(client)
    invite_page = app.test_client().get(f"/invite/{code}", headers=DUTCH)
    assert 'lang="nl"' in invite_page.text
    browser, joined = join(app, code, "Sanne", **DUTCH)
    assert joined.location == "/welcome"
    welcome = browser.get("/welcome", headers=DUTCH)
    assert welcome.status_code == 200 and 'lang="nl"' in welcome.text
    assert "Welkom, Sanne" in welcome.text and "Lees eerst Home" in welcome.text
    assert "Bewerken" in welcome.text and "Opslaan" in welcome.text
    english = join(app, code, "Sam")[0].get("/welcome")
    assert "Read Home first" in english.text and "Comment under a page" in english.text
