"""Dutch and plain words throughout: what the wiki writes, and how it shows versions and times."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from tests.conftest import PASSWORDS, post_form


def make_app(data_dir: Path, language: str) -> Flask:
    app = create_app({"data_dir": str(data_dir), "language": language})
    app.config["TESTING"] = True
    for role, password in PASSWORDS.items():
        app.extensions["cowiki"].accounts.add_user(role, f"{role}@example.org", role, password)
    return app


def logged_in(app: Flask, role: str, accept: str = "nl") -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept
    response = post_form(client, "/login", name=role, password=PASSWORDS[role])
    assert response.status_code == 302, response.text
    return client


def git_log(data_dir: Path) -> list[str]:
    done = subprocess.run(["git", "--git-dir", str(data_dir / "repo.git"), "log", "--format=%s"],
                          capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def base_of(client: FlaskClient, name: str) -> str:
    match = re.search(r'name="base_revision" value="([^"]*)"', client.get(f"/p/{name}/edit").text)
    assert match
    return match.group(1)


@pytest.fixture
def dutch(tmp_path: Path) -> Flask:
    return make_app(tmp_path / "nl-wiki", "nl")


def test_a_dutch_wiki_writes_its_commits_in_dutch(dutch: Flask, tmp_path: Path) -> None:
    editor = logged_in(dutch, "participant")
    post_form(editor, "/p/Klantreis/edit", markdown="# Klantreis\n\nEerste versie.\n",
              base_revision="")
    post_form(editor, "/p/Klantreis/edit", markdown="# Klantreis\n\nTweede versie.\n",
              base_revision=base_of(editor, "Klantreis"))
    post_form(editor, "/p/Klantreis/rename", to="Hoofdstuk 2/Klantreis")
    log = git_log(tmp_path / "nl-wiki")
    assert log[-1] == "Wiki aangemaakt"
    assert "Klantreis aangemaakt" in log and "Klantreis bijgewerkt" in log
    assert "Klantreis hernoemd naar Hoofdstuk 2/Klantreis" in log
    assert not [line for line in log if line.startswith(("Create", "Update", "Rename"))]


def test_the_welcome_page_of_a_dutch_wiki_is_dutch(dutch: Flask) -> None:
    home = logged_in(dutch, "reader").get("/p/Home").text
    assert "Welkom bij cowiki" in home and "Welcome" not in home


def test_a_facilitator_switches_the_wiki_to_english(dutch: Flask, tmp_path: Path) -> None:
    facilitator = logged_in(dutch, "facilitator")
    assert 'value="nl" selected' in facilitator.get("/admin/users").text
    answer = post_form(facilitator, "/admin/language", language="en")
    assert answer.status_code == 302
    post_form(facilitator, "/p/Notes/edit", markdown="# Notes\n", base_revision="")
    assert git_log(tmp_path / "nl-wiki")[0] == "Create Notes"
    # Kept in the database: a restarted server (a second app) writes English too.
    again = create_app({"data_dir": str(tmp_path / "nl-wiki"), "language": "nl"})
    assert again.extensions["cowiki"].language.get() == "en"


def test_only_a_facilitator_switches_the_wiki_language(dutch: Flask) -> None:
    participant = logged_in(dutch, "participant")
    assert post_form(participant, "/admin/language", language="en").status_code == 403
    assert dutch.extensions["cowiki"].language.get() == "nl"


def test_an_unknown_wiki_language_is_refused_with_a_message(dutch: Flask) -> None:
    answer = post_form(logged_in(dutch, "facilitator"), "/admin/language", language="de")
    assert answer.status_code == 400 and "Nederlands" in answer.text


def test_recent_changes_say_who_did_what_in_a_dutch_sentence(dutch: Flask) -> None:
    editor = logged_in(dutch, "participant")
    post_form(editor, "/p/Kladblok/edit", markdown="# Kladblok\n", base_revision="")
    text = re.sub(r"<[^>]+>", "", editor.get("/changes").text)
    assert "participant heeft Kladblok aangemaakt" in text
    assert "cowiki heeft Home aangemaakt" in text


def test_recent_changes_in_english_read_as_a_sentence(dutch: Flask) -> None:
    editor = logged_in(dutch, "participant", accept="en")
    post_form(editor, "/p/Kladblok/edit", markdown="# Kladblok\n", base_revision="")
    text = re.sub(r"<[^>]+>", "", editor.get("/changes").text)
    assert "participant created Kladblok" in text


HEX_LABEL = re.compile(r">\s*[0-9a-f]{10}\s*<")


def test_history_and_diff_name_versions_by_person_and_date(dutch: Flask) -> None:
    editor = logged_in(dutch, "participant", accept="en")
    post_form(editor, "/p/Klantreis/edit", markdown="# Klantreis\n\nEen.\n", base_revision="")
    first = base_of(editor, "Klantreis")
    post_form(editor, "/p/Klantreis/edit", markdown="# Klantreis\n\nTwee.\n",
              base_revision=first)
    diff = editor.get(f"/p/Klantreis/diff?from={first}").text
    heading = re.search(r"<h1>.*?</h1>", diff, re.S)
    assert heading and "the version of participant" in heading.group(0)
    assert first[:10] not in re.sub(r'title="[^"]*"', "", heading.group(0))
    assert not HEX_LABEL.search(diff)
    old = editor.get(f"/p/Klantreis?rev={first}").text
    assert "You are reading an old version: the version of participant" in old
    assert f'title="{first}"' in old  # the commit id stays one step away for git users


def test_restoring_a_version_says_whose_version_it_was(dutch: Flask) -> None:
    editor = logged_in(dutch, "participant")
    post_form(editor, "/p/Klantreis/edit", markdown="# Klantreis\n\nEen.\n", base_revision="")
    first = base_of(editor, "Klantreis")
    post_form(editor, "/p/Klantreis/edit", markdown="# Klantreis\n\nTwee.\n",
              base_revision=first)
    page = editor.post("/p/Klantreis/revert", data={"csrf_token": "test-csrf-token",
                                                      "revision": first},
                       follow_redirects=True).text
    assert "Teruggezet: de versie van participant" in page
    assert first[:10] not in page.split("Teruggezet:", 1)[1].split("</", 1)[0]


def test_times_show_in_the_zone_the_browser_named(dutch: Flask) -> None:
    reader = logged_in(dutch, "reader", accept="en")
    reader.set_cookie("tz", "America%2FNew_York")
    page = reader.get("/changes").text
    assert re.search(r'<time [^>]*title="[^"]*\d{1,2}:\d\d\s?[AP]M E[SD]T"', page), page


def test_times_default_to_amsterdam_for_dutch_readers_and_ignore_a_bogus_zone(
        dutch: Flask) -> None:
    reader = logged_in(dutch, "reader")
    reader.set_cookie("tz", "..%2F..%2Fetc%2Fpasswd")
    page = reader.get("/changes").text
    assert re.search(r'<time [^>]*title="[^"]*\d\d:\d\d CES?T"', page), page


def test_a_wrong_password_is_told_in_dutch(dutch: Flask) -> None:
    client = dutch.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl"
    answer = post_form(client, "/login", name="reader", password="niet-goed-123")
    assert answer.status_code == 401
    assert "Onbekende naam of verkeerd wachtwoord." in answer.text


def test_a_footnote_backlink_has_a_dutch_tooltip(dutch: Flask) -> None:
    editor = logged_in(dutch, "participant")
    post_form(editor, "/p/Bronnen/edit", markdown="Zie hier[^1].\n\n[^1]: Een bron.\n",
              base_revision="")
    page = editor.get("/p/Bronnen").text
    assert 'title="Terug naar voetnoot 1 in de tekst"' in page and "Jump back" not in page
