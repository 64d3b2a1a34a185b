"""The workshop in the browser and the API: who may do what, and what each person sees."""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORDS, csrf, post_form
from wiki.invites import INVITE_FAILURES

Login = Callable[[str], FlaskClient]
AUTH = {role: (role, password) for role, password in PASSWORDS.items()}

# (method, url, json body, least role) for every new route; "public" needs no login.
ROUTES = [
    ("GET", "/api/v1/pages/Home/comments", None, "reader"),
    ("POST", "/api/v1/pages/Home/comments", {"body": "Hoi"}, "participant"),
    ("PATCH", "/api/v1/comments/1", {"body": "Hoi!"}, "participant"),
    ("POST", "/api/v1/comments/2/report", {"reason": "other"}, "participant"),
    ("POST", "/api/v1/comments/1/reactions", {"kind": "agree"}, "participant"),
    ("POST", "/api/v1/comments/1/hide", {"reason": "test"}, "facilitator"),
    ("POST", "/api/v1/comments/1/unhide", {}, "facilitator"),
    ("GET", "/api/v1/pages/Home/reactions", None, "reader"),
    ("POST", "/api/v1/pages/Home/reactions", {"kind": "idea"}, "participant"),
    ("GET", "/api/v1/pages/Home/presence", None, "reader"),
    ("POST", "/api/v1/pages/Home/presence", {"dirty": False}, "participant"),
    ("GET", "/api/v1/pages/Home/draft", None, "participant"),
    ("PUT", "/api/v1/pages/Home/draft", {"markdown": "x"}, "participant"),
    ("GET", "/api/v1/freeze", None, "reader"),
    ("PUT", "/api/v1/freeze", {"scope": "Elders", "frozen": True}, "facilitator"),
    ("GET", "/api/v1/invites", None, "facilitator"),
    ("POST", "/api/v1/invites", {"role": "reader", "expires_days": 1, "max_uses": 1},
     "facilitator"),
    ("GET", "/p/Home/comments", None, "reader"),
    ("GET", "/people/participant", None, "reader"),
    ("GET", "/changes.atom", None, "reader"),
    ("GET", "/admin/users", None, "facilitator"),
    ("GET", "/admin/phases", None, "facilitator"),
    ("DELETE", "/api/v1/comments/1", None, "participant"),
]
ORDER = ["anonymous", "reader", "participant", "facilitator"]


def comment(client: FlaskClient, body: str = "Mee eens", role: str = "participant") -> int:
    response = client.post("/api/v1/pages/Home/comments", json={"body": body}, auth=AUTH[role])
    assert response.status_code == 201, response.text
    return int(response.json["id"])


@pytest.mark.parametrize("role", ORDER)
def test_new_routes_follow_the_role_table(client: FlaskClient, role: str) -> None:
    own = role if role in ("participant", "facilitator") else "participant"
    comment(client, "Comment 1, by the caller where they can comment", role=own)
    comment(client, "Comment 2, by someone else", role=ORDER[5 - ORDER.index(own)])
    for method, url, body, needed in ROUTES:
        auth = AUTH.get(role)
        response = client.open(url, method=method, json=body, auth=auth)
        allowed = ORDER.index(role) >= ORDER.index(needed)
        if allowed:
            assert response.status_code < 400, (role, method, url, response.text)
        elif role == "anonymous":
            assert response.status_code in (302, 401), (method, url, response.status_code)
        else:
            assert response.status_code == 403, (role, method, url, response.status_code)


def test_invite_link_registers_a_person_who_lands_logged_in(client: FlaskClient) -> None:
    made = client.post("/api/v1/invites", json={"role": "participant", "expires_days": 7,
                                                "max_uses": 1}, auth=AUTH["facilitator"])
    assert made.status_code == 201 and made.json["url"].endswith(f"/invite/{made.json['code']}")
    page = client.get(f"/invite/{made.json['code']}")
    assert "invited as <strong>participant</strong>" in page.text
    response = post_form(client, f"/invite/{made.json['code']}", name="Anna de Vries",
                         email="anna@example.org", password="anna-pass-1")
    assert response.status_code == 302
    assert "Anna de Vries" in client.get("/p/Home").text
    assert client.get(f"/invite/{made.json['code']}").status_code == 404  # used up


