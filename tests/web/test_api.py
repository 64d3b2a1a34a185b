"""The JSON API answers as DESIGN.md's contract says."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from tests.conftest import csrf

Login = Callable[[str], FlaskClient]


@pytest.fixture
def api(login_as: Login) -> FlaskClient:
    client = login_as("participant")
    client.environ_base["HTTP_X_CSRF_TOKEN"] = csrf(client)
    return client


def test_index_lists_every_api_route(api: FlaskClient) -> None:
    endpoints = api.get("/api/v1").json["endpoints"]
    for expected in ["GET /api/v1/pages", "PUT /api/v1/pages/<path:path>",
                     "DELETE /api/v1/pages/<path:path>", "POST /api/v1/pages/<path:path>/rename",
                     "GET /api/v1/pages/<path:path>/history", "GET /api/v1/pages/<path:path>/blame",
                     "GET /api/v1/pages/<path:path>/diff", "GET /api/v1/changes",
                     "GET /api/v1/contributors", "GET /healthz"]:
        assert expected in endpoints


def test_put_creates_then_saves_with_etag(api: FlaskClient) -> None:
    created = api.put("/api/v1/pages/Visie", json={"markdown": "# Visie\n\nTekst.\n"})
    assert created.status_code == 201
    revision = created.json["revision"]
    page = api.get("/api/v1/pages/Visie")
    assert page.json["title"] == "Visie" and page.json["revision"] == revision
    assert page.headers["ETag"] == f'"{revision}"'
    assert "<h1" in page.json["html"]
    saved = api.put("/api/v1/pages/Visie", json={"markdown": "# Visie\n\nMeer.\n"},
                    headers={"If-Match": f'"{revision}"'})
    assert saved.status_code == 200 and saved.json["merged"] is False
    assert api.get("/api/v1/pages/Visie", headers={"If-None-Match": saved.headers["ETag"]}
                   ).status_code == 304


def test_overlapping_edit_is_409_with_both_versions(api: FlaskClient) -> None:
    base = api.put("/api/v1/pages/P", json={"markdown": "a\nb\nc\n"}).json["revision"]
    api.put("/api/v1/pages/P", json={"markdown": "a\nB1\nc\n", "base_revision": base})
    response = api.put("/api/v1/pages/P", json={"markdown": "a\nB2\nc\n", "base_revision": base})
    assert response.status_code == 409
    body = response.json
    assert body["error"] == "conflict" and body["theirs"] == "a\nB1\nc\n"
    assert body["ours"] == "a\nB2\nc\n"
    assert body["conflicts"] == [{"line": 2, "base": "b", "ours": "B2", "theirs": "B1"}]
    assert api.get("/api/v1/pages/P").json["markdown"] == "a\nB1\nc\n"


def test_clean_stale_edit_reports_who_it_merged_with(api: FlaskClient) -> None:
    text = "one\n\ntwo\n\nthree\n"
    base = api.put("/api/v1/pages/P", json={"markdown": text}).json["revision"]
    api.put("/api/v1/pages/P", json={"markdown": text.replace("one", "ONE"),
                                      "base_revision": base})
    response = api.put("/api/v1/pages/P", json={"markdown": text.replace("three", "THREE"),
                                                 "base_revision": base})
    assert response.status_code == 200
    assert response.json["merged"] is True and response.json["merged_with"] == ["participant"]


@pytest.mark.parametrize("body", [None, [], "x", {"markdown": 5}, {"markdown": "x",
                                                                    "base_revision": "HEAD~1"}])
def test_bad_bodies_are_400(api: FlaskClient, body: object) -> None:
    response = api.put("/api/v1/pages/P", json=body)
    assert response.status_code == 400
    assert response.json["error"] in ("invalid_input", "invalid_revision")


def test_bad_names_are_400_and_large_pages_413(api: FlaskClient) -> None:
    assert api.put("/api/v1/pages/.git/config", json={"markdown": "x"}).status_code == 400
    assert api.put("/api/v1/pages/a/../b", json={"markdown": "x"}).status_code in (400, 404)
    big = api.put("/api/v1/pages/Big", json={"markdown": "x" * 1_000_001})
    assert big.status_code == 413


def test_delete_needs_a_base_revision(api: FlaskClient) -> None:
    revision = api.put("/api/v1/pages/Weg", json={"markdown": "x\n"}).json["revision"]
    assert api.delete("/api/v1/pages/Weg").status_code == 400
    assert api.delete("/api/v1/pages/Weg", headers={"If-Match": f'"{revision}"'}
                      ).status_code == 204
    assert api.get("/api/v1/pages/Weg").status_code == 404


def test_rename_history_blame_and_diff(api: FlaskClient) -> None:
    first = api.put("/api/v1/pages/Oud", json={"markdown": "regel een\n"}).json["revision"]
    api.post("/api/v1/pages/Oud/rename", json={"to": "Nieuw", "base_revision": first})
    second = api.put("/api/v1/pages/Nieuw", json={"markdown": "regel een\nregel twee\n",
                                                  "base_revision": first})
    history = api.get("/api/v1/pages/Nieuw/history").json
    assert [h["path"] for h in history] == ["Nieuw", "Nieuw", "Oud"]
    assert set(history[0]) >= {"revision", "author", "email", "date", "message"}
    blame = api.get("/api/v1/pages/Nieuw/blame").json
    assert [(b["line"], b["text"], b["author"]) for b in blame] == [
        (1, "regel een", "participant"), (2, "regel twee", "participant")]
    diff = api.get(f"/api/v1/pages/Nieuw/diff?from={first}&to={second.json['revision']}")
    assert diff.mimetype == "text/plain" and "+regel twee" in diff.text


@pytest.mark.parametrize("query", ["from=HEAD&to=HEAD", "from=--all&to=1234567",
                                   "from=;rm&to=x", "from=0000000&to=0000000"])
def test_hostile_revisions_in_query_strings_are_400(api: FlaskClient, query: str) -> None:
    assert api.get(f"/api/v1/pages/Home/diff?{query}").status_code == 400
    assert api.get(f"/p/Home/diff?{query}").status_code == 400


def test_changes_and_contributors(api: FlaskClient) -> None:
    api.put("/api/v1/pages/A", json={"markdown": "x\ny\n"})
    changes = api.get("/api/v1/changes?limit=5").json
    assert changes[0]["author"] == "participant" and changes[0]["pages"][0]["path"] == "A"
    people = api.get("/api/v1/contributors").json
    assert people == [{"name": "participant", "commits": 1, "lines": 2, "lines_removed": 0}]
    assert api.get("/api/v1/changes?limit=0").status_code == 400
    assert api.get(f"/api/v1/changes?limit={'1' * 5000}").status_code == 400  # not int()'s 500
    assert api.get(f"/p/A/history?page={'1' * 5000}").status_code == 400


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["status"] == "ok"
