"""One person, one name: a commit whose email belongs to an account shows the account's name
in history, blame, recent changes, contributors, the feed, person pages, the export's credits
and search `author:`. Real git, real SQLite, real Whoosh; git keeps what it was given."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from storage.repository import Person
from wiki.datadir import Services
from wiki.export.credits import credits
from wiki.people import display_names

LAPTOP = Person("B. de Vries", "Bert@Example.org")  # a push from Bert's laptop
WEB = Person("Bert", "bert@example.org")  # a save on the web
STRANGER = Person("Carla Git", "carla@example.org")  # an email of no account


@pytest.fixture
def services(app: Flask) -> Services:
    svc: Services = app.extensions["cowiki"]
    svc.accounts.add_user("Bert", "bert@example.org", "participant", "bert-pass-long-1")
    first = svc.pages.save("Energie", "# Energie\n\nDe wind waait.\n", None, LAPTOP).revision
    svc.pages.save("Energie", "# Energie\n\nDe wind waait.\n\nDe zon schijnt.\n", first, WEB)
    svc.pages.save("Laptop", "# Laptop\n\nAlleen van de laptop.\n", None, LAPTOP)
    svc.pages.save("Carla", "# Carla\n\nVan Carla.\n", None, STRANGER)
    return svc


@pytest.fixture
def reader(services: Services, login_as: Callable[[str], FlaskClient]) -> FlaskClient:
    return login_as("reader")


def test_git_keeps_the_name_each_commit_was_made_with(services: Services) -> None:
    assert {e.author for e in services.history.log("Energie.md")} == {"B. de Vries", "Bert"}


def test_history_shows_the_account_name_for_a_laptop_commit(reader: FlaskClient) -> None:
    page = reader.get("/p/Energie/history").text
    assert "Bert" in page and "B. de Vries" not in page


def test_blame_shows_the_account_name_on_every_line(reader: FlaskClient) -> None:
    page = reader.get("/p/Energie/blame").text
    assert "B. de Vries" not in page and "Bert" in page


def test_recent_changes_and_feed_show_the_account_name(reader: FlaskClient) -> None:
    for url in ("/changes", "/changes.atom", "/api/v1/changes"):
        text = reader.get(url).text
        assert "B. de Vries" not in text and "Bert" in text, url


def test_api_history_and_blame_show_the_account_name(reader: FlaskClient) -> None:
    history = reader.get("/api/v1/pages/Energie/history").get_json()
    blame = reader.get("/api/v1/pages/Energie/blame").get_json()
    assert {e["author"] for e in history} == {"Bert"}
    assert {line["author"] for line in blame} == {"Bert"}


def test_page_shows_its_last_editor_by_account_name(reader: FlaskClient) -> None:
    assert "B. de Vries" not in reader.get("/p/Laptop").text


def test_contributors_list_one_person_under_the_account_name(reader: FlaskClient) -> None:
    people = reader.get("/api/v1/contributors").get_json()
    assert [p["name"] for p in people].count("Bert") == 1
    assert "B. de Vries" not in {p["name"] for p in people}


def test_unknown_email_keeps_its_git_name(reader: FlaskClient) -> None:
    assert "Carla Git" in reader.get("/changes").text


def test_person_page_under_a_git_name_is_the_account_page(reader: FlaskClient) -> None:
    page = reader.get("/people/B. de Vries")
    assert page.status_code == 200
    heading = page.text.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert "Bert" in heading and "B. de Vries" not in heading
    assert "Laptop" in page.text and "Energie" in page.text


def test_inactive_account_still_names_its_commits(services: Services) -> None:
    bert = services.accounts.by_name("Bert")
    assert bert is not None
    services.accounts.set_active(bert, False)
    assert display_names(services.accounts)("B. de Vries", "BERT@example.org") == "Bert"


def test_export_credits_name_the_account_not_the_newest_commit(services: Services) -> None:
    head = services.repo.head()
    assert head is not None
    found = credits(services.history, head, ["Energie", "Laptop", "Carla"],
                    exclude=(services.repo.committer.email,),
                    names=display_names(services.accounts))
    assert sorted(c.name for c in found) == ["Bert", "Carla Git"]


@pytest.mark.parametrize("query", ["author:bert", "author:BERT", 'author:"B. de Vries"',
                                   "author:bert@example.org", "author:Bert@Example.org"])
def test_author_filter_finds_every_page_of_the_person(services: Services, query: str) -> None:
    services.indexer.catch_up()
    found = services.indexer.search(query)
    assert sorted(hit.path for hit in found.hits) == ["Energie", "Laptop"]


def test_search_hit_shows_the_account_name(services: Services) -> None:
    services.indexer.catch_up()
    assert {hit.author for hit in services.indexer.search("laptop").hits} == {"Bert"}


def test_author_filter_still_finds_a_person_without_account(services: Services) -> None:
    services.indexer.catch_up()
    assert [h.path for h in services.indexer.search("author:carla@example.org").hits] == [
        "Carla"]
    assert [h.path for h in services.indexer.search('author:"Carla Git"').hits] == ["Carla"]
