"""Export through the browser, the JSON API and the CLI, with the role rules."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

from tests.conftest import cli, csrf, post_form
from tests.wiki.export_sample import make_sample


def wait_done(client, job: str) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = client.get(f"/api/v1/export/{job}").get_json()
        if state["status"] not in ("queued", "running"):
            return state  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError("export did not finish")


def test_outline_api_reads_for_readers_and_writes_for_facilitators(client, login_as):
    login_as("participant")
    outline = {"title": "Samen", "subtitle": "Sub", "authors": "Wij", "pages": ["Home"]}
    assert client.put("/api/v1/outline", json=outline,
                      headers={"X-CSRF-Token": csrf(client)}).status_code == 403
    login_as("facilitator")
    saved = client.put("/api/v1/outline", json=outline,
                       headers={"X-CSRF-Token": csrf(client)})
    assert saved.status_code == 200 and saved.get_json()["pages"] == ["Home"]
    login_as("reader")
    got = client.get("/api/v1/outline").get_json()
    assert {k: got[k] for k in outline} == outline


def test_outline_api_refuses_bad_page_paths(client, login_as):
    login_as("facilitator")
    bad = client.put("/api/v1/outline", json={"title": "T", "pages": ["../../etc/passwd"]},
                     headers={"X-CSRF-Token": csrf(client)})
    assert bad.status_code == 400


def test_reader_exports_through_the_api_and_downloads_the_file(client, login_as):
    login_as("reader")
    started = client.post("/api/v1/export", json={"format": "md", "ref": ""},
                          headers={"X-CSRF-Token": csrf(client)})
    assert started.status_code == 202
    job = started.get_json()["job"]
    state = wait_done(client, job)
    assert state["status"] == "done" and state["progress"] == 1.0
    again = client.post("/api/v1/export", json={"format": "md"},
                        headers={"X-CSRF-Token": csrf(client)})
    assert again.get_json()["job"] == job
    download = client.get(state["url"])
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert "attachment" in download.headers["Content-Disposition"]


def test_export_api_refuses_unknown_formats_refs_and_jobs(client, login_as):
    login_as("reader")
    headers = {"X-CSRF-Token": csrf(client)}
    assert client.post("/api/v1/export", json={"format": "exe"}, headers=headers
                       ).status_code == 400
    assert client.post("/api/v1/export", json={"format": "pdf", "ref": "--help"},
                       headers=headers).status_code == 400
    assert client.get("/api/v1/export/../../etc").status_code == 404
    assert client.get("/api/v1/export/" + "0" * 24).status_code == 404


def test_facilitator_edits_outline_and_freezes_in_the_browser(client, login_as):
    login_as("facilitator")
    page = client.get("/export")
    assert page.status_code == 200 and b"Outline" in page.data and b"draggable" in page.data
    assert post_form(client, "/export/outline", title="Boek", page="Home", position="1",
                     add="").status_code == 302
    assert post_form(client, "/export/freeze", message="eerste").status_code == 302
    listing = client.get("/api/v1/export/versions").get_json()
    assert listing[0]["name"] == "whitepaper-v1" and listing[0]["message"] == "eerste"


def test_reader_sees_export_but_not_the_outline_editor(client, login_as):
    login_as("reader")
    page = client.get("/export")
    assert page.status_code == 200 and b"Save outline" not in page.data
    assert post_form(client, "/export/freeze").status_code == 403
    started = post_form(client, "/export", format="html", ref="")
    assert started.status_code == 302
    job = started.headers["Location"].rsplit("/", 1)[1]
    wait_done(client, job)
    status = client.get(f"/export/jobs/{job}")
    assert b"Download" in status.data


def test_cli_exports_a_pdf_with_progress_on_stderr(tmp_path: Path):
    data = tmp_path / "data"
    make_sample(data)
    out = tmp_path / "paper.epub"
    done = cli(data, "export", "--format", "epub", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "Exporting [" in done.stderr and "100%" in done.stderr
    assert zipfile.is_zipfile(out)
    bad = cli(data, "export", "--format", "exe", "--out", str(out))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def paused_exports_client(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A client of a wiki whose exports only queue (none may run): queue states stay put."""
    from app import create_app
    from tests.conftest import PASSWORDS

    app = create_app({"data_dir": str(tmp_path / "data"), "export_running": 0})
    app.extensions["cowiki"].accounts.add_user("reader", "reader@example.org", "reader",
                                               PASSWORDS["reader"])
    return app.test_client()


