"""Every kind of change, through every entry point, meets the same checks and listeners.

One table: each row makes one change the way a person would (browser form,
JSON API, the `cowiki` command, git push) and names what must follow: the
audit line, the search index waking up by itself, the saver's draft gone, the
outline and links following a rename.
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from tests.conftest import LiveServer, cli, csrf, post_form
from tests.web.git_client import GitClient
from tests.web.test_pages_web import png
from wiki.datadir import Services
from wiki.export.build import export, resolve


class AuditLines(logging.Handler):
    """Collects the audit events of this process (cowiki.audit.*)."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        fields = getattr(record, "audit_fields", {})
        self.events.append({"event": record.name.rsplit(".", 1)[-1], **fields})

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("kind") == kind]


@pytest.fixture
def audit_lines() -> Iterator[AuditLines]:
    handler = AuditLines()
    logger = logging.getLogger("cowiki.audit")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def services_of(app: Flask) -> Services:
    found: Services = app.extensions["cowiki"]
    return found


def index_catches_up_by_itself(services: Services, seconds: float = 15) -> bool:
    """True when the index reaches the head without anyone searching (the listener woke it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if services.indexer.is_fresh():
            return True
        time.sleep(0.05)
    return False


def found(services: Services, words: str) -> set[str]:
    return {hit.path for hit in services.indexer.search(words).hits}


class AnsweringClient(FlaskClient):
    """Reads each answer whole and closes it, as the server does once the body is written:
    what waits for the answer (wiki/views/followups.py) then runs, the index's ring too."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = AnsweringClient
    return app.test_client()


@pytest.fixture
def login_as(login_as: Callable[[str], FlaskClient]) -> Callable[[str], FlaskClient]:
    """Log in, and send the session's CSRF token with every request, as the page's script does."""

    def login(role: str) -> FlaskClient:
        client = login_as(role)
        client.environ_base["HTTP_X_CSRF_TOKEN"] = csrf(client)
        return client

    return login


def revision(client: FlaskClient, page: str) -> str:
    return str(client.get(f"/api/v1/pages/{page}").get_json()["revision"])


@dataclass(frozen=True)
class Case:
    """One change made through one entry point, and the page text it leaves to find."""

    kind: str
    via: str
    make: Callable[[FlaskClient], None]
    finds: tuple[str, str] | None = None  # (words, page) the index must find afterwards
    draft_page: str | None = None  # the saver's draft of this page must be gone


def browser_create(c: FlaskClient) -> None:
    post_form(c, "/p/Kievit/edit", markdown="# Kievit\n\nDe grutto roept.\n", base_revision="")


def browser_save(c: FlaskClient) -> None:
    post_form(c, "/p/Home/edit", markdown="# Home\n\nDe tureluur broedt.\n",
              base_revision=revision(c, "Home"))


def browser_revert(c: FlaskClient) -> None:
    first = revision(c, "Home")
    c.put("/api/v1/pages/Home", json={"markdown": "# Home\n\nweg\n", "base_revision": first})
    post_form(c, "/p/Home/revert", revision=first)


def browser_rename(c: FlaskClient) -> None:
    post_form(c, "/p/Notities/rename", to="Aantekeningen", base_revision=revision(c, "Notities"))


def browser_delete(c: FlaskClient) -> None:
    post_form(c, "/p/Notities/delete", base_revision=revision(c, "Notities"))


def browser_upload(c: FlaskClient) -> None:
    c.post("/attachments", data={"file": (BytesIO(png()), "kaart.png")})


def browser_outline(c: FlaskClient) -> None:
    post_form(c, "/export/outline", title="Samen schrijven", page="Home", position="1")


def browser_freeze(c: FlaskClient) -> None:
    post_form(c, "/admin/phases", scope="Notities", frozen="1")


def api_create(c: FlaskClient) -> None:
    c.put("/api/v1/pages/Kievit", json={"markdown": "# Kievit\n\nDe grutto roept.\n"})


def api_save(c: FlaskClient) -> None:
    c.put("/api/v1/pages/Home", json={"markdown": "# Home\n\nDe tureluur broedt.\n",
                                      "base_revision": revision(c, "Home")})


def api_rename(c: FlaskClient) -> None:
    c.post("/api/v1/pages/Notities/rename",
           json={"to": "Aantekeningen", "base_revision": revision(c, "Notities")})


def api_delete(c: FlaskClient) -> None:
    c.delete("/api/v1/pages/Notities", json={"base_revision": revision(c, "Notities")})


def api_outline(c: FlaskClient) -> None:
    c.put("/api/v1/outline", json={"title": "Samen schrijven", "pages": ["Home"]})


def api_version(c: FlaskClient) -> None:
    c.post("/api/v1/export/versions", json={})


def api_freeze(c: FlaskClient) -> None:
    c.put("/api/v1/freeze", json={"scope": "Notities", "frozen": True})


