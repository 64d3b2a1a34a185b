"""The facilitator's control room, the report badge, asking before one-click
deletes and restores, and links to pages that do not exist yet."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORDS, post_form

Login = Callable[[str], FlaskClient]
AUTH = {role: (role, password) for role, password in PASSWORDS.items()}


def save(client: FlaskClient, name: str, text: str, role: str = "participant") -> None:
    current = client.get(f"/api/v1/pages/{name}", auth=AUTH[role])
    base = current.json["revision"] if current.status_code == 200 else None
    response = client.put(f"/api/v1/pages/{name}", json={"markdown": text,
                                                          "base_revision": base},
                          auth=AUTH[role])
    assert response.status_code in (200, 201), response.text


def report_a_comment(client: FlaskClient) -> int:
    made = client.post("/api/v1/pages/Home/comments", json={"body": "Koop mijn boek!"},
                       auth=AUTH["participant"])
    comment_id = int(made.json["id"])
    reported = client.post(f"/api/v1/comments/{comment_id}/report",
                           json={"reason": "self-promotion"}, auth=AUTH["facilitator"])
    assert reported.status_code < 400, reported.text
    return comment_id


def test_control_room_is_for_facilitators_only(login_as: Login) -> None:
    client = login_as("participant")
    assert client.get("/admin/room").status_code == 403


def test_control_room_shows_who_edits_what_and_reports_waiting(app: Flask,
                                                                login_as: Login) -> None:
    client = app.test_client()
    beating = client.post("/api/v1/pages/Hoofdstuk 1/presence", json={"dirty": True},
                          auth=AUTH["participant"])
    assert beating.status_code < 400, beating.text
    report_a_comment(client)
    page = login_as("facilitator").get("/admin/room")
    assert page.status_code == 200
    editing = page.text.split('id="editing"')[1].split("</section>")[0]
    assert "participant" in editing and "Hoofdstuk 1" in editing
    waiting = page.text.split('id="reports"')[1].split("</section>")[0]
    assert "Koop mijn boek!" in waiting
    assert "unsaved changes" in editing


def test_control_room_lists_untouched_pages_and_latest_activity(client: FlaskClient,
                                                                 login_as: Login) -> None:
    save(client, "Idee", "# Idee\n\nEen plan.")
    page = login_as("facilitator").get("/admin/room").text
    untouched = page.split('id="untouched"')[1].split("</section>")[0]
    assert "/p/Home" in untouched and "/p/Idee" not in untouched
    latest = page.split('id="latest"')[1].split("</section>")[0]
    assert "/p/Idee" in latest
    # A sentence, as on the recent changes page: "participant created Idee".
    assert re.search(r"<strong>participant</strong> created <a href=\"/p/Idee\">Idee</a>", latest)


def test_page_outside_the_outline_is_added_with_one_click(client: FlaskClient,
                                                          login_as: Login) -> None:
    save(client, "Kansen", "# Kansen\n")
    client.put("/api/v1/outline", json={"title": "Whitepaper", "pages": ["Home"]},
               auth=AUTH["facilitator"])  # the facilitator took it out
    room = login_as("facilitator").get("/admin/room").text
    outside = room.split('id="outside"')[1].split("</section>")[0]
    assert "/p/Kansen" in outside and "/p/Home" not in outside
    added = post_form(client, "/admin/room/outline", page="Kansen")
    assert added.status_code == 302
    assert client.get("/api/v1/outline", auth=AUTH["reader"]).json["pages"] == ["Home", "Kansen"]
    after = client.get("/admin/room").text.split('id="outside"')[1].split("</section>")[0]
    assert "/p/Kansen" not in after


def test_freeze_switch_per_chapter_folder_in_the_control_room(client: FlaskClient,
                                                               login_as: Login) -> None:
    save(client, "Hoofdstuk 2/Inleiding", "# Inleiding\n")
    login_as("facilitator")
    page = client.get("/admin/room").text
    assert 'name="scope" value="wiki"' in page and 'value="Hoofdstuk 2"' in page
    frozen = post_form(client, "/admin/phases", scope="Hoofdstuk 2", frozen="1",
                       next="/admin/room#freeze")
    assert frozen.headers["Location"].endswith("/admin/room#freeze")
    freeze = client.get("/admin/room").text.split('id="freeze"')[1]
    chapter = freeze.split("Hoofdstuk 2</strong>")[1].split("</li>")[0]
    assert "frozen" in chapter and ">Unfreeze<" in chapter


def test_control_room_refreshes_with_a_static_script_only(login_as: Login) -> None:
    page = login_as("facilitator").get("/admin/room").text
    assert re.search(r'<script src="/static/room\.js[^"]*" defer></script>', page)
    assert 'data-refresh="15"' in page
    assert not re.search(r"<script(?![^>]*\b(src|type=\"application/json\"))[^>]*>", page)


def test_facilitator_sees_reports_waiting_next_to_admin(client: FlaskClient,
                                                        login_as: Login) -> None:
    report_a_comment(client)
    header = login_as("facilitator").get("/p/Home").text.split("</header>")[0]
    assert re.search(r'>Admin <span class="badge"[^>]*><span aria-hidden="true">1</span>',
                     header)


def test_participant_sees_no_report_badge(client: FlaskClient, login_as: Login) -> None:
    report_a_comment(client)
    header = login_as("participant").get("/p/Home").text.split("</header>")[0]
    assert 'class="badge"' not in header


def test_deleting_a_comment_asks_first(client: FlaskClient, login_as: Login) -> None:
    client.post("/api/v1/pages/Home/comments", json={"body": "Weg ermee"},
                auth=AUTH["participant"])
    page = login_as("participant").get("/p/Home/comments").text
    form = re.search(r'<form[^>]*/comments/\d+/delete"[^>]*>', page)
    assert form and 'data-confirm="Delete this comment?' in form.group(0)
    assert re.search(r'<script src="/static/confirm\.js[^"]*" defer>', page)


def test_restore_in_history_shows_a_confirmation_page_first(client: FlaskClient,
                                                            login_as: Login) -> None:
    save(client, "Plan", "# Plan\n\nEerste versie.")
    first = client.get("/api/v1/pages/Plan", auth=AUTH["reader"]).json["revision"]
    save(client, "Plan", "# Plan\n\nTweede versie.")
    login_as("participant")
    history = client.get("/p/Plan/history").text
    assert f'href="/p/Plan/revert?revision={first}"' in history
    ask = client.get(f"/p/Plan/revert?revision={first}")
    assert ask.status_code == 200 and "Restore this version of “Plan”?" in ask.text
    assert "Tweede versie." in client.get("/p/Plan").text  # asking changed nothing
    done = post_form(client, "/p/Plan/revert", revision=first)
    assert done.status_code == 302
    assert "Eerste versie." in client.get("/p/Plan").text


def test_deleting_a_page_asks_on_its_own_page(client: FlaskClient, login_as: Login) -> None:
    save(client, "Weg", "# Weg\n")
    ask = login_as("participant").get("/p/Weg/delete")
    assert ask.status_code == 200 and "Delete “Weg”?" in ask.text
    assert client.get("/p/Weg").status_code == 200


def test_link_to_a_page_that_does_not_exist_yet_looks_different(app: Flask, client: FlaskClient,
                                                                login_as: Login) -> None:
    save(client, "Doelen", "# Doelen\n\nZie [[Home]], [[Strategie]] en [later](/p/Later#kop).")
    page = login_as("reader").get("/p/Doelen").text
    missing = re.findall(r'<a [^>]*class="[^"]*\bmissing\b[^"]*"[^>]*>', page)
    assert len(missing) == 2
    assert all('title="does not exist yet"' in a for a in missing)
    assert any("/p/Strategie" in a for a in missing) and any("/p/Later" in a for a in missing)
    home = re.search(r'<a class="wikilink" href="/p/Home"[^>]*>', page)
    assert home and "missing" not in home.group(0)
    save(app.test_client(), "Strategie", "# Strategie\n")
    again = client.get("/p/Doelen").text
    assert len(re.findall(r'class="[^"]*\bmissing\b', again)) == 1  # no stale cached mark


def test_preview_marks_links_to_missing_pages(client: FlaskClient, login_as: Login) -> None:
    login_as("participant")
    html = post_form(client, "/preview", markdown="[[Home]] en [[Nog niet]]").text
    assert re.search(r'<a [^>]*href="/p/Nog%20niet"[^>]*class="wikilink missing"', html) or \
        re.search(r'class="wikilink missing"[^>]*href="/p/Nog%20niet"', html)
    assert html.count("missing") == 1