def test_a_third_export_of_one_person_waits_429_and_queued_ones_show_their_place(
        tmp_path: Path):
    client = paused_exports_client(tmp_path)
    auth = ("reader", "reader-pass-1")
    jobs = [client.post("/api/v1/export", json={"format": fmt}, auth=auth)
            for fmt in ("pdf", "epub")]
    assert [r.status_code for r in jobs] == [202, 202]
    states = [client.get(f"/api/v1/export/{r.get_json()['job']}", auth=auth).get_json()
              for r in jobs]
    assert [(s["status"], s["position"]) for s in states] == [("queued", 1), ("queued", 2)]
    third = client.post("/api/v1/export", json={"format": "docx"}, auth=auth)
    assert third.status_code == 429 and int(third.headers["Retry-After"]) > 0
    assert "2 exports waiting or running" in third.get_json()["message"]
    page = client.get(f"/export/jobs/{states[1]['job']}", auth=auth)
    assert "Waiting in the queue: number 2." in page.text


def export_done(client, fmt: str, ref: str = "") -> dict:  # type: ignore[no-untyped-def]
    started = client.post("/api/v1/export", json={"format": fmt, "ref": ref},
                          headers={"X-CSRF-Token": csrf(client)})
    assert started.status_code == 202, started.text
    state = wait_done(client, started.get_json()["job"])
    assert state["status"] == "done", state["error"]
    return state


def test_html_download_names_its_charset_once(client, login_as):
    login_as("reader")
    download = client.get(export_done(client, "html")["url"])
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "text/html; charset=utf-8"


def test_download_of_a_tagged_export_is_named_after_the_version(client, login_as):
    login_as("facilitator")
    head = export_done(client, "md")
    assert head["version"] is None
    frozen = client.post("/api/v1/export/versions", json={},
                         headers={"X-CSRF-Token": csrf(client)})
    assert frozen.status_code == 201 and frozen.get_json()["already_frozen"] is False
    tagged = export_done(client, "md", "whitepaper-v1")
    assert tagged["job"] != head["job"] and tagged["commit"] == head["commit"]
    assert tagged["version"] == "whitepaper-v1"
    download = client.get(tagged["url"])
    assert "whitepaper-v1.zip" in download.headers["Content-Disposition"]


def test_freezing_a_frozen_text_again_says_which_version_it_is(client, login_as):
    login_as("facilitator")
    headers = {"X-CSRF-Token": csrf(client)}
    first = client.post("/api/v1/export/versions", json={"message": "eerste"}, headers=headers)
    again = client.post("/api/v1/export/versions", json={}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    answer = again.get_json()
    assert answer["already_frozen"] is True and answer["name"] == "whitepaper-v1"
    assert "already frozen as whitepaper-v1" in answer["notice"]
    page = post_form(client, "/export/freeze", message="derde")
    assert "already frozen as whitepaper-v1" in client.get(page.headers["Location"]).text
    assert [v["name"] for v in client.get("/api/v1/export/versions").get_json()] == [
        "whitepaper-v1"]


def test_export_of_an_outline_with_a_missing_page_warns_and_export_page_lists_it(
        client, login_as):
    login_as("facilitator")
    client.put("/api/v1/outline", json={"title": "Samen", "pages": ["Home", "Nergens"]},
               headers={"X-CSRF-Token": csrf(client)})
    state = export_done(client, "md")
    assert state["missing_pages"] == ["Nergens"]
    assert len(state["warnings"]) == 1 and "Nergens" in state["warnings"][0]
    status = client.get(f"/export/jobs/{state['job']}").text
    assert "Nergens, but that page does not exist" in status
    page = client.get("/export").text
    warning = page.split('class="notice missing-pages"', 1)[1].split("</div>", 1)[0]
    assert "Nergens" in warning and "Home" not in warning
    login_as("reader")
    assert 'class="notice missing-pages"' not in client.get("/export").text