CASES = [
    Case("created", "web", browser_create, ("grutto", "Kievit"), "Kievit"),
    Case("saved", "web", browser_save, ("tureluur", "Home"), "Home"),
    Case("reverted", "web", browser_revert, ("cowiki", "Home"), "Home"),
    Case("renamed", "web", browser_rename, ("scholekster", "Aantekeningen")),
    Case("deleted", "web", browser_delete),
    Case("uploaded", "web", browser_upload),
    Case("outline", "web", browser_outline),
    Case("frozen", "web", browser_freeze),
    Case("created", "api", api_create, ("grutto", "Kievit"), "Kievit"),
    Case("saved", "api", api_save, ("tureluur", "Home"), "Home"),
    Case("renamed", "api", api_rename, ("scholekster", "Aantekeningen")),
    Case("deleted", "api", api_delete),
    Case("outline", "api", api_outline),
    Case("frozen", "api", api_freeze),
    Case("frozen", "api", api_version),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.via}-{c.kind}-{c.make.__name__}")
def test_every_change_is_checked_audited_indexed_and_followed(
        case: Case, app: Flask, login_as: Callable[[str], FlaskClient],
        audit_lines: AuditLines) -> None:
    services = services_of(app)
    client = login_as("facilitator")
    client.put("/api/v1/pages/Notities",
               json={"markdown": "# Notities\n\nDe scholekster.\n\nZie [[Notities]].\n"})
    client.put("/api/v1/pages/Kievit/draft", json={"markdown": "half af", "base_revision": ""})
    client.put("/api/v1/pages/Home/draft", json={"markdown": "half af", "base_revision": ""})
    assert index_catches_up_by_itself(services)
    audit_lines.events.clear()

    case.make(client)

    events = audit_lines.of(case.kind)
    assert len(events) == 1, audit_lines.events
    assert events[0]["via"] == case.via and events[0]["user"] == "facilitator"
    if case.kind == "renamed":  # its follow-up commit rewrote the page's link to itself
        moved = client.get("/api/v1/pages/Aantekeningen").get_json()
        assert "Zie [[Aantekeningen]]." in moved["markdown"]
        assert services.history.log("Aantekeningen.md", limit=2)[1].revision == events[0][
            "revision"]
    elif case.kind != "frozen" or case.make is api_version:
        assert events[0]["revision"] == services.repo.head()
    assert index_catches_up_by_itself(services)
    if case.finds:
        words, page = case.finds
        assert page in found(services, words)
    if case.draft_page:
        assert client.get(f"/api/v1/pages/{case.draft_page}/draft").status_code == 204


