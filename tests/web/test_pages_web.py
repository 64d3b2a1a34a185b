"""Browser flows: create, edit with preview, conflicts, rename, delete, revert, history views."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from tests.conftest import csrf, post_form

Login = Callable[[str], FlaskClient]


def base_of(client: FlaskClient, name: str) -> str:
    match = re.search(r'name="base_revision" value="([^"]*)"', client.get(f"/p/{name}/edit").text)
    assert match
    return match.group(1)


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


@pytest.fixture
def editor(login_as: Login) -> FlaskClient:
    return login_as("participant")


def test_create_a_page_from_new_and_read_it(editor: FlaskClient) -> None:
    response = post_form(editor, "/new", name="Hoofdstuk 1/Inleiding")
    assert response.location == "/p/Hoofdstuk%201/Inleiding/edit"
    assert base_of(editor, "Hoofdstuk 1/Inleiding") == ""
    response = post_form(editor, "/p/Hoofdstuk 1/Inleiding/edit",
                         markdown="# Inleiding\n\nDe coördinatie van één café.\n",
                         base_revision="", message="eerste versie")
    assert response.status_code == 302
    page = editor.get("/p/Hoofdstuk 1/Inleiding")
    assert "De coördinatie van één café." in page.text
    assert "<title>Inleiding" in page.text
    assert "Last edited by <strong>participant</strong>" in page.text
    listing = editor.get("/pages").text
    assert "Inleiding" in listing and "Hoofdstuk 1/Inleiding" in listing


def test_new_page_with_a_bad_name_explains_the_rule(editor: FlaskClient) -> None:
    response = post_form(editor, "/new", name="../etc")
    assert response.status_code == 200 and 'role="alert"' in response.text


def test_missing_page_offers_to_create_it(editor: FlaskClient) -> None:
    response = editor.get("/p/Nog niet")
    assert response.status_code == 404 and "/p/Nog%20niet/edit" in response.text


def test_page_names_resolve_ignoring_case(editor: FlaskClient) -> None:
    response = editor.get("/p/home")
    assert response.status_code == 302 and response.location == "/p/Home"


def test_save_reports_a_merge_with_the_other_author(editor: FlaskClient,
                                                    login_as: Login) -> None:
    text = "# Home\n\none\n\ntwo\n\nthree\n"
    post_form(editor, "/p/Home/edit", markdown=text, base_revision=base_of(editor, "Home"))
    base = base_of(editor, "Home")
    post_form(editor, "/logout")
    other = login_as("facilitator")
    post_form(other, "/p/Home/edit", markdown=text.replace("one", "ONE"), base_revision=base)
    post_form(other, "/logout")
    login_as("participant")
    post_form(editor, "/p/Home/edit", markdown=text.replace("three", "THREE"), base_revision=base)
    page = editor.get("/p/Home").text
    assert "Merged with changes by facilitator" in page
    assert "ONE" in page and "THREE" in page


def test_conflict_page_keeps_the_users_text_and_shows_both(editor: FlaskClient) -> None:
    base = base_of(editor, "Home")
    post_form(editor, "/p/Home/edit", markdown="# Home\n\nVersie A\n", base_revision=base)
    response = post_form(editor, "/p/Home/edit", markdown="# Home\n\nVersie B\n",
                         base_revision=base)
    assert response.status_code == 409
    assert "Versie A" in response.text and "Versie B" in response.text
    assert re.search(r"<textarea[^>]*>\s*# Home\n\nVersie B", response.text)
    assert "Versie A" in editor.get("/p/Home").text
    new_base = re.search(r'name="base_revision" value="([^"]+)"', response.text)
    assert new_base
    resolved = post_form(editor, "/p/Home/edit", markdown="# Home\n\nVersie A en B\n",
                         base_revision=new_base.group(1))
    assert resolved.status_code == 302
    assert "Versie A en B" in editor.get("/p/Home").text


def test_preview_is_sanitised(editor: FlaskClient) -> None:
    response = editor.post("/preview", data={"markdown": "**vet** <script>x()</script>"},
                           headers={"X-CSRF-Token": csrf(editor)})
    assert "<strong>vet</strong>" in response.text and "<script" not in response.text


def test_rename_delete_and_revert_through_forms(editor: FlaskClient) -> None:
    post_form(editor, "/p/Oud/edit", markdown="# Oud\n\ntekst\n", base_revision="")
    assert post_form(editor, "/p/Oud/rename", to="Nieuw").location == "/p/Nieuw"
    history = editor.get("/p/Nieuw/history").text
    assert "renamed" in history and "Oud" in history
    first = re.findall(r'revert\?revision=([0-9a-f]{40})"', history)[-1]
    base = base_of(editor, "Nieuw")
    assert post_form(editor, "/p/Nieuw/delete", base_revision=base).status_code == 302
    assert editor.get("/p/Nieuw").status_code == 404
    post_form(editor, "/p/Nieuw/revert", revision=first)
    assert "tekst" in editor.get("/p/Nieuw").text


def test_history_diff_and_blame_pages(editor: FlaskClient) -> None:
    base = base_of(editor, "Home")
    post_form(editor, "/p/Home/edit", markdown="# Home\n\nEen nieuwe zin.\n", base_revision=base)
    history = editor.get("/p/Home/history")
    assert history.status_code == 200 and "participant" in history.text
    side = editor.get("/p/Home/diff")
    assert side.status_code == 200 and "<ins>" in side.text and 'class="diff side"' in side.text
    inline = editor.get("/p/Home/diff?mode=inline")
    assert 'class="diff inline"' in inline.text
    post_form(editor, "/p/Elders/edit", markdown="# Elders\n\nAnder werk.\n")
    own = editor.get("/p/Home/diff")  # the page's own last change, not the wiki's last commit
    assert "<ins>zin</ins>" in own.text and "Ander" not in own.text
    blame = editor.get("/p/Home/blame")
    assert "Een nieuwe zin." in blame.text and "participant" in blame.text
    assert editor.get("/changes").status_code == 200
    assert "participant" in editor.get("/contributors").text


def test_old_revision_can_be_read(editor: FlaskClient) -> None:
    first = base_of(editor, "Home")
    post_form(editor, "/p/Home/edit", markdown="# Home\n\nNieuw\n", base_revision=first)
    old = editor.get(f"/p/Home?rev={first}")
    assert "old version" in old.text and "Welkom" in old.text  # COWIKI_LANGUAGE: nl
    assert editor.get("/p/Home?rev=HEAD").status_code == 400


def test_attachments_upload_and_serve_safely(editor: FlaskClient) -> None:
    from io import BytesIO

    response = editor.post("/attachments", data={"file": (BytesIO(png()), "grafiek 1.png")},
                           headers={"X-CSRF-Token": csrf(editor)})
    assert response.status_code == 201
    assert response.json["markdown"] == "![grafiek-1.png](attachments/grafiek-1.png)"
    served = editor.get("/attachments/grafiek-1.png")
    assert served.mimetype == "image/png" and served.data == png()
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    fake = editor.post("/attachments", data={"file": (BytesIO(b"<html><script>"), "x.png")},
                       headers={"X-CSRF-Token": csrf(editor)})
    assert fake.status_code == 400
    svg = editor.post("/attachments", data={"file": (BytesIO(b"<svg/>"), "x.svg")},
                      headers={"X-CSRF-Token": csrf(editor)})
    assert svg.status_code == 400


def test_oversized_request_is_413(editor: FlaskClient) -> None:
    response = post_form(editor, "/p/Home/edit", markdown="x" * 11_000_000, base_revision="")
    assert response.status_code == 413


@pytest.mark.parametrize("url", ["/p/..%2F..%2Fetc%2Fpasswd", "/p/.git/config", "/p/%00",
                                 "/p/Home/diff?from=zz&to=zz", "/p/Home/history?page=-1",
                                 "/changes?page=abc", "/attachments/..%2Fx.png",
                                 "/p/" + "x" * 300, "/p/Home?rev=" + "a" * 40])
def test_hostile_urls_get_clear_errors_not_500(editor: FlaskClient, url: str) -> None:
    response = editor.get(url)
    assert 400 <= response.status_code < 500, (url, response.status_code)
    assert "Traceback" not in response.text