def test_register_api_needs_a_valid_invite_and_is_throttled(client: FlaskClient) -> None:
    invite = {"role": "reader", "expires_days": 1, "max_uses": 5}
    code = client.post("/api/v1/invites", json=invite, auth=AUTH["facilitator"]).json["code"]
    ok = client.post("/api/v1/register", json={"invite": code, "name": "Bert",
                                               "email": "bert@example.org",
                                               "password": "bert-pass-1"})
    assert ok.status_code == 201 and ok.json["role"] == "reader"
    assert client.get("/api/v1/pages", auth=("Bert", "bert-pass-1")).status_code == 200
    answers = [client.post("/api/v1/register", json={"invite": "nope", "name": "X",
                                                     "email": "x@example.org",
                                                     "password": "xxxx-xxxx"}).status_code
               for _ in range(INVITE_FAILURES.count + 1)]
    assert answers[0] == 404 and answers[-2] == 404 and answers[-1] == 429


def test_facilitator_deactivates_and_reactivates_a_person(client: FlaskClient,
                                                          login_as: Login, app: Flask) -> None:
    target = app.extensions["cowiki"].accounts.by_name("participant")
    login_as("facilitator")
    assert "participant@example.org" in client.get("/admin/users").text
    post_form(client, f"/admin/users/{target.id}", active="0")
    api = app.test_client()
    assert api.get("/api/v1/pages", auth=AUTH["participant"]).status_code == 401
    post_form(client, f"/admin/users/{target.id}", active="1", role="facilitator")
    assert api.get("/api/v1/invites", auth=AUTH["participant"]).status_code == 200


def test_page_shows_comment_count_and_sanitised_comments(client: FlaskClient,
                                                         login_as: Login) -> None:
    login_as("participant")
    response = post_form(client, "/p/Home/comments",
                         body="**Sterk** punt <img src=x onerror=alert(1)>")
    assert response.status_code == 302 and "#comment-" in response.location
    page = client.get("/p/Home").text
    assert "Comments: 1" in page and "<strong>Sterk</strong>" in page
    assert "onerror" not in page


def test_comment_form_without_csrf_token_is_refused(client: FlaskClient, login_as: Login) -> None:
    login_as("participant")
    assert client.post("/p/Home/comments", data={"body": "vervalst"}).status_code == 400
    assert "vervalst" not in client.get("/p/Home").text


def test_hidden_comment_is_shown_marked_to_facilitators_only(client: FlaskClient,
                                                             login_as: Login) -> None:
    number = comment(client, "Koop mijn cursus")
    assert client.post(f"/api/v1/comments/{number}/hide", json={"reason": "reclame"},
                       auth=AUTH["participant"]).status_code == 403
    login_as("facilitator")
    post_form(client, f"/comments/{number}/hide", reason="reclame")
    facilitator_view = client.get("/p/Home").text
    assert "Koop mijn cursus" in facilitator_view and "reclame" in facilitator_view
    post_form(client, "/logout")
    login_as("participant")
    assert "Koop mijn cursus" not in client.get("/p/Home").text


def test_reply_edit_report_and_react_through_plain_forms(client: FlaskClient,
                                                         login_as: Login) -> None:
    number = comment(client, "Vraag", role="facilitator")
    login_as("participant")
    post_form(client, "/p/Home/comments", body="Antwoord", parent=str(number))
    [thread] = client.get("/api/v1/pages/Home/comments").json
    reply = thread["replies"][0]["id"]
    post_form(client, f"/comments/{reply}/edit", body="Beter antwoord")
    post_form(client, f"/comments/{number}/report", reason="off-topic")
    post_form(client, f"/comments/{number}/react", kind="heart")
    post_form(client, "/p/Home/reactions", kind="agree")
    [thread] = client.get("/api/v1/pages/Home/comments").json
    assert thread["replies"][0]["body"] == "Beter antwoord"
    assert thread["reactions"]["heart"] == 1
    assert client.get("/api/v1/pages/Home/reactions").json["mine"] == ["agree"]
    assert post_form(client, f"/comments/{number}/edit", body="kaping").status_code == 403


def test_frozen_page_refuses_participant_saves_with_423(client: FlaskClient, app: Flask,
                                                        login_as: Login) -> None:
    assert client.put("/api/v1/freeze", json={"scope": "Home", "frozen": True},
                      auth=AUTH["facilitator"]).status_code == 200
    base = client.get("/api/v1/pages/Home", auth=AUTH["reader"]).json["revision"]
    refused = client.put("/api/v1/pages/Home", json={"markdown": "# X\n", "base_revision": base},
                         auth=AUTH["participant"])
    assert refused.status_code == 423 and refused.json["error"] == "frozen"
    login_as("participant")
    assert "is frozen" in client.get("/p/Home").text
    refused = post_form(client, "/p/Home/edit", markdown="# Y\n", base_revision=base)
    assert refused.status_code == 423
    saved = app.test_client().put("/api/v1/pages/Home", auth=AUTH["facilitator"],
                                  json={"markdown": "# Z\n", "base_revision": base})
    assert saved.status_code == 200


