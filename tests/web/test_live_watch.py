"""Readers may open a page's editor to watch live editing read-only, and only then."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from tests.conftest import PASSWORDS

READER = ("reader", PASSWORDS["reader"])
PARTICIPANT = ("participant", PASSWORDS["participant"])


def wiki(data_dir: Path, **settings: object) -> Flask:
    app = create_app({"data_dir": str(data_dir), **settings})
    app.config["TESTING"] = True
    for role, password in PASSWORDS.items():
        app.extensions["cowiki"].accounts.add_user(role, f"{role}@example.org", role, password)
    return app


def test_a_reader_gets_the_editor_read_only_without_a_save_button(client: FlaskClient) -> None:
    page = client.get("/p/Home/edit", auth=READER)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "readonly" in html and 'id="message"' not in html and 'name="base_revision"' in html
    assert "live.bundle.js" in html
    writer = client.get("/p/Home/edit", auth=PARTICIPANT).get_data(as_text=True)
    assert 'id="message"' in writer and " readonly" not in writer


def test_a_reader_may_not_open_a_missing_page_nor_saves(client: FlaskClient) -> None:
    assert client.get("/p/Nieuw/edit", auth=READER).status_code == 403
    refused = client.post("/p/Home/edit", auth=READER, data={"markdown": "# Nee\n"})
    assert refused.status_code == 403


def test_without_live_editing_readers_keep_out_of_the_editor(tmp_path: Path) -> None:
    client = wiki(tmp_path / "data", live=False).test_client()
    assert client.get("/p/Home/edit", auth=READER).status_code == 403
    assert client.get("/p/Home/edit", auth=PARTICIPANT).status_code == 200


def test_anonymous_readers_of_a_public_wiki_are_asked_to_log_in(tmp_path: Path) -> None:
    client = wiki(tmp_path / "data", public_read=True).test_client()
    assert client.get("/p/Home").status_code == 200
    asked = client.get("/p/Home/edit")
    assert asked.status_code in (302, 401) and "/login" in asked.headers.get("Location", "/login")
