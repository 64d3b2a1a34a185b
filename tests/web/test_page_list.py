"""The page list shows 200 pages at a time: a large wiki lists as fast as a small one."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient


def rows(html: str) -> list[str]:
    return re.findall(r'<span class="path">([^<]*)</span>', html)


def test_a_large_wiki_lists_its_pages_200_at_a_time(
        app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    services = app.extensions["cowiki"]
    files = {f"Notitie {n:03d}.md": f"# Notitie {n}\n".encode() for n in range(449)}
    services.pages.import_files(files, services.server, "Veel notities")
    login_as("reader")
    first = client.get("/pages")
    assert len(rows(first.text)) == 200 and "450" in first.text  # 449 notes and Home
    assert 'rel="next"' in first.text and 'rel="prev"' not in first.text
    last = client.get("/pages?page=3")
    assert len(rows(last.text)) == 50 and 'rel="next"' not in last.text
    everyone = set(rows(first.text)) | set(rows(client.get("/pages?page=2").text)) | set(
        rows(last.text))
    assert len(everyone) == 450


def test_a_page_number_that_is_not_a_number_is_a_400(
        client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    login_as("reader")
    assert client.get("/pages?page=x").status_code == 400
    assert client.get("/pages?page=" + "9" * 5000).status_code == 400


def test_each_page_of_the_list_counts_the_comments_of_its_own_pages(
        app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    # By name only the shown 200 are counted; sorted by discussion, the whole list is.
    services = app.extensions["cowiki"]
    files = {f"Notitie {n:03d}.md": f"# Notitie {n}\n".encode() for n in range(449)}
    services.pages.import_files(files, services.server, "Veel notities")
    anna = services.accounts.by_name("participant")
    for _ in range(3):
        services.comments.add("Notitie 420", anna, "Eens, maar korter graag.")
    login_as("reader")
    assert "💬" not in client.get("/pages").text
    last = client.get("/pages?page=3").text
    assert "💬 3" in last and len(rows(last)) == 50
    discussed = client.get("/pages?sort=discussed").text
    assert rows(discussed)[0] == "Notitie 420" and len(rows(discussed)) == 200
    assert "Notitie 420" not in rows(client.get("/pages?sort=discussed&page=2").text)