def test_freeze_form_freezes_the_whole_wiki_and_back(client: FlaskClient, login_as: Login) -> None:
    login_as("facilitator")
    post_form(client, "/admin/phases", scope="wiki", frozen="1")
    assert client.get("/api/v1/freeze").json["frozen"][0]["scope"] == "wiki"
    assert "The whole wiki is frozen" in client.get("/pages").text
    post_form(client, "/admin/phases", scope="wiki", frozen="0")
    assert client.get("/api/v1/freeze").json["frozen"] == []


def test_editors_see_each_other_and_unsaved_changes(client: FlaskClient, login_as: Login) -> None:
    client.post("/api/v1/pages/Home/presence", json={"dirty": True}, auth=AUTH["participant"])
    answer = client.post("/api/v1/pages/Home/presence", json={"dirty": False},
                         auth=AUTH["facilitator"])
    assert answer.json["editors"] == [{"name": "participant", "dirty": True,
                                       "since": answer.json["editors"][0]["since"]}]
    client.post("/api/v1/pages/Home/presence", json={"leaving": True}, auth=AUTH["participant"])
    assert [e["name"] for e in client.get("/api/v1/pages/Home/presence",
                                          auth=AUTH["reader"]).json["editors"]] == ["facilitator"]
    login_as("reader")
    assert "is editing this page right now" in client.get("/p/Home").text


def test_draft_survives_until_a_real_save(client: FlaskClient, login_as: Login) -> None:
    login_as("participant")
    token = csrf(client)
    client.put("/api/v1/pages/Home/draft", json={"markdown": "# Home\n\nhalf\n"},
               headers={"X-CSRF-Token": token})
    assert client.get("/api/v1/pages/Home/draft").json["markdown"] == "# Home\n\nhalf\n"
    assert "half" not in client.get("/api/v1/pages/Home").json["markdown"]
    base = client.get("/api/v1/pages/Home").json["revision"]
    assert post_form(client, "/p/Home/edit", markdown="# Home\n\nheel\n",
                     base_revision=base).status_code == 302
    assert client.get("/api/v1/pages/Home/draft").status_code == 204


def test_pages_list_sorts_by_most_discussed(client: FlaskClient, login_as: Login) -> None:
    client.put("/api/v1/pages/Zebra", json={"markdown": "# Zebra\n"}, auth=AUTH["participant"])
    client.post("/api/v1/pages/Zebra/comments", json={"body": "!"}, auth=AUTH["participant"])
    login_as("reader")
    listing = client.get("/pages?sort=discussed").text
    assert listing.index("/p/Zebra") < listing.index("/p/Home")


def test_atom_feed_lists_recent_changes(client: FlaskClient) -> None:
    client.put("/api/v1/pages/Plan", json={"markdown": "# Plan\n", "message": "Plan <b>"},
               auth=AUTH["participant"])
    response = client.get("/changes.atom", auth=AUTH["reader"])
    assert response.mimetype == "application/atom+xml"
    root = etree.fromstring(response.data)  # noqa: S314 (our own feed)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in root.findall("a:entry", ns)]
    assert titles[0] == "Plan created by participant"


def test_person_page_lists_their_saves_and_comments(client: FlaskClient, login_as: Login) -> None:
    client.put("/api/v1/pages/Idee", json={"markdown": "# Idee\n"}, auth=AUTH["participant"])
    comment(client, "Mijn eerste opmerking")
    login_as("reader")
    page = client.get("/people/participant").text
    assert "/p/Idee" in page and "Mijn eerste opmerking" in page
    assert "/people/participant" in client.get("/contributors").text
    assert client.get("/people/nobody").status_code == 404


def test_comments_of_a_deleted_page_stay_reachable_from_its_history(client: FlaskClient,
                                                                    login_as: Login) -> None:
    made = client.put("/api/v1/pages/Weg", json={"markdown": "# Weg\n"}, auth=AUTH["participant"])
    client.post("/api/v1/pages/Weg/comments", json={"body": "Blijft staan"},
                auth=AUTH["participant"])
    client.delete("/api/v1/pages/Weg", json={"base_revision": made.json["revision"]},
                  auth=AUTH["participant"])
    login_as("reader")
    history = client.get("/p/Weg/history").text
    link = re.search(r'href="(/p/Weg/comments)"', history)
    assert link and "Blijft staan" in client.get(link.group(1)).text
