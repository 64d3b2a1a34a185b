"""Suggested changes over the web and the API: roles, CSRF, the word diff, deciding."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import csrf, post_form
from wiki.phases import set_frozen

TEXT = "# Plan\n\nWe meet on Monday.\n\nThe budget is small.\n"


def git_log(data_dir: Path, fmt: str) -> str:
    return subprocess.run(["git", "--git-dir", str(data_dir / "repo.git"), "log", "-1",
                           f"--format={fmt}", "main"], check=True, capture_output=True,
                          text=True).stdout.strip()


def make_plan(app: Flask) -> str:
    """Page Plan, written by the facilitator; returns its revision."""
    wiki = app.extensions["cowiki"]
    author = wiki.accounts.by_name("facilitator").person
    revision: str = wiki.pages.save("Plan", TEXT, None, author).revision
    return revision


def suggest(client: FlaskClient, base: str, text: str, note: str = "") -> str:
    """Suggest from the editor form; returns the suggestion's address."""
    response = post_form(client, "/p/Plan/suggestions", markdown=text, base_revision=base,
                         message=note)
    assert response.status_code == 302, response.text
    return str(response.location)


def test_editor_has_a_suggest_button_that_posts_the_form_elsewhere(
        app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    make_plan(app)
    login_as("participant")
    page = client.get("/p/Plan/edit").text
    assert 'id="suggest"' in page and 'formaction="/p/Plan/suggestions"' in page
    assert "suggestions.js" in page


def test_participant_suggests_and_others_see_the_word_diff(
        app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    base = make_plan(app)
    login_as("participant")
    where = suggest(client, base, TEXT.replace("Monday", "Tuesday"), "Tuesday is better")
    assert where.startswith("/p/Plan/suggestions/")
    post_form(client, "/logout")
    login_as("reader")
    page = client.get(where).text
    assert "<del>Monday</del>" in page and "<ins>Tuesday</ins>" in page
    assert "Tuesday is better" in page and 'id="accept"' not in page
    assert "Suggestions (1)" in client.get("/p/Plan").text
    assert client.get("/api/v1/pages/Plan").json["markdown"] == TEXT


def test_facilitator_accepts_and_git_credits_the_suggester(
        app: Flask, data_dir: Path, client: FlaskClient,
        login_as: Callable[[str], FlaskClient]) -> None:
    base = make_plan(app)
    login_as("participant")
    where = suggest(client, base, TEXT.replace("small", "enough"))
    post_form(client, "/logout")
    login_as("facilitator")
    assert 'id="accept"' in client.get(where).text
    response = post_form(client, f"{where}/accept", reason="Good")
    assert response.status_code == 302
    assert git_log(data_dir, "%an|%cn") == "participant|facilitator"
    assert "The budget is enough." in client.get("/api/v1/pages/Plan").json["markdown"]
    assert "Accepted by facilitator." in client.get(where).text


def test_reject_with_a_reason_over_the_api(app: Flask, client: FlaskClient) -> None:
    base = make_plan(app)
    made = client.post("/api/v1/pages/Plan/suggestions", auth=("participant",
                       "participant-pass-1"), json={"markdown": TEXT + "\nMore.\n",
                                                    "base_revision": base, "note": "more"})
    assert made.status_code == 201, made.text
    number = made.json["id"]
    assert made.json["ref"] == f"refs/suggestions/{number}" and made.json["state"] == "open"
    auth = ("facilitator", "facilitator-pass-1")
    assert client.post(f"/api/v1/suggestions/{number}/reject", auth=auth,
                       json={}).status_code == 400
    done = client.post(f"/api/v1/suggestions/{number}/reject", auth=auth,
                       json={"reason": "Not now"})
    assert done.json["state"] == "rejected" and done.json["reason"] == "Not now"
    shown = client.get(f"/api/v1/suggestions/{number}", auth=auth).json
    assert "+More." in shown["diff"] and shown["markdown"].endswith("More.\n")


def test_stale_conflict_over_the_api_answers_409_and_the_suggester_redoes_it(
        app: Flask, client: FlaskClient) -> None:
    base = make_plan(app)
    who = ("participant", "participant-pass-1")
    number = client.post("/api/v1/pages/Plan/suggestions", auth=who, json={
        "markdown": TEXT.replace("Monday", "Tuesday"), "base_revision": base}).json["id"]
    facilitator = ("facilitator", "facilitator-pass-1")
    head = client.put("/api/v1/pages/Plan", auth=facilitator, json={
        "markdown": TEXT.replace("Monday", "Friday"), "base_revision": base}).json["revision"]
    refused = client.post(f"/api/v1/suggestions/{number}/accept", auth=facilitator, json={})
    assert refused.status_code == 409 and refused.json["suggestion"]["state"] == "conflict"
    assert not client.get(f"/api/v1/suggestions/{number}", auth=who).json["applies"]
    redone = client.put(f"/api/v1/suggestions/{number}", auth=who, json={
        "markdown": TEXT.replace("Monday", "Tuesday"), "base_revision": head})
    assert redone.json["state"] == "open" and redone.json["applies"]
    accepted = client.post(f"/api/v1/suggestions/{number}/accept", auth=facilitator, json={})
    assert accepted.status_code == 200 and accepted.json["state"] == "accepted"


def test_conflict_view_offers_the_suggester_a_redo(
        app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    base = make_plan(app)
    login_as("participant")
    where = suggest(client, base, TEXT.replace("Monday", "Tuesday"))
    wiki = app.extensions["cowiki"]
    wiki.pages.save("Plan", TEXT.replace("Monday", "Friday"), base,
                    wiki.accounts.by_name("facilitator").person)
    page = client.get(where).text
    assert 'id="suggestion-conflict"' in page and f'href="{where}/redo"' in page
    redo = client.get(f"{where}/redo").text
    assert "Tuesday" in redo and wiki.repo.head() in redo


def test_readers_cannot_suggest_and_the_suggester_cannot_accept_alone(
        app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    base = make_plan(app)
    login_as("reader")
    refused = post_form(client, "/p/Plan/suggestions", markdown=TEXT + "x\n",
                        base_revision=base)
    assert refused.status_code == 403
    assert 'id="suggest"' not in client.get("/p/Plan").text
    post_form(client, "/logout")
    login_as("participant")
    where = suggest(client, base, TEXT + "x\n")
    assert 'id="accept"' not in client.get(where).text
    assert post_form(client, f"{where}/accept").status_code == 403
    assert post_form(client, f"{where}/reject", reason="mine").status_code == 403


def test_frozen_page_refuses_a_suggestion_and_keeps_the_editor(
        app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    base = make_plan(app)
    set_frozen(app.extensions["cowiki"].db, "Plan", True, None)
    login_as("participant")
    refused = post_form(client, "/p/Plan/suggestions", markdown=TEXT + "my words\n",
                        base_revision=base)
    assert refused.status_code == 423 and "my words" in refused.text
    api = client.post("/api/v1/pages/Plan/suggestions", json={"markdown": TEXT + "x\n"},
                      headers={"X-CSRF-Token": csrf(client)})
    assert api.status_code == 423


def test_suggestion_forms_need_a_csrf_token(
        app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    base = make_plan(app)
    login_as("facilitator")
    where = suggest(client, base, TEXT + "x\n")
    assert client.post("/p/Plan/suggestions", data={"markdown": TEXT + "y\n",
                                                    "base_revision": base}).status_code == 400
    assert client.post(f"{where}/reject", data={"reason": "x"}).status_code == 400
    number = where.rsplit("/", 1)[1]
    assert client.post(f"/api/v1/suggestions/{number}/reject",
                       json={"reason": "x"}).status_code in (400, 403)
    assert client.get(where).status_code == 200
    assert client.post(f"/api/v1/suggestions/{number}/reject", json={"reason": "x"},
                       headers={"X-CSRF-Token": csrf(client)}).json["state"] == "rejected"


def test_suggestion_of_another_page_or_unknown_id_is_404(
        app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    base = make_plan(app)
    login_as("participant")
    where = suggest(client, base, TEXT + "x\n")
    number = where.rsplit("/", 1)[1]
    assert client.get(f"/p/Home/suggestions/{number}").status_code == 404
    assert client.get("/p/Plan/suggestions/999999").status_code == 404
    assert client.get(f"/p/Plan/suggestions/{2**70}").status_code == 404
    assert client.get("/api/v1/suggestions/0").status_code == 404
