"""The suggester hears whether their suggestion went in: accepted, turned down or no longer
applying, in the list, the API and e-mail, in English and Dutch; old rows still read."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert

from app import create_app
from tests.conftest import PASSWORDS, csrf, free_port, post_form
from tests.wiki.test_mailer import SmtpServer, body
from wiki.dbschema import notifications

TEXT = "# Plan\n\nWe meet on Monday.\n\nThe budget is small.\n"


def login(app: Flask, role: str, language: str = "en") -> FlaskClient:
    client = app.test_client()
    assert post_form(client, "/language", lang=language).status_code == 302
    response = client.post("/login", data={"name": role, "password": PASSWORDS[role],
                                           "csrf_token": csrf(client)})
    assert response.status_code == 302, response.text
    return client


def make_plan(app: Flask) -> str:
    """Page Plan, written by the facilitator; returns its revision."""
    wiki = app.extensions["cowiki"]
    author = wiki.accounts.by_name("facilitator").person
    revision: str = wiki.pages.save("Plan", TEXT, None, author).revision
    return revision


def suggest(app: Flask, base: str, text: str) -> str:
    """The participant suggests `text` from the editor form; returns its address."""
    response = post_form(login(app, "participant"), "/p/Plan/suggestions", markdown=text,
                         base_revision=base, message="Tuesday suits more people")
    assert response.status_code == 302, response.text
    return str(response.location)


def listed(client: FlaskClient) -> list[str]:
    """The sentences and quotes on the person's notifications page, as they read."""
    html = client.get("/notifications").text
    found = re.findall(r'<a class="what"[^>]*>(.*?)</a>|<blockquote>(.*?)</blockquote>', html)
    return [what or quote for what, quote in found]


def api_list(client: FlaskClient, language: str = "en") -> dict[str, Any]:
    """GET /api/v1/notifications in `language` (a script without Accept-Language gets English)."""
    data = client.get("/api/v1/notifications", headers={"Accept-Language": language}).get_json()
    assert isinstance(data, dict)
    return data


def test_the_suggester_reads_that_their_suggestion_was_accepted(app: Flask) -> None:
    where = suggest(app, make_plan(app), TEXT.replace("Monday", "Tuesday"))
    accepted = post_form(login(app, "facilitator"), f"{where}/accept", reason="Good idea")
    assert accepted.status_code == 302
    english = login(app, "participant")
    assert listed(english) == ["facilitator accepted your suggestion for Plan", "Good idea"]
    api = api_list(english)
    assert api["unread"] == 1
    note = api["notifications"][0]
    assert note["kind"] == "suggestion_accepted" and note["quote"] == "Good idea"
    assert note["text"] == "facilitator accepted your suggestion for Plan"
    assert note["link"] == where
    dutch = login(app, "participant", "nl")
    sentence = "facilitator heeft je voorstel voor Plan overgenomen"
    assert listed(dutch)[0] == sentence
    assert api_list(dutch, "nl")["notifications"][0]["text"] == sentence


def test_the_suggester_reads_that_their_suggestion_was_turned_down_and_why(
        app: Flask) -> None:
    where = suggest(app, make_plan(app), TEXT.replace("Monday", "Tuesday"))
    turned_down = post_form(login(app, "facilitator"), f"{where}/reject",
                            reason="Monday is fixed")
    assert turned_down.status_code == 302
    english = login(app, "participant")
    assert listed(english) == ["facilitator turned down your suggestion for Plan",
                               "Monday is fixed"]
    note = api_list(english)["notifications"][0]
    assert note["kind"] == "suggestion_rejected" and note["quote"] == "Monday is fixed"
    dutch = listed(login(app, "participant", "nl"))
    assert dutch == ["facilitator heeft je voorstel voor Plan niet overgenomen",
                     "Monday is fixed"]