def test_a_renamed_chapter_keeps_its_place_in_the_outline_and_its_links(
        client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    login_as("facilitator")
    for name, text in (("Markt", "# Markt\n\nDe markt groeit.\n"),
                       ("Klanten", "# Klanten\n\nZie [[markt]] en [[Markt|de markt]].\n")):
        assert client.put(f"/api/v1/pages/{name}", json={"markdown": text}).status_code == 201
    client.put("/api/v1/outline", json={"title": "Wit", "pages": ["Home", "Markt", "Klanten"]})

    renamed = client.post("/api/v1/pages/Markt/rename",
                          json={"to": "Hoofdstuk 1/Markt", "base_revision": revision(client,
                                                                                     "Markt")})

    assert renamed.status_code == 200
    outline = client.get("/api/v1/outline").get_json()
    assert outline["pages"] == ["Home", "Hoofdstuk 1/Markt", "Klanten"]
    klanten = client.get("/api/v1/pages/Klanten").get_json()["markdown"]
    assert klanten == "# Klanten\n\nZie [[Hoofdstuk 1/Markt]] en [[Hoofdstuk 1/Markt|de markt]].\n"
    follow_up = client.get("/api/v1/changes?limit=1").get_json()[0]
    assert follow_up["author"] == "facilitator"
    assert [p["path"] for p in follow_up["pages"]] == ["Klanten"]  # and outline.json


def test_a_deleted_page_leaves_the_outline(client: FlaskClient,
                                           login_as: Callable[[str], FlaskClient]) -> None:
    login_as("facilitator")
    client.put("/api/v1/pages/Markt", json={"markdown": "# Markt\n"})
    client.put("/api/v1/outline", json={"title": "Wit", "pages": ["Home", "Markt"]})
    client.delete("/api/v1/pages/Markt", json={"base_revision": revision(client, "Markt")})
    assert client.get("/api/v1/outline").get_json()["pages"] == ["Home"]


def test_a_stale_rename_is_refused_with_409_and_changes_nothing(
        client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    login_as("participant")
    first = client.put("/api/v1/pages/Markt", json={"markdown": "# Markt\n"}).get_json()
    client.put("/api/v1/pages/Markt", json={"markdown": "# Markt\n\nmeer\n",
                                            "base_revision": first["revision"]})
    stale = client.post("/api/v1/pages/Markt/rename",
                        json={"to": "Elders", "base_revision": first["revision"]})
    assert stale.status_code == 409
    assert client.get("/api/v1/pages/Elders").status_code == 404


def test_a_listener_that_fails_does_not_turn_a_saved_change_into_an_error(
        app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    services = services_of(app)
    calls: list[str] = []

    def broken(change: object) -> None:
        calls.append("tried")
        if len(calls) == 1:
            raise OSError("database is locked")

    services.changes.add_listener("broken for a moment", broken)
    login_as("participant")
    saved = client.put("/api/v1/pages/Markt", json={"markdown": "# Markt\n"})
    assert saved.status_code == 201
    assert client.get("/api/v1/pages/Markt").status_code == 200
    deadline = time.monotonic() + 5
    while services.changes.pending_retries and time.monotonic() < deadline:
        time.sleep(0.05)
    assert calls == ["tried", "tried"]  # retried once in the background, then it worked


def test_importing_case_twins_is_refused_in_one_line_and_changes_nothing(
        tmp_path: Path, data_dir: Path) -> None:
    source = tmp_path / "boek"
    source.mkdir()
    (source / "Intro.md").write_text("# Intro\n")
    (source / "intro.md").write_text("# intro\n")
    assert cli(data_dir, "init").returncode == 0
    assert cli(data_dir, "adduser", "anna", "--email", "anna@example.org", "--role",
               "facilitator", "--password-stdin", stdin="lang-genoeg-wachtwoord-9\n"
               ).returncode == 0
    head = (data_dir / "repo.git" / "refs" / "heads" / "main").read_text()

    done = cli(data_dir, "import", str(source), "--author", "anna")

    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Intro" in done.stderr and "intro" in done.stderr
    assert (data_dir / "repo.git" / "refs" / "heads" / "main").read_text() == head


def test_import_is_audited_and_indexed(tmp_path: Path, data_dir: Path) -> None:
    source = tmp_path / "boek"
    source.mkdir()
    (source / "Wadden.md").write_text("# Wadden\n\nDe lepelaar.\n")
    cli(data_dir, "init")
    cli(data_dir, "adduser", "anna", "--email", "anna@example.org", "--role", "facilitator",
        "--password-stdin", stdin="lang-genoeg-wachtwoord-9\n")
    done = cli(data_dir, "import", str(source), "--author", "anna")
    assert done.returncode == 0, done.stderr
    audited = (data_dir / "audit.log").read_text()
    assert '"event":"imported"' in audited and '"via":"cli"' in audited
    services = services_of(create_app({"data_dir": str(data_dir)}))
    assert "Wadden" in found(services, "lepelaar")


def test_a_push_is_one_pushed_change_audited_and_indexed(live_server: LiveServer,
                                                          tmp_path: Path) -> None:
    git = GitClient(tmp_path)
    work = git.clone(live_server, "participant", "werk")
    git.commit_file(work, "Wadden.md", b"# Wadden\n\nDe lepelaar broedt.\n")
    git.run("push", "-q", "origin", "main", cwd=work)
    session = live_server.session("participant")
    deadline = time.monotonic() + 20
    log = ""
    while time.monotonic() < deadline:
        log = (live_server.data_dir / "server.log").read_text()
        if '"event":"pushed"' in log:
            break
        time.sleep(0.1)
    pushed = [line for line in log.splitlines() if '"event":"pushed"' in line]
    assert len(pushed) == 1 and '"via":"git"' in pushed[0] and '"commits":1' in pushed[0]
    hits = session.get(f"{live_server.url}/api/v1/search?q=lepelaar").json()
    assert [r["path"] for r in hits["results"]] == ["Wadden"]


def test_only_facilitators_may_delete_or_rename_home(
        client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    login_as("participant")
    base = revision(client, "Home")
    assert client.delete("/api/v1/pages/Home", json={"base_revision": base}).status_code == 403
    moved = client.post("/api/v1/pages/Home/rename", json={"to": "Start"})
    assert moved.status_code == 403
    assert client.get("/api/v1/pages/Home").status_code == 200


def test_a_new_page_joins_the_end_of_the_outline(
        client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    login_as("facilitator")
    client.put("/api/v1/outline", json={"title": "Wit", "pages": ["Home"]})
    login_as("participant")
    client.put("/api/v1/pages/Hoofdstuk 3/Kansen", json={"markdown": "# Kansen\n"})
    assert client.get("/api/v1/outline").get_json()["pages"] == ["Home", "Hoofdstuk 3/Kansen"]
    latest = client.get("/api/v1/changes?limit=1").get_json()[0]
    assert latest["author"] == "participant"


def test_a_renamed_chapter_stays_in_the_exported_pdf_in_its_place(
        app: Flask, client: FlaskClient, login_as: Callable[[str], FlaskClient],
        tmp_path: Path) -> None:
    login_as("facilitator")
    for name, text in (("Markt", "# Markt\n\nDe grutto markt groeit.\n"),
                       ("Slot", "# Slot\n\nTot slot de tureluur.\n")):
        client.put(f"/api/v1/pages/{name}", json={"markdown": text})
    client.put("/api/v1/outline", json={"title": "Wit", "pages": ["Markt", "Slot"]})
    client.post("/api/v1/pages/Markt/rename", json={"to": "Hoofdstuk 1/Markt"})
    services = services_of(app)
    pdf = tmp_path / "wit.pdf"
    pdf.write_bytes(export(services.repo, services.history, resolve(services.repo, None), "pdf"))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    body = text.split("grutto", 1)
    assert len(body) == 2 and "tureluur" in body[1]  # the chapter, before the one after it
