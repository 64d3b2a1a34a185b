"""Search in the browser and the JSON API, and under a real multi-worker server."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable

import requests
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORDS, LiveServer

DUTCH = "# Onze klanten\n\nDe klanten zijn tevreden over de aanpak van het project.\n"


def basic(role: str) -> dict[str, str]:
    token = base64.b64encode(f"{role}:{PASSWORDS[role]}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def put_page(client: FlaskClient, path: str, markdown: str) -> None:
    response = client.put(f"/api/v1/pages/{path}", json={"markdown": markdown},
                          headers=basic("participant"))
    assert response.status_code in (200, 201), response.text


def test_search_box_is_on_every_page(login_as: Callable[[str], FlaskClient]) -> None:
    client = login_as("reader")
    for url in ("/p/Home", "/pages", "/changes"):
        html = client.get(url).text
        assert 'role="search"' in html and 'action="/search"' in html


def test_results_page_shows_title_snippet_path_author_and_date(
        client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    put_page(client, "hoofdstuk-1/klanten", DUTCH)
    html = login_as("reader").get("/search?q=klant").text
    assert "Onze klanten" in html
    assert "<mark>klanten</mark>" in html
    assert "hoofdstuk-1/klanten" in html
    assert "Last changed by participant" in html and "<time" in html


def test_unknown_word_offers_did_you_mean(client: FlaskClient,
                                          login_as: Callable[[str], FlaskClient]) -> None:
    put_page(client, "klanten", DUTCH)
    html = login_as("reader").get("/search?q=klnaten").text
    assert "No pages match" in html and "Did you mean" in html


def test_results_page_links_to_next_page(client: FlaskClient,
                                         login_as: Callable[[str], FlaskClient]) -> None:
    for n in range(12):
        put_page(client, f"map/pagina-{n}", f"# Pagina {n}\n\nDe klanten van {n}.\n")
    reader = login_as("reader")
    first = reader.get("/search?q=klanten").text
    assert "12 pages found" in first and 'rel="next"' in first
    second = reader.get("/search?q=klanten&page=2").text
    assert 'rel="prev"' in second and 'rel="next"' not in second


def test_api_search_answers_the_documented_shape(client: FlaskClient) -> None:
    put_page(client, "klanten", DUTCH)
    response = client.get("/api/v1/search?q=klant&lang=nl&limit=5", headers=basic("reader"))
    assert response.status_code == 200
    data = response.get_json()
    assert data["total"] == 1
    hit = data["results"][0]
    assert {"path", "title", "snippet", "score"} <= set(hit)
    assert hit["path"] == "klanten" and "<mark>" in hit["snippet"] and hit["score"] > 0


def test_api_snippet_is_sanitised(client: FlaskClient) -> None:
    put_page(client, "hostile", "# Hostile\n\nalert <script>alert(1)</script>\n\n"
                                "`<script>alert(2)</script>` <img src=x onerror=alert(3)> alert\n")
    data = client.get("/api/v1/search?q=alert", headers=basic("reader")).get_json()
    snippet = data["results"][0]["snippet"]
    assert "<script" not in snippet.lower() and "onerror" not in snippet
    assert "&lt;script&gt;" in snippet


def test_api_search_needs_a_login(client: FlaskClient) -> None:
    assert client.get("/api/v1/search?q=klant").status_code == 401


def test_api_search_refuses_bad_arguments(client: FlaskClient) -> None:
    assert client.get("/api/v1/search?q=x&lang=fr", headers=basic("reader")).status_code == 400
    assert client.get("/api/v1/search?q=x&limit=0", headers=basic("reader")).status_code == 400


UNREADABLE_QUERIES = ["NOT NOT a", "NOT NOT NOT klanten", "date:>2020", "text:klanten",
                      " ".join(f"kz{n}q~" for n in range(11))]
ODD_QUERIES = ['"klanten zijn', "(klanten", "klanten)", "title:", "author:", "path:", "AND",
               "OR", "NOT", "klanten AND", "a OR OR b", "((( )", "klant~9", "~", "^", "*"]


def test_api_search_answers_400_with_a_message_for_an_unreadable_query(
        client: FlaskClient) -> None:
    for query in UNREADABLE_QUERIES:
        response = client.get("/api/v1/search", query_string={"q": query},
                              headers=basic("reader"))
        assert response.status_code == 400, query
        assert response.get_json()["error"] == "invalid_input" and response.get_json()["message"]


def test_results_page_answers_400_with_a_message_for_an_unreadable_query(
        login_as: Callable[[str], FlaskClient]) -> None:
    response = login_as("reader").get("/search", query_string={"q": "NOT NOT a"})
    assert response.status_code == 400
    assert "This search cannot be read" in response.text


def test_odd_queries_answer_results_never_an_error(client: FlaskClient) -> None:
    put_page(client, "klanten", DUTCH)
    for query in ODD_QUERIES:
        for url in ("/api/v1/search", "/search"):
            response = client.get(url, query_string={"q": query}, headers=basic("reader"))
            assert response.status_code == 200, (url, query, response.text[:200])


def test_quoted_author_of_several_words_answers_results(client: FlaskClient) -> None:
    put_page(client, "klanten", DUTCH)
    for query, paths in (('author:"participant"', ["klanten"]), ('author:"B. de Vries"', [])):
        response = client.get("/api/v1/search", query_string={"q": query},
                              headers=basic("reader"))
        assert response.status_code == 200, response.text
        assert [hit["path"] for hit in response.get_json()["results"]] == paths


def test_api_index_lists_search(app: Flask, client: FlaskClient) -> None:
    assert "GET /api/v1/search" in client.get("/api/v1").get_json()["endpoints"]


def search_total(session: requests.Session, url: str, query: str) -> int:
    response = session.get(f"{url}/api/v1/search", params={"q": query}, timeout=30)
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


def test_saves_in_two_workers_while_searching_raise_no_error(live_server: LiveServer) -> None:
    url, errors = live_server.url, []

    def writer(prefix: str) -> None:
        session = live_server.session("participant")
        for n in range(8):
            response = session.put(f"{url}/api/v1/pages/{prefix}-{n}",
                                   json={"markdown": f"# {prefix} {n}\n\nwoord{prefix}{n} tekst\n"},
                                   timeout=30)
            if response.status_code not in (200, 201):
                errors.append(f"save {response.status_code} {response.text}")

    def searcher(stop: threading.Event) -> None:
        session = live_server.session("reader")
        while not stop.is_set():
            response = session.get(f"{url}/api/v1/search", params={"q": "tekst"}, timeout=30)
            if response.status_code != 200:
                errors.append(f"search {response.status_code} {response.text}")

    stop = threading.Event()
    reading = threading.Thread(target=searcher, args=(stop,))
    writers = [threading.Thread(target=writer, args=(p,)) for p in ("alfa", "beta")]
    reading.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    reading.join()
    assert errors == []
    session = live_server.session("reader")
    deadline = time.monotonic() + 2.0
    while search_total(session, url, "tekst") < 16 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert search_total(session, url, "tekst") == 16
    assert search_total(session, url, "woordbeta7") == 1
    log = (live_server.data_dir / "server.log").read_text()
    assert "LockError" not in log and "Traceback" not in log


def test_an_edit_is_searchable_within_two_seconds(live_server: LiveServer) -> None:
    url = live_server.url
    session = live_server.session("participant")
    assert search_total(session, url, "welkom") == 1  # the start page: index built, workers warm
    saved = time.monotonic()
    response = session.put(f"{url}/api/v1/pages/nieuw",
                           json={"markdown": "# Nieuw\n\nZonnepanelen op het dak.\n"}, timeout=30)
    assert response.status_code == 201
    while search_total(session, url, "zonnepanelen") == 0:
        assert time.monotonic() - saved < 2.0
        time.sleep(0.05)
