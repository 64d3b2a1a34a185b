"""Ending a session ends it for every copy of its cookie."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORDS, post_form

Login = Callable[[str], FlaskClient]


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """A second browser holding a copy of the client's session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def logged_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


def test_copied_cookie_stops_working_after_logout(app: Flask, client: FlaskClient,
                                                  login_as: Login) -> None:
    login_as("participant")
    copy = copy_of(app, client)
    assert logged_in(copy)
    post_form(client, "/logout")
    assert not logged_in(copy)
    assert copy.get("/account").location.startswith("/login")


def test_logout_ends_only_that_browsers_session(app: Flask, login_as: Login) -> None:
    laptop = login_as("participant")
    phone = app.test_client()
    post_form(phone, "/login", name="participant", password=PASSWORDS["participant"])
    post_form(laptop, "/logout")
    assert logged_in(phone)


def test_password_change_logs_out_other_browsers_but_not_this_one(
        app: Flask, client: FlaskClient, login_as: Login) -> None:
    login_as("participant")
    copy = copy_of(app, client)
    response = post_form(client, "/account/password", current=PASSWORDS["participant"],
                         new="a much better pass phrase")
    assert response.status_code == 302
    assert logged_in(client)
    assert not logged_in(copy)


def test_role_change_and_deactivation_end_the_persons_sessions(
        app: Flask, client: FlaskClient, login_as: Login) -> None:
    accounts = app.extensions["cowiki"].accounts
    login_as("participant")
    participant = copy_of(app, client)
    login_as("reader")
    reader = copy_of(app, client)
    login_as("facilitator")
    post_form(client, f"/admin/users/{accounts.by_name('participant').id}", role="reader")
    post_form(client, f"/admin/users/{accounts.by_name('reader').id}", active="0")
    post_form(client, f"/admin/users/{accounts.by_name('reader').id}", active="1")
    assert not logged_in(participant)
    assert not logged_in(reader)


def test_log_out_everywhere_from_the_account_page(app: Flask, client: FlaskClient,
                                                  login_as: Login) -> None:
    login_as("reader")
    other = copy_of(app, client)
    page = client.get("/account").text
    assert 'action="/account/sessions/end"' in page
    response = post_form(client, "/account/sessions/end")
    assert response.location.startswith("/login")
    assert "You were logged out on every device." in client.get(response.location).text
    assert not logged_in(client)
    assert not logged_in(other)