def test_a_stale_suggestion_merged_on_accept_is_still_accepted(app: Flask) -> None:
    base = make_plan(app)
    where = suggest(app, base, TEXT.replace("Monday", "Tuesday"))
    wiki = app.extensions["cowiki"]
    wiki.pages.save("Plan", TEXT.replace("small", "big enough"), base,
                    wiki.accounts.by_name("facilitator").person)
    assert post_form(login(app, "facilitator"), f"{where}/accept").status_code == 302
    markdown = wiki.pages.get("Plan").markdown
    assert "Tuesday" in markdown and "big enough" in markdown
    assert listed(login(app, "participant")) == [
        "facilitator accepted your suggestion for Plan"]


def test_a_conflict_says_so_and_the_redone_suggestion_is_then_accepted(app: Flask) -> None:
    base = make_plan(app)
    where = suggest(app, base, TEXT.replace("Monday", "Tuesday"))
    wiki = app.extensions["cowiki"]
    head = wiki.pages.save("Plan", TEXT.replace("Monday", "Friday"), base,
                           wiki.accounts.by_name("facilitator").person).revision
    facilitator = login(app, "facilitator")
    assert post_form(facilitator, f"{where}/accept").status_code == 302
    participant = login(app, "participant")
    assert listed(participant) == [
        "facilitator wanted to accept your suggestion for Plan, but the page changed in the"
        " same place: you can redo it on the current text"]
    assert "accepted your" not in participant.get("/notifications").text
    redone = post_form(participant, f"{where}/redo", markdown=TEXT.replace("Monday", "Tuesday"),
                       base_revision=head)
    assert redone.status_code == 302
    assert post_form(facilitator, f"{where}/accept").status_code == 302
    assert listed(participant)[0] == "facilitator accepted your suggestion for Plan"


def test_notifications_of_the_old_kind_still_read_as_before(app: Flask) -> None:
    wiki = app.extensions["cowiki"]
    participant = wiki.accounts.by_name("participant")
    facilitator = wiki.accounts.by_name("facilitator")
    wiki.db.connect().execute(insert(notifications).values(
        user_id=participant.id, kind="suggestion_decided", page="Plan",
        actor_id=facilitator.id, summary="Tuesday suits more people",
        link="/p/Plan/suggestions/1", created=time.time()))
    assert listed(login(app, "participant")) == [
        "facilitator decided on your suggestion for Plan"]
    assert listed(login(app, "participant", "nl")) == [
        "facilitator besliste over je voorstel voor Plan"]


def test_the_e_mail_says_accepted_or_turned_down_in_the_persons_language(
        data_dir: Path) -> None:
    smtp = SmtpServer(free_port())
    smtp.up()
    app = create_app({"data_dir": str(data_dir), "smtp_host": "127.0.0.1",
                      "smtp_port": smtp.port, "smtp_starttls": False,
                      "smtp_from": "wiki@example.org", "base_url": "https://wiki.example.org/"})
    app.config["TESTING"] = True
    wiki = app.extensions["cowiki"]
    try:
        for role, password in PASSWORDS.items():
            wiki.accounts.add_user(role, f"{role}@example.org", role, password)
        wiki.accounts.set_language(wiki.accounts.by_name("participant"), "nl")
        base = make_plan(app)
        first = suggest(app, base, TEXT.replace("Monday", "Tuesday"))
        second = suggest(app, base, TEXT.replace("small", "tiny"))
        chooses = post_form(login(app, "participant"), "/account/notifications",
                            email="immediate")
        assert chooses.status_code == 302
        facilitator = login(app, "facilitator")
        assert post_form(facilitator, f"{first}/accept", reason="Goed").status_code == 302
        assert post_form(facilitator, f"{second}/reject", reason="Te krap").status_code == 302
        wiki.mailer.run_once()
        mails = {str(m["Subject"]): body(m) for m in smtp.inbox.wait_for(2)}
        accepted = "cowiki: facilitator heeft je voorstel voor Plan overgenomen"
        turned_down = "cowiki: facilitator heeft je voorstel voor Plan niet overgenomen"
        assert set(mails) == {accepted, turned_down}
        assert "“Goed”" in mails[accepted] and "“Te krap”" in mails[turned_down]
        assert f"https://wiki.example.org{first}" in mails[accepted]
    finally:
        wiki.mailer.stop()
        smtp.down()
