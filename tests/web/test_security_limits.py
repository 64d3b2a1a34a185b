"""Pages cannot be framed or run foreign scripts; bodies and busy writers are bounded."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient

from app import create_app
from tests.conftest import PASSWORDS, ROOT, post_form

WRITER = ("participant", PASSWORDS["participant"])


def test_html_pages_forbid_framing_and_foreign_scripts(client: FlaskClient) -> None:
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert re.search(r"script-src 'self' 'nonce-[\w-]+'(;|$)", policy)
    assert "img-src 'self' data:" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_each_page_gets_its_own_script_nonce(client: FlaskClient) -> None:
    first = client.get("/login").headers["Content-Security-Policy"]
    assert first != client.get("/login").headers["Content-Security-Policy"]


def test_templates_have_no_inline_scripts_or_event_handlers() -> None:
    found = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        found += [f"{template.name}: {m}" for m in re.findall(r"\son[a-z]+\s*=", text)]
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'type="application/json"' not in tag \
                    and "nonce=" not in tag:
                found.append(f"{template.name}: {tag}")
    assert found == []


def test_invite_and_feed_links_use_the_configured_base_url(tmp_path: Path) -> None:
    app = create_app({"data_dir": str(tmp_path / "d"),
                      "base_url": "https://wiki.example.org/"})
    app.extensions["cowiki"].accounts.add_user("facilitator", "f@example.org", "facilitator",
                                               PASSWORDS["facilitator"])
    client = app.test_client()
    auth, forged = ("facilitator", PASSWORDS["facilitator"]), {"Host": "evil.example"}
    made = client.post("/api/v1/invites", json={"role": "reader"}, auth=auth, headers=forged)
    assert made.json["url"] == f"https://wiki.example.org/invite/{made.json['code']}"
    listed = client.get("/admin/users", auth=auth, headers=forged).text
    assert f'value="https://wiki.example.org/invite/{made.json["code"]}"' in listed
    feed = client.get("/changes.atom", auth=auth, headers=forged).text
    assert "evil.example" not in feed and 'href="https://wiki.example.org/changes.atom"' in feed


def test_deeply_nested_json_is_a_400_not_a_500(client: FlaskClient) -> None:
    for depth in (100, 1000, 100_000):
        body = "[" * depth + "]" * depth
        response = client.post("/api/v1/pages/Home/comments", data=body, auth=WRITER,
                               content_type="application/json")
        assert response.status_code == 400, depth


def test_a_flood_of_comments_is_answered_429_with_retry_after(tmp_path: Path) -> None:
    app = create_app({"data_dir": str(tmp_path / "d"), "rate_comments": 3})
    app.extensions["cowiki"].accounts.add_user(*WRITER[:1], "p@example.org", "participant",
                                               WRITER[1])
    client = app.test_client()
    answers = [client.post("/api/v1/pages/Home/comments", json={"body": f"c{n}"},
                           auth=WRITER).status_code for n in range(5)]
    assert answers == [201, 201, 201, 429, 429]
    limited = client.post("/api/v1/pages/Home/comments", json={"body": "x"}, auth=WRITER)
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert len(client.get("/api/v1/pages/Home/comments", auth=WRITER).json) == 3


def test_default_limits_leave_room_for_a_lively_workshop(
        client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    login_as("participant")
    for _ in range(30):
        assert post_form(client, "/p/Home/reactions", kind="agree").status_code == 302
    for n in range(30):
        response = post_form(client, "/p/Home/comments", body=f"point {n}")
        assert response.status_code == 302, n
    assert post_form(client, "/p/Home/comments", body="one too many").status_code == 429


def test_limits_are_per_person(client: FlaskClient) -> None:
    for n in range(30):
        client.post("/api/v1/pages/Home/comments", json={"body": f"c{n}"}, auth=WRITER)
    other = ("facilitator", PASSWORDS["facilitator"])
    response = client.post("/api/v1/pages/Home/comments", json={"body": "mine"}, auth=other)
    assert response.status_code == 201
