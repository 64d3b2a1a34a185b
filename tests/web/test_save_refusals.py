"""A refused save keeps the editor open with the person's text and the reason beside it."""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from storage.names import suggest_page_name
from tests.conftest import csrf, post_form

TEXT = "# Markt\n\nMijn zorgvuldig geschreven alinea over de markt.\n"


def freeze(app: Flask, scope: str) -> None:
    services = app.extensions["cowiki"]
    services.phases.set_frozen(scope, True, services.accounts.by_name("facilitator"))


def test_a_save_to_a_page_frozen_meanwhile_keeps_the_editor_and_the_text(
        app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    login_as("participant")
    base = client.get("/api/v1/pages/Home").get_json()["revision"]
    freeze(app, "Home")
    refused = post_form(client, "/p/Home/edit", markdown=TEXT, base_revision=base)
    assert refused.status_code == 423
    assert 'id="editor-form"' in refused.text
    assert "Mijn zorgvuldig geschreven alinea" in refused.text  # the text is still there
    assert 'id="save-error"' in refused.text and "frozen" in refused.text


def test_a_too_large_save_keeps_the_editor_and_the_text(
        app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    login_as("participant")
    limit = app.extensions["cowiki"].settings.max_page_bytes
    big = TEXT + "x" * limit
    refused = post_form(client, "/p/Markt/edit", markdown=big, base_revision="")
    assert refused.status_code == 413
    assert 'id="editor-form"' in refused.text and "Mijn zorgvuldig" in refused.text
    assert str(limit) in refused.text.replace(".", "").replace(",", "")


def test_the_editors_script_gets_the_page_address_and_the_saved_notice_waits_there(
        client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    login_as("participant")
    saved = client.post("/p/Markt/edit", data={"markdown": TEXT, "base_revision": ""},
                        headers={"X-Requested-With": "fetch", "X-CSRF-Token": csrf(client)})
    assert saved.status_code == 200 and saved.get_json()["url"] == "/p/Markt"
    assert "Mijn zorgvuldig" in client.get("/p/Markt").text


def test_a_frozen_page_offers_participants_no_edit_rename_or_delete(
        app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    freeze(app, "Home")
    login_as("participant")
    page = client.get("/p/Home").text
    assert "/p/Home/edit" not in page and "/p/Home/rename" not in page
    assert "frozen" in page


def test_a_frozen_page_still_offers_facilitators_their_edit(
        app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    freeze(app, "Home")
    login_as("facilitator")
    assert "/p/Home/edit" in client.get("/p/Home").text


@pytest.mark.parametrize(("typed", "name"), [
    ("Wat is marketing?", "Wat is marketing"), ("Data: de basis", "Data de basis"),
    ("Café & co", "Café co"), ("v1.2 notities", "v1-2 notities"),
    ("🚀 Lancering", "Lancering"),
    ("Hoofdstuk 1/Wat is marketing?", "Hoofdstuk 1/Wat is marketing"),
])
def test_natural_chapter_names_keep_their_title_on_a_safe_page_name(
        client: FlaskClient, login_as: Callable[[str], FlaskClient], typed: str, name: str) -> None:
    login_as("participant")
    started = post_form(client, "/new", name=typed)
    assert started.status_code == 302
    editor = client.get(started.location)
    assert editor.status_code == 200
    title = typed.rsplit("/", 1)[-1]
    assert f"# {title}" in html.unescape(editor.text)
    saved = post_form(client, f"/p/{name}/edit", markdown=f"# {title}\n\nTekst.\n",
                      base_revision="")
    assert saved.status_code == 302
    assert client.get("/api/v1/pages/" + name).get_json()["title"] == title


@pytest.mark.parametrize("typed", ["../../etc/passwd", "edit", "api/x", "???", ".verborgen"])
def test_hostile_names_stay_refused_with_a_suggestion_where_one_is_safe(
        client: FlaskClient, login_as: Callable[[str], FlaskClient], typed: str) -> None:
    login_as("participant")
    refused = post_form(client, "/new", name=typed)
    assert refused.status_code == 200 and 'role="alert"' in refused.text
    suggestion = suggest_page_name(typed)
    if suggestion:
        assert html.escape(suggestion) in refused.text


def test_a_page_just_over_the_limit_gets_the_page_limit_reason_not_a_generic_one(
        app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    login_as("participant")
    limit = app.extensions["cowiki"].settings.max_page_bytes
    refused = post_form(client, "/p/Markt/edit", markdown="y" * (limit + 10), base_revision="")
    assert refused.status_code == 413 and 'id="editor-form"' in refused.text
