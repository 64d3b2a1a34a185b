"""POST /api/v1/pages/<path>/draft/merge: a draft's own changes merged into a live text."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

START = "# Plan\n\nEerste alinea.\n\nTweede alinea.\n\nDerde alinea.\n"
WHO = ("participant", "participant-pass-1")


def plan_with_draft(app: Flask, client: FlaskClient, draft: str) -> None:
    wiki = app.extensions["cowiki"]
    base = wiki.pages.save("Plan", START, None, wiki.accounts.by_name("facilitator").person)
    kept = client.put("/api/v1/pages/Plan/draft", auth=WHO,
                      json={"markdown": draft, "base_revision": base.revision})
    assert kept.status_code == 200, kept.text


def merge(client: FlaskClient, live: object) -> dict[str, object]:
    answer = client.post("/api/v1/pages/Plan/draft/merge", auth=WHO, json={"markdown": live})
    assert answer.status_code == 200, answer.text
    data = answer.get_json()
    assert isinstance(data, dict)
    return data


def apply(text: str, changes: list[list[object]]) -> str:
    """The browser's side: replacements in UTF-16 code units, applied from the end."""
    units = text.encode("utf-16-le")
    for start, end, insert in reversed(changes):
        assert isinstance(start, int) and isinstance(end, int) and isinstance(insert, str)
        units = units[:start * 2] + insert.encode("utf-16-le") + units[end * 2:]
    return units.decode("utf-16-le")


def test_the_drafts_changes_go_in_beside_the_live_typing(app: Flask, client: FlaskClient) -> None:
    plan_with_draft(app, client, START.replace("Tweede alinea.", "Tweede alinea, van mij."))
    live = START.replace("# Plan", "# Plan 😀").replace("Derde alinea.", "Derde alinea. Bert.")
    answer = merge(client, live)
    wanted = live.replace("Tweede alinea.", "Tweede alinea, van mij.")
    assert answer["markdown"] == wanted and answer["overlapped"] is False
    changes = answer["changes"]
    assert isinstance(changes, list) and apply(live, changes) == wanted  # after the emoji


def test_where_both_changed_the_same_words_both_versions_stay(
        app: Flask, client: FlaskClient) -> None:
    plan_with_draft(app, client, START.replace("Tweede alinea.", "Zweiter Absatz."))
    live = START.replace("Tweede alinea.", "Second paragraph.")
    answer = merge(client, live)
    assert answer["overlapped"] is True
    assert answer["markdown"] == START.replace("Tweede alinea.",
                                               "Second paragraph.\nZweiter Absatz.")
    # Additions at one spot are no overlap: both stay, the live text's first.
    plan_with_draft(app, client, START.replace("Tweede alinea.", "Tweede alinea, van mij."))
    answer = merge(client, START.replace("Tweede alinea.", "Tweede alinea, van Bert."))
    assert answer["overlapped"] is False
    assert "Tweede alinea, van Bert, van mij." in str(answer["markdown"])


def test_without_a_draft_or_with_a_bad_text_it_says_why(app: Flask, client: FlaskClient) -> None:
    url = "/api/v1/pages/Plan/draft/merge"
    assert client.post(url, auth=WHO, json={"markdown": START}).status_code == 404
    plan_with_draft(app, client, START + "\nMeer.\n")
    assert client.post(url, auth=WHO, json={"markdown": 3}).status_code == 400
    too_big = "x" * (app.extensions["cowiki"].pages.max_page_bytes + 1)
    assert client.post(url, auth=WHO, json={"markdown": too_big}).status_code == 413
    reader = ("reader", "reader-pass-1")
    assert client.post(url, auth=reader, json={"markdown": START}).status_code == 403
