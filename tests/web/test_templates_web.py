"""In the browser: facilitators keep chapter templates, participants start pages from them and
import Word documents; every new route has its role and needs the CSRF token."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from io import BytesIO

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORDS, csrf, post_form
from tests.docx_support import docx, png

# (method, url, least role) of every route this feature adds.
ROUTES = [
    ("GET", "/admin/templates", "facilitator"),
    ("POST", "/admin/templates", "facilitator"),
    ("GET", "/admin/templates/1", "facilitator"),
    ("POST", "/admin/templates/1", "facilitator"),
    ("POST", "/admin/templates/1/delete", "facilitator"),
    ("GET", "/api/v1/templates", "participant"),
    ("POST", "/import/docx", "participant"),
]
ORDER = ["reader", "participant", "facilitator"]


def upload(client: FlaskClient, data: bytes, filename: str = "verslag.docx",
           name: str = "", token: str | None = None):  # type: ignore[no-untyped-def]
    fields = {"file": (BytesIO(data), filename), "name": name}
    if token is not False:
        fields["csrf_token"] = token or csrf(client)
    return client.post("/import/docx", data=fields, content_type="multipart/form-data")


@pytest.mark.parametrize("role", ORDER)
def test_role_matrix_of_templates_and_import(client: FlaskClient,
                                             login_as: Callable[[str], FlaskClient],
                                             role: str) -> None:
    login_as(role)
    token = csrf(client)
    for method, url, needed in ROUTES:
        response = client.open(url, method=method, data={"csrf_token": token},
                               headers={"X-CSRF-Token": token})
        allowed = ORDER.index(role) >= ORDER.index(needed)
        assert (response.status_code != 403) == allowed, (role, method, url,
                                                           response.status_code)


def test_anonymous_visitors_are_sent_to_log_in(client: FlaskClient) -> None:
    assert client.get("/admin/templates").status_code == 302
    assert client.get("/api/v1/templates").status_code == 401
    assert upload(client, docx()).status_code == 302


def test_forms_without_the_csrf_token_are_refused(app: Flask, client: FlaskClient,
                                                  login_as: Callable[[str], FlaskClient]
                                                  ) -> None:
    login_as("facilitator")
    head = app.extensions["cowiki"].repo.head()
    assert client.post("/admin/templates", data={"name": "X", "markdown": "x"}
                       ).status_code == 400
    assert client.post("/admin/templates/1/delete").status_code == 400
    assert upload(client, docx(), token=False).status_code == 400  # type: ignore[arg-type]
    assert app.extensions["cowiki"].repo.head() == head


def test_a_facilitator_adds_changes_and_removes_a_template(
        app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    login_as("facilitator")
    page = client.get("/admin/templates").text
    assert "Hoofdstuk: probleem, aanpak, resultaat" in page and 'name="csrf_token"' in page
    response = post_form(client, "/admin/templates", name="Interview <b>",
                         markdown="# {title}\n\n## Vragen\n")
    assert response.status_code == 302
    listing = client.get("/admin/templates").text
    assert "Interview &lt;b&gt;" in listing and "Interview <b>" not in listing
    assert post_form(client, "/admin/templates/2", name="Interview",
                     markdown="# {title}\n\n## Antwoorden\n").status_code == 302
    assert "## Antwoorden" in client.get("/admin/templates/2").text
    assert post_form(client, "/admin/templates/1/delete").status_code == 302
    assert client.get("/api/v1/templates").json == [
        {"id": 2, "name": "Interview", "markdown": "# {title}\n\n## Antwoorden\n"}]
    assert client.get("/admin/templates/1").status_code == 404


def test_an_unfit_template_keeps_the_text_and_says_why(
        client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    login_as("facilitator")
    response = post_form(client, "/admin/templates", name=" ", markdown="## Mijn tekst\n")
    assert response.status_code == 400
    assert "give the template a name" in response.text and "## Mijn tekst" in response.text


def test_a_new_page_starts_from_the_chosen_template(
        client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    login_as("participant")
    form = client.get("/new").text
    assert 'name="template"' in form and "Hoofdstuk: probleem, aanpak, resultaat" in form
    response = post_form(client, "/new", name="Hoofdstuk 3/Markt", template="1")
    assert response.status_code == 302 and "template=1" in response.location
    editor = client.get(response.location).text
    assert "# Markt\n\n## Probleem" in editor
    plain = client.get("/p/Hoofdstuk 3/Markt/edit").text
    assert "# Markt\n\n</textarea>" in plain.replace("\r", "")  # without a template: a title


def test_a_template_that_is_gone_leaves_the_page_empty_and_says_so(
        client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    login_as("participant")
    editor = client.get("/p/Nieuw/edit?template=99", follow_redirects=True).text
    assert "That template no longer exists" in editor and "# Nieuw" in editor
    assert client.get("/p/Nieuw/edit?template=x").status_code == 200


def test_a_participant_imports_a_word_document_as_one_commit(
        app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    login_as("participant")
    response = upload(client, docx(), "Ons verslag.docx")
    assert response.status_code == 302 and response.location.endswith("/p/Ons%20verslag")
    page = client.get(response.location).text
    assert "<h2" in page and "Resultaten" in page and "<table>" in page
    assert 'src="/attachments/Ons-verslag-1.png"' in page
    assert client.get("/attachments/Ons-verslag-1.png").data == png()
    assert "image became an attachment" in page
    repo = app.extensions["cowiki"].repo.path
    last = subprocess.run(["git", "--git-dir", str(repo), "log", "-1", "--format=%an",
                           "--name-only"], capture_output=True, text=True, check=True).stdout
    assert last.split() == ["participant", "Ons", "verslag.md", "attachments/Ons-verslag-1.png"]


def test_importing_over_a_page_with_text_is_a_conflict(
        client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    login_as("participant")
    response = upload(client, docx(), name="Home")
    assert response.status_code == 409
    assert "already exists" in response.text and 'id="docx-error"' in response.text


@pytest.mark.parametrize(("data", "filename"), [(png(), "foto.docx"), (b"tekst", "notes.txt")])
def test_a_file_that_is_not_a_word_document_gets_a_clear_answer(
        client: FlaskClient, login_as: Callable[[str], FlaskClient], data: bytes,
        filename: str) -> None:
    login_as("participant")
    response = upload(client, data, filename, name="Poging")
    assert response.status_code == 400
    assert "not a Word document (.docx)" in response.text
    assert client.get("/p/Poging").status_code == 404


def test_a_form_without_a_file_says_what_is_missing(
        client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    login_as("participant")
    response = post_form(client, "/import/docx", name="Leeg")
    assert response.status_code == 400 and "choose a Word document" in response.text


def test_the_api_makes_a_new_page_from_a_template(
        app: Flask, client: FlaskClient) -> None:
    auth = ("participant", PASSWORDS["participant"])
    assert client.get("/api/v1/templates", auth=auth).json[0]["id"] == 1
    made = client.put("/api/v1/pages/Hoofdstuk 4/Prijs", json={"template": 1}, auth=auth)
    assert made.status_code == 201, made.json
    text = client.get("/api/v1/pages/Hoofdstuk 4/Prijs", auth=auth).json["markdown"]
    assert text.startswith("# Prijs\n\n## Probleem\n")
    again = client.put("/api/v1/pages/Hoofdstuk 4/Prijs", json={"template": 1}, auth=auth)
    assert again.status_code == 409  # a template never replaces a page's text
    for body in ({"template": 9}, {"template": "een"}, {"template": 1, "markdown": "x"}):
        refused = client.put("/api/v1/pages/Nog een", json=body, auth=auth)
        assert refused.status_code in (400, 404), (body, refused.status_code)
    assert client.get("/api/v1/pages/Nog een", auth=auth).status_code == 404
    reader = client.put("/api/v1/pages/Lezer", json={"template": 1},
                        auth=("reader", PASSWORDS["reader"]))
    assert reader.status_code == 403
