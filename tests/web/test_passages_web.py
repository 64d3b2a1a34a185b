"""Comments on a passage over the web: who may make them, how they follow edits, resolving."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from tests.conftest import PASSWORDS, csrf, post_form

Login = Callable[[str], FlaskClient]
AUTH = {role: (role, password) for role, password in PASSWORDS.items()}
SENTENCE = "Wij vragen de café-eigenaren 👍🏽 mee te doen."
TEXT = f"# Plan\n\nDe eerste alinea.\n\nHet **begin**. {SENTENCE} Einde.\n"


def save(client: FlaskClient, markdown: str, role: str = "facilitator") -> str:
    base = client.get("/api/v1/pages/Plan", auth=AUTH[role])
    data: dict[str, Any] = {"markdown": markdown}
    if base.status_code == 200:
        data["base_revision"] = base.json["revision"]
    response = client.put("/api/v1/pages/Plan", json=data, auth=AUTH[role])
    assert response.status_code in (200, 201), response.text
    return str(response.json["revision"])


def threads(client: FlaskClient) -> list[dict[str, Any]]:
    response = client.get("/api/v1/pages/Plan/comments", auth=AUTH["reader"])
    assert response.status_code == 200
    return list(response.json)


def test_a_selection_in_the_page_view_becomes_a_passage_comment(
        client: FlaskClient, login_as: Login) -> None:
    revision = save(client, TEXT)
    login_as("participant")
    response = post_form(client, "/p/Plan/comments", body="Wie vraagt het?",
                         anchor_revision=revision, anchor_quote="begin. " + SENTENCE,
                         anchor_occurrence="0")
    assert response.status_code == 302 and "#comment-" in response.location
    [made] = threads(client)
    anchor = made["anchor"]
    assert anchor["quote"] == "**begin**. " + SENTENCE
    assert TEXT[anchor["start"]:anchor["end"]] == anchor["quote"]  # code points
    assert anchor["place"] == {"start": anchor["start"], "end": anchor["end"]}
    page = client.get("/p/Plan").text
    assert f'data-quote="begin. {SENTENCE}"' in page and 'data-occurrence="0"' in page


def test_passage_comments_need_a_participant_and_the_csrf_token(
        client: FlaskClient, login_as: Login) -> None:
    revision = save(client, TEXT)
    fields = {"body": "x", "anchor_revision": revision, "anchor_quote": SENTENCE}
    assert client.post("/p/Plan/comments", data=fields).status_code == 302  # to the login
    assert client.post("/api/v1/pages/Plan/comments", auth=AUTH["reader"], json={
        "body": "x", "anchor": {"revision": revision, "start": 0, "end": 3}}).status_code == 403
    login_as("reader")
    assert post_form(client, "/p/Plan/comments", **fields).status_code == 403
    login_as("participant")
    assert client.post("/p/Plan/comments", data=fields).status_code == 400  # no token
    assert "id=\"passage-form\"" in client.get("/p/Plan").text
    assert threads(client) == []


def test_bad_anchors_are_refused_with_400(client: FlaskClient) -> None:
    revision = save(client, TEXT)
    auth = AUTH["participant"]
    for anchor in ({"revision": revision, "start": 5, "end": 500},
                   {"revision": revision, "start": "-1", "end": 4},
                   {"revision": "nothex", "start": 0, "end": 4},
                   {"revision": revision, "quote": "staat er niet"},
                   {"revision": revision, "quote": SENTENCE, "occurrence": "twee"},
                   "tekst"):
        response = client.post("/api/v1/pages/Plan/comments", auth=auth,
                               json={"body": "x", "anchor": anchor})
        assert response.status_code == 400, (anchor, response.text)
    made = client.post("/api/v1/pages/Plan/comments", auth=auth, json={"body": "x"}).json
    reply = client.post("/api/v1/pages/Plan/comments", auth=auth, json={
        "body": "y", "parent": made["id"], "anchor": {"revision": revision, "start": 0, "end": 3}})
    assert reply.status_code == 400


def test_the_comment_follows_edits_above_and_goes_to_an_earlier_version(
        client: FlaskClient, login_as: Login) -> None:
    revision = save(client, TEXT)
    start = TEXT.index(SENTENCE)
    made = client.post("/api/v1/pages/Plan/comments", auth=AUTH["participant"], json={
        "body": "Goed punt", "anchor": {"revision": revision, "start": start,
                                        "end": start + len(SENTENCE)}})
    assert made.status_code == 201 and made.json["anchor"]["quote"] == SENTENCE
    above = TEXT.replace("De eerste alinea.", "De eerste, veel langere alinea met ë.")
    save(client, above)
    place = threads(client)[0]["anchor"]["place"]
    assert above[place["start"]:place["end"]] == SENTENCE
    save(client, above.replace("mee te doen", "te helpen"))
    [moved] = threads(client)
    assert moved["anchor"]["place"] is None
    login_as("reader")
    page = client.get("/p/Plan").text
    assert "On an earlier version of the page." in page
    assert f"/p/Plan?rev={revision}" in page
    assert client.get(f"/p/Plan?rev={revision}").status_code == 200


def test_threads_resolve_and_reopen(client: FlaskClient, login_as: Login) -> None:
    save(client, TEXT)
    number = client.post("/api/v1/pages/Plan/comments", auth=AUTH["participant"],
                         json={"body": "Klaar?"}).json["id"]
    assert client.post(f"/api/v1/comments/{number}/resolve",
                       auth=AUTH["reader"]).status_code == 403
    done = client.post(f"/api/v1/comments/{number}/resolve", auth=AUTH["facilitator"])
    assert done.json["resolved"] is True and done.json["resolved_by"] == "facilitator"
    login_as("participant")
    assert "Resolved by facilitator" in client.get("/p/Plan").text
    post_form(client, f"/comments/{number}/resolve", reopen="1")
    assert threads(client)[0]["resolved"] is False
    client.post(f"/api/v1/comments/{number}/resolve", headers={"X-CSRF-Token": csrf(client)})
    reopened = client.post(f"/api/v1/comments/{number}/reopen",
                           headers={"X-CSRF-Token": csrf(client)})
    assert reopened.status_code == 200 and reopened.json["resolved"] is False


def test_passage_comments_count_as_discussion_in_the_page_list(client: FlaskClient) -> None:
    revision = save(client, TEXT)
    for _ in range(2):
        client.post("/api/v1/pages/Plan/comments", auth=AUTH["participant"], json={
            "body": "x", "anchor": {"revision": revision, "quote": SENTENCE}})
    client.put("/api/v1/pages/Ander", json={"markdown": "# Ander\n"}, auth=AUTH["facilitator"])
    listing = client.get("/pages?sort=discussed", auth=AUTH["reader"]).text
    assert listing.index("/p/Plan") < listing.index("/p/Ander")
    assert "💬 2" in listing


def test_hidden_passage_comments_keep_their_quote_from_readers(client: FlaskClient,
                                                               login_as: Login) -> None:
    revision = save(client, TEXT)
    number = client.post("/api/v1/pages/Plan/comments", auth=AUTH["participant"], json={
        "body": "geheim", "anchor": {"revision": revision, "quote": SENTENCE}}).json["id"]
    client.post(f"/api/v1/comments/{number}/hide", json={"reason": "reclame"},
                auth=AUTH["facilitator"])
    login_as("reader")
    assert csrf(client)
    page = client.get("/p/Plan").text
    assert "geheim" not in page and f'id="comment-{number}"' not in page


def test_the_reused_comment_section_follows_every_change_and_viewer(
        client: FlaskClient, login_as: Login) -> None:
    save(client, TEXT)
    number = client.post("/api/v1/pages/Plan/comments", auth=AUTH["participant"],
                         json={"body": "Eerste gedachte"}).json["id"]
    login_as("participant")
    first = client.get("/p/Plan").text
    assert f'/comments/{number}/edit"' in first and first.count('class="count">1<') == 0
    client.post(f"/api/v1/comments/{number}/reactions", json={"kind": "heart"},
                headers={"X-CSRF-Token": csrf(client)})
    again = client.get("/p/Plan").text
    assert 'class="count">1<' in again and f'name="csrf_token" value="{csrf(client)}"' in again
    login_as("facilitator")
    theirs = client.get("/p/Plan").text
    assert f'/comments/{number}/edit"' not in theirs and f"/comments/{number}/hide" in theirs
    assert client.patch(f"/api/v1/comments/{number}", json={"body": "x"},
                        headers={"X-CSRF-Token": csrf(client)}).status_code == 403
    client.delete(f"/api/v1/comments/{number}", headers={"X-CSRF-Token": csrf(client)})
    assert "Eerste gedachte" not in client.get("/p/Plan").text


def test_a_comment_number_beyond_any_id_is_not_found(client: FlaskClient) -> None:
    save(client, TEXT)
    huge = 2**40  # fits SQLite's integers, not PostgreSQL's: still simply no such comment
    writer = AUTH["participant"]
    assert client.post(f"/api/v1/comments/{huge}/reactions", json={"kind": "heart"},
                       auth=writer).status_code == 404
    assert client.patch(f"/api/v1/comments/{huge}", json={"body": "x"},
                        auth=writer).status_code == 404
    assert client.post("/api/v1/pages/Plan/comments", json={"body": "x", "parent": huge},
                       auth=writer).status_code == 404
    assert threads(client) == []
