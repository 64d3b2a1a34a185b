"""The bell, the notifications list, following pages, the e-mail choice and name completion."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from tests.conftest import PASSWORDS, csrf, post_form

AUTH = {role: (role, password) for role, password in PASSWORDS.items()}
ORDER = ["anonymous", "reader", "participant", "facilitator"]
# (method, url, form or json body, least role) for every route of this feature.
ROUTES = [
    ("GET", "/notifications", None, "reader"),
    ("POST", "/notifications/1/read", {}, "reader"),
    ("POST", "/notifications/read-all", {}, "reader"),
    ("POST", "/p/Home/follow", {"follow": "1"}, "reader"),
    ("POST", "/account/notifications", {"email": "none"}, "reader"),
    ("GET", "/api/v1/people?prefix=p", None, "reader"),
    ("GET", "/api/v1/notifications", None, "reader"),
    ("POST", "/api/v1/notifications/read", {"all": True}, "reader"),
]
FORMS = [(m, u, b) for m, u, b, _ in ROUTES if m == "POST" and not u.startswith("/api/")]


def login(app: Flask, role: str) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"name": role, "password": PASSWORDS[role],
                                           "csrf_token": csrf(client)})
    assert response.status_code == 302
    return client


def bell(client: FlaskClient) -> str:
    html = client.get("/p/Home").text
    found = re.search(r'<a class="bell[^"]*" id="bell".*?</a>', html, re.DOTALL)
    assert found, html
    return found.group(0)


def mention(app: Flask, text: str = "Wat vind jij, @reader?") -> int:
    participant = login(app, "participant")
    response = post_form(participant, "/p/Home/comments", body=text)
    assert response.status_code == 302, response.text
    return int(response.location.rpartition("comment-")[2])


@pytest.mark.parametrize("role", ORDER)
def test_every_route_follows_the_role_table(client: FlaskClient, role: str) -> None:
    for method, url, body, needed in ROUTES:
        if url.startswith("/api/"):
            response = client.open(url, method=method, json=body, auth=AUTH.get(role))
        else:
            response = client.open(url, method=method, data=body, auth=AUTH.get(role))
        if ORDER.index(role) >= ORDER.index(needed):
            assert response.status_code < 400, (role, method, url, response.text)
        else:
            assert response.status_code in (302, 401), (method, url, response.status_code)


@pytest.mark.parametrize(("method", "url", "body"), FORMS)
def test_forms_without_a_csrf_token_are_refused(app: Flask, method: str, url: str,
                                                body: dict[str, str]) -> None:
    reader = login(app, "reader")
    assert reader.open(url, method=method, data=body).status_code == 400


def test_json_writes_from_the_browser_need_the_csrf_header(app: Flask) -> None:
    reader = login(app, "reader")
    url = "/api/v1/notifications/read"
    assert reader.post(url, json={"all": True}).status_code == 400
    sent = reader.post(url, json={"all": True}, headers={"X-CSRF-Token": csrf(reader)})
    assert sent.status_code == 200


def test_a_mention_lights_the_bell_and_the_list_links_to_the_comment(app: Flask) -> None:
    reader = login(app, "reader")
    assert "badge" not in bell(reader)
    comment_id = mention(app)
    assert '<span class="badge" aria-hidden="true">1</span>' in bell(reader)
    page = reader.get("/notifications").text
    assert f'href="/p/Home#comment-{comment_id}"' in page
    assert "participant mentioned you on Home" in page
    assert "Wat vind jij, @reader?" in page
    html = reader.get("/p/Home").text
    assert '<a href="/people/reader" rel="noopener noreferrer nofollow">@reader</a>' in html


def test_marking_read_one_and_all(app: Flask) -> None:
    reader = login(app, "reader")
    mention(app, "@reader een")
    mention(app, "@reader twee")
    listed = reader.get("/api/v1/notifications").json
    assert listed["unread"] == 2
    newest = listed["notifications"][0]["id"]
    assert post_form(reader, f"/notifications/{newest}/read").status_code == 302
    assert reader.get("/api/v1/notifications").json["unread"] == 1
    assert '<span class="badge" aria-hidden="true">1</span>' in bell(reader)
    post_form(reader, "/notifications/read-all")
    assert reader.get("/api/v1/notifications").json["unread"] == 0
    assert "badge" not in bell(reader)


def test_nobody_marks_someone_elses_notification_read(app: Flask) -> None:
    reader = login(app, "reader")
    mention(app)
    [note] = reader.get("/api/v1/notifications").json["notifications"]
    facilitator = login(app, "facilitator")
    post_form(facilitator, f"/notifications/{note['id']}/read")
    facilitator.post("/api/v1/notifications/read", json={"ids": [note["id"]]},
                     headers={"X-CSRF-Token": csrf(facilitator)})
    assert reader.get("/api/v1/notifications").json["unread"] == 1


@pytest.mark.parametrize("body", [{"ids": ["x"]}, {"ids": []}, {"ids": [0]}, {"all": "yes"},
                                  {"ids": [2**63]}, {"ids": 5}])
def test_bad_read_requests_answer_400(client: FlaskClient, body: object) -> None:
    response = client.post("/api/v1/notifications/read", json=body, auth=AUTH["reader"])
    assert response.status_code == 400
    assert response.json["error"]


def test_a_follower_hears_of_a_save_and_can_unfollow(app: Flask) -> None:
    reader = login(app, "reader")
    assert ">Follow</button>" in reader.get("/p/Home").text
    assert post_form(reader, "/p/Home/follow", follow="1").location == "/p/Home"
    assert ">Unfollow</button>" in reader.get("/p/Home").text
    participant = login(app, "participant")
    page = participant.get("/api/v1/pages/Home").json
    saved = participant.put("/api/v1/pages/Home", json={
        "markdown": page["markdown"] + "\nMeer.\n", "base_revision": page["revision"]},
        headers={"X-CSRF-Token": csrf(participant)})
    assert saved.status_code == 200, saved.text
    [note] = reader.get("/api/v1/notifications").json["notifications"]
    assert note["text"] == "participant changed Home, which you follow"
    assert note["link"] == "/p/Home"
    post_form(reader, "/p/Home/follow", follow="0")
    assert ">Follow</button>" in reader.get("/p/Home").text


def test_following_a_missing_page_is_404(app: Flask) -> None:
    assert post_form(login(app, "reader"), "/p/Nergens/follow", follow="1").status_code == 404


def test_name_completion_lists_people_by_any_word(client: FlaskClient, app: Flask) -> None:
    app.extensions["cowiki"].accounts.add_user("Anna de Vries", "anna@example.org",
                                               "participant", "a long enough password")
    ask = lambda prefix: client.get(f"/api/v1/people?prefix={prefix}",  # noqa: E731
                                    auth=AUTH["reader"])
    assert ask("vr").json == {"people": ["Anna de Vries"]}
    assert ask("@PART").json == {"people": ["participant"]}
    assert len(ask("").json["people"]) == 4
    assert ask("x" * 41).status_code == 400


def test_the_account_page_offers_e_mail_only_when_the_wiki_sends_it(
        app: Flask, tmp_path: Path, database_url: str, request: pytest.FixtureRequest) -> None:
    assert "This wiki sends no e-mail" in login(app, "reader").get("/account").text
    # A second wiki, with a database of its own on PostgreSQL too.
    own = request.getfixturevalue("postgres").fresh_database() if database_url else ""
    mailing = create_app({"data_dir": str(tmp_path / "mail"), "smtp_host": "127.0.0.1",
                          "smtp_port": 1, "database_url": own})
    mailing.extensions["cowiki"].accounts.add_user("reader", "r@example.org", "reader",
                                                   PASSWORDS["reader"])
    try:
        reader = login(mailing, "reader")
        assert 'value="none" checked' in reader.get("/account").text
        assert post_form(reader, "/account/notifications", email="digest").status_code == 302
        assert 'value="digest" checked' in reader.get("/account").text
        assert post_form(reader, "/account/notifications", email="hourly").status_code == 400
    finally:
        mailer = mailing.extensions["cowiki"].mailer
        assert mailer is not None
        mailer.stop()
