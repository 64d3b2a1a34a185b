"""The change door's cache listeners run once a request's answer is out, never lost.

A save's answer does not wait for the page-metadata cache: it takes the new
commit in when the response has been sent (Werkzeug's call_on_close, which the
server calls after writing the body), or as a failed request ends. Outside a
request it happens at once.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from contextlib import closing

from flask import Flask
from flask.testing import FlaskClient

from storage.repository import Person
from tests.conftest import LiveServer, post_form
from wiki.datadir import Services
from wiki.views.followups import later


def services_of(app: Flask) -> Services:
    found: Services = app.extensions["cowiki"]
    return found


def test_page_metadata_takes_a_save_in_once_the_answer_is_sent(
        app: Flask, login_as: Callable[[str], FlaskClient]) -> None:
    services = services_of(app)
    client = login_as("participant")
    page = client.get("/api/v1/pages/Home").get_json()
    assert services.pagemeta.catch_up()

    answer = post_form(client, "/p/Home/edit", markdown="# Home\n\nDe tureluur.\n",
                       base_revision=page["revision"])

    assert answer.status_code == 302
    head = services.repo.head()
    assert services.pagemeta._reflected() == page["revision"] != head  # not waited for
    answer.close()  # what the server does once the body is written
    assert head is not None and services.pagemeta._reflected() == head
    last = services.history.last_change("Home.md", head)
    assert last is not None and last.revision == head


def test_a_follow_up_runs_as_a_request_ends_without_an_answer(app: Flask) -> None:
    ran: list[str] = []
    with app.test_request_context("/p/Home"):
        later(lambda: ran.append("follow-up"))
        assert ran == []  # kept for after the answer
        app.preprocess_request()
    # The request context ended (teardown) without anyone handing a response over.
    assert ran == ["follow-up"]


def test_outside_a_request_the_page_metadata_follows_at_once(app: Flask) -> None:
    services = services_of(app)
    base = services.pages.get("Home").revision
    saved = services.pages.save("Home", "# Home\n\nDe grutto.\n", base,
                                Person("Anna", "anna@example.org"))
    assert services.pagemeta._reflected() == saved.revision == services.repo.head()


def test_gunicorn_runs_the_follow_up_after_sending_the_answer(live_server: LiveServer) -> None:
    session = live_server.session("participant")
    page = session.get(f"{live_server.url}/api/v1/pages/Home").json()
    saved = session.put(f"{live_server.url}/api/v1/pages/Home", json={
        "markdown": "# Home\n\nDe kluut.\n", "base_revision": page["revision"]}).json()
    # Nobody reads history after the save, so only the follow-up can move the cache.
    deadline, reflected = time.monotonic() + 10, None
    while time.monotonic() < deadline and reflected != saved["revision"]:
        with closing(sqlite3.connect(live_server.data_dir / "pagemeta.db")) as db:
            row = db.execute("SELECT value FROM state WHERE key = 'commit'").fetchone()
        reflected = row[0] if row else None
        time.sleep(0.05)
    assert reflected == saved["revision"]
