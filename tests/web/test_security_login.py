"""The login throttle counts per account; HTTP Basic neither leaks to browsers nor skips CSRF."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORDS, csrf, post_form

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0",
           "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
WRITER = ("participant", PASSWORDS["participant"])


def test_throttle_counts_the_account_however_its_name_is_typed(client: FlaskClient) -> None:
    spellings = [" reader", "reader ", "READER", "Ｒｅａｄｅｒ", "reader"]
    for attempt in range(10):  # from ten addresses, so only the account's count can add up
        name = spellings[attempt % len(spellings)]
        client.post("/login", data={"name": name, "password": "wrong-pass",
                                    "csrf_token": csrf(client)},
                    environ_base={"REMOTE_ADDR": f"10.0.0.{attempt}"})
    response = post_form(client, "/login", name="reader", password=PASSWORDS["reader"])
    assert response.status_code == 429


def test_throttled_basic_login_on_a_browser_page_answers_429(client: FlaskClient) -> None:
    for _ in range(10):
        client.get("/p/Home", auth=("reader", "wrong-pass"))
    response = client.get("/p/Home", auth=("reader", "wrong-pass"))
    assert response.status_code == 429
    assert "Too many failed logins" in response.text


def test_api_challenges_scripts_but_not_browsers(client: FlaskClient) -> None:
    script = client.get("/api/v1/pages", headers={"User-Agent": "curl/8.5.0"})
    assert script.status_code == 401
    assert script.headers["WWW-Authenticate"].startswith("Basic")
    browser = client.get("/api/v1/pages", headers=BROWSER)
    assert browser.status_code == 401
    assert "WWW-Authenticate" not in browser.headers
    fetch = client.get("/api/v1/pages", headers={"Sec-Fetch-Mode": "cors",
                                                 "Sec-Fetch-Site": "same-origin"})
    assert "WWW-Authenticate" not in fetch.headers


def test_git_clone_still_gets_a_basic_challenge(client: FlaskClient) -> None:
    response = client.get("/wiki.git/info/refs?service=git-upload-pack",
                          headers={"User-Agent": "git/2.43.0"})
    assert response.status_code == 401
    assert "Basic" in response.headers["WWW-Authenticate"]


def test_cross_site_write_with_cached_basic_credentials_is_refused(
        client: FlaskClient) -> None:
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"},
                    {"Origin": "null"}):
        response = client.post("/api/v1/pages/Home/comments", json={"body": "spam"},
                               auth=WRITER, headers=headers)
        assert response.status_code == 400, headers
    assert client.get("/api/v1/pages/Home/comments", auth=WRITER).json == []


def test_same_site_and_script_writes_with_basic_still_work(client: FlaskClient) -> None:
    for headers in ({}, {"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://localhost"},
                    {"User-Agent": "curl/8.5.0"}):
        response = client.post("/api/v1/pages/Home/comments", json={"body": "ok"},
                               auth=WRITER, headers=headers)
        assert response.status_code == 201, headers


def test_cross_site_form_post_with_basic_credentials_is_refused(app: Flask,
                                                                client: FlaskClient) -> None:
    before = client.get("/api/v1/pages/Home", auth=WRITER).json["markdown"]
    response = client.post("/p/Home/edit", data={"markdown": "defaced"}, auth=WRITER,
                           headers={**BROWSER, "Origin": "https://evil.example"})
    assert response.status_code == 400
    assert client.get("/api/v1/pages/Home", auth=WRITER).json["markdown"] == before
