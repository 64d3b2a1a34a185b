"""Toward a fleet: a placement file, `move-wiki` between two served roots, proxy configs.

Two real `cowiki --root` servers on two loopback ports stand for two nodes. A
wiki with pages, a comment and a second account moves from root A to root B
with the real command; afterwards B serves it (same accounts, pages, history
and git), A answers 404, and the placement file names B. Every test of the move
runs twice: with each wiki's own SQLite file, and with one PostgreSQL database
both nodes reach (the realistic fleet), where the wiki's schema and the accounts
the wikis share stay in place and only its files move.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from sqlalchemy import create_engine

from cowiki import placement as placements
from storage.names import validate_slug
from tests.conftest import BACKENDS, ROOT, free_port
from tests.web.git_client import GitClient
from tests.web.test_multi_wiki import PASSWORD, cowiki, create_wiki, empty_database, wait_until
from wiki.config import Settings
from wiki.db import open_database
from wiki.live.journal import OPENED, UPDATE, Journal, journal_path

SLUG = "ws-moving"
FACILITATOR = "Ann"  # create_wiki's facilitator of SLUG and of ws-staying
PARTICIPANT = "Pat"
SCHEMA = f"wiki_{SLUG}"  # SLUG's tables in a shared PostgreSQL database


@dataclass(frozen=True)
class Node:
    """One `cowiki --root DIR serve` on a loopback port."""

    name: str
    folder: Path
    url: str
    process: subprocess.Popen[bytes]

    def wiki(self, slug: str) -> str:
        return f"{self.url}/w/{slug}"


def serve_root(name: str, folder: Path) -> Node:
    port = free_port()
    log = open(folder.parent / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        [sys.executable, "-m", "cowiki", "--root", str(folder), "serve", "--port", str(port),
         "--workers", "2"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "COWIKI_RATE_SAVES": "0"})
    node = Node(name, folder, f"http://127.0.0.1:{port}", process)
    wait_until(lambda: _up(node.url + "/healthz"), 60)
    return node


def _up(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def as_user(name: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.auth = (name, PASSWORD)
    return session


@dataclass(frozen=True)
class Fleet:
    a: Node
    b: Node
    placement: Path
    before: dict[str, object]  # what the wiki showed on A before the move
    move: subprocess.CompletedProcess[str]
    database_url: str  # the PostgreSQL database both nodes share; "" for SQLite files
    rows: dict[str, list[tuple[object, ...]]]  # shared: SLUG's rows right before the move


@pytest.fixture(scope="module", params=BACKENDS)
def fleet(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Fleet]:
    """SLUG moved from node A to node B, each wiki with its SQLite file, or both nodes on
    one PostgreSQL database (a schema per wiki, accounts shared)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("COWIKI_DATABASE_URL", raising=False)
        url = ""
        if request.param == "postgresql":
            cluster = request.getfixturevalue("postgres")
            if cluster is None:
                pytest.skip("PostgreSQL is not installed here")
            url = empty_database(cluster)
            patch.setenv("COWIKI_DATABASE_URL", url)
        yield from _fleet(tmp_path_factory.mktemp("fleet"), url)


def _fleet(base: Path, url: str) -> Iterator[Fleet]:
    (base / "a").mkdir()
    (base / "b").mkdir()
    for slug in (SLUG, "ws-staying"):
        done = create_wiki(base / "a", slug, FACILITATOR)
        assert done.returncode == 0, done.stderr
    added = cowiki("--data", str(base / "a" / SLUG), "adduser", PARTICIPANT, "--email",
                   "pat@example.org", "--role", "participant", "--password-stdin",
                   stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    a, b = serve_root("node-a", base / "a"), serve_root("node-b", base / "b")
    try:
        placement = base / "placement.json"
        for slug in (SLUG, "ws-staying"):
            assigned = cowiki("placement", "assign", slug, "--node", "node-a", "--node-url",
                              a.url, "--placement", str(placement))
            assert assigned.returncode == 0, assigned.stderr
        before = fill_wiki(a)
        rows = shared_rows(url)
        moved = cowiki("--root", str(a.folder), "move-wiki", SLUG, "--to-root", str(b.folder),
                       "--node", "node-b", "--node-url", b.url, "--placement", str(placement))
        yield Fleet(a, b, placement, before, moved, url, rows)
    finally:
        for node in (a, b):
            node.process.terminate()
            try:
                node.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                node.process.kill()
    for name in ("node-a", "node-b"):
        log = (base / f"{name}.log").read_text(errors="replace")
        assert "Traceback" not in log, log


def fill_wiki(a: Node) -> dict[str, object]:
    """Pages, a comment and a second author on A; what the wiki shows afterwards."""
    ann, pat = as_user(FACILITATOR), as_user(PARTICIPANT)
    base = a.wiki(SLUG) + "/api/v1"
    for name, text in (("Plan", "# Plan\n\nMove the workshop.\n"),
                       ("Chapter 1/Market", "# Market\n\nZeppelins.\n")):
        ann.put(f"{base}/pages/{name}", json={"markdown": text}, timeout=30).raise_for_status()
    page = pat.get(f"{base}/pages/Plan", timeout=10).json()
    pat.put(f"{base}/pages/Plan", json={"markdown": page["markdown"] + "\nBy Pat.\n",
                                        "base_revision": page["revision"]},
            timeout=30).raise_for_status()
    comment = pat.post(f"{base}/pages/Plan/comments", json={"body": "Ready to move?"},
                       timeout=10)
    assert comment.status_code == 201, comment.text
    for _warm in range(6):  # both workers of A open the wiki (and cache its app)
        assert ann.get(a.wiki(SLUG) + "/p/Plan", timeout=10).status_code == 200
    return {"pages": sorted(p["path"] for p in ann.get(f"{base}/pages", timeout=10).json()),
            "history": ann.get(f"{base}/pages/Plan/history", timeout=10).json(),
            "comments": [c["body"] for c in pat.get(f"{base}/pages/Plan/comments",
                                                     timeout=10).json()],
            "plan": ann.get(f"{base}/pages/Plan", timeout=10).json()["markdown"]}


def shared_rows(url: str, slug: str = SLUG) -> dict[str, list[tuple[object, ...]]]:
    """A wiki's members and comments, the accounts and the wiki schemas of the shared
    database, each row with its xmin: a row copied or written again has another."""
    if not url:
        return {}
    schema = f'"wiki_{validate_slug(slug)}"'
    queries = {
        "members": f"SELECT xmin::text, * FROM {schema}.members ORDER BY user_id",  # noqa: S608
        "comments": f"SELECT xmin::text, * FROM {schema}.comments ORDER BY id",  # noqa: S608
        "accounts": "SELECT xmin::text, id, name, password_hash FROM cowiki_accounts.users"
                    " ORDER BY id",
        "schemas": "SELECT nspname FROM pg_namespace WHERE nspname ~ '^wiki_' ORDER BY 1",
    }
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {name: [tuple(row) for row in conn.exec_driver_sql(query)]
                    for name, query in queries.items()}
    finally:
        engine.dispose()


# -- the move ------------------------------------------------------------------------------


def test_move_wiki_reports_one_line_per_step_and_succeeds(fleet: Fleet) -> None:
    assert fleet.move.returncode == 0, fleet.move.stderr
    lines = fleet.move.stdout.splitlines()
    for step in ("froze", "saved the live edits", "backed up", "restored into", "verified:",
                 "placement:", "retired the old folder", "moved ws-moving to node node-b"):
        assert any(line.startswith(step) for line in lines), (step, lines)
    assert fleet.move.stderr == ""


def test_on_a_shared_database_the_moved_wiki_keeps_its_rows_and_accounts_in_place(
        fleet: Fleet) -> None:
    if not fleet.database_url:
        pytest.skip("only a PostgreSQL database is shared by the nodes")
    after = shared_rows(fleet.database_url)
    assert after == fleet.rows  # the same rows, not copies: nothing written, nothing new
    assert [row[0] for row in after["schemas"]] == [SCHEMA, "wiki_ws-staying"]
    assert len(after["members"]) == 2 and len(after["comments"]) == 1
    assert [row[2] for row in after["accounts"]] == [FACILITATOR, PARTICIPANT]
    assert (fleet.b.folder / SLUG / "database-schema").read_text().strip() == SCHEMA
    # Ann is in the moved wiki (now on B) and in ws-staying (still on A): one account, one
    # password, on both nodes; a new password set on B counts on A at once.
    moved, staying = fleet.b.wiki(SLUG) + "/api/v1", fleet.a.wiki("ws-staying") + "/api/v1"
    for api in (moved, staying):
        assert as_user(FACILITATOR).get(f"{api}/pages", timeout=10).status_code == 200
    new = "a-new-long-secret-9"
    changed = as_user(FACILITATOR).post(f"{moved}/account/password",
                                        json={"old": PASSWORD, "new": new}, timeout=10)
    assert changed.status_code == 200, changed.text
    try:
        again = requests.Session()
        again.trust_env, again.auth = False, (FACILITATOR, new)
        assert again.get(f"{staying}/pages", timeout=10).status_code == 200
        assert as_user(FACILITATOR).get(f"{staying}/pages", timeout=10).status_code == 401
    finally:
        back = again.post(f"{staying}/account/password", json={"old": new, "new": PASSWORD},
                          timeout=10)
        assert back.status_code == 200, back.text
    assert as_user(FACILITATOR).get(f"{moved}/pages", timeout=10).status_code == 200


def test_b_serves_the_moved_wiki_with_its_accounts_pages_comments_and_history(
        fleet: Fleet) -> None:
    base = fleet.b.wiki(SLUG) + "/api/v1"
    ann, pat = as_user(FACILITATOR), as_user(PARTICIPANT)
    assert sorted(p["path"] for p in ann.get(f"{base}/pages", timeout=10).json()) \
        == fleet.before["pages"]
    assert ann.get(f"{base}/pages/Plan", timeout=10).json()["markdown"] == fleet.before["plan"]
    assert ann.get(f"{base}/pages/Plan/history", timeout=10).json() == fleet.before["history"]
    assert [c["body"] for c in pat.get(f"{base}/pages/Plan/comments", timeout=10).json()] \
        == fleet.before["comments"]
    # The form login of a browser works with the same password, and the wiki takes edits.
    session = requests.Session()
    session.trust_env = False
    form = session.get(fleet.b.wiki(SLUG) + "/login", timeout=10).text
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = session.post(fleet.b.wiki(SLUG) + "/login", data={
        "name": PARTICIPANT, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(f"/w/{SLUG}/")
    saved = pat.put(f"{base}/pages/After the move", json={"markdown": "On node b.\n"},
                    timeout=30)
    assert saved.status_code == 201, saved.text

    def found() -> list[str]:
        hits = ann.get(f"{base}/search?q=zeppelins", timeout=10).json()
        return [hit["path"] for hit in hits["results"]]

    wait_until(lambda: found() == ["Chapter 1/Market"])  # the index was rebuilt on B


def test_the_git_clone_works_on_b_with_the_whole_history(fleet: Fleet, tmp_path: Path) -> None:
    git = GitClient.in_folder(tmp_path)
    host = fleet.b.url.split("://", 1)[1]
    work = git.home / "clone"
    git.run("clone", f"http://{PARTICIPANT}:{quote(PASSWORD)}@{host}/w/{SLUG}/wiki.git",
            str(work))
    assert (work / "Plan.md").read_text() == fleet.before["plan"]
    log = git.run("log", "--format=%H", "--", "Plan.md", cwd=work).stdout.split()
    history = fleet.before["history"]
    assert isinstance(history, list)
    assert log == [entry["revision"] for entry in history]


def test_a_answers_404_for_the_moved_wiki_and_keeps_its_old_folder_aside(fleet: Fleet) -> None:
    for _each_worker in range(6):
        for path in ("/p/Plan", "/api/v1/pages", "/wiki.git/info/refs?service=git-upload-pack"):
            answer = as_user(FACILITATOR).get(fleet.a.wiki(SLUG) + path, timeout=10)
            assert answer.status_code == 404, path
    assert as_user(FACILITATOR).get(fleet.a.wiki("ws-staying") + "/api/v1/pages",
                                    timeout=10).status_code == 200
    assert not (fleet.a.folder / SLUG).exists()
    assert not list(fleet.b.folder.glob(".*"))  # no staging or failed copy left on B
    [retired] = fleet.a.folder.glob(f".moved-{SLUG}-*")
    assert (retired / "repo.git").is_dir()
    note = json.loads((retired / "moved.json").read_text())
    assert note["node"] == "node-b" and note["to"] == str(fleet.b.folder / SLUG)
    if not fleet.database_url:
        assert (retired / "cowiki.db").is_file()
        return
    # The schema is B's now: the old folder says where it is but no longer leads there,
    # so a command run on it (`cowiki --data`) cannot write into the wiki B serves.
    assert note["schema"] == SCHEMA and not (retired / "database-schema").exists()
    db = open_database(Settings.load({"data_dir": str(retired),
                                      "database_url": fleet.database_url}))
    assert db.schema != SCHEMA
    db.dispose()


def test_a_new_wiki_of_the_moved_name_on_a_is_served_fresh_not_the_old_one(
        fleet: Fleet) -> None:
    if fleet.database_url:
        pytest.skip("in a shared database a slug names one schema, the moved wiki's: see"
                    " test_on_a_shared_database_the_old_node_refuses_a_new_wiki_of_a_moved_slug")
    created = create_wiki(fleet.a.folder, SLUG, "Cat")
    assert created.returncode == 0, created.stderr
    for _each_worker in range(6):
        pages = as_user("Cat").get(fleet.a.wiki(SLUG) + "/api/v1/pages", timeout=10)
        assert pages.status_code == 200, pages.text
        assert [p["path"] for p in pages.json()] == ["Home"]
        assert as_user(FACILITATOR).get(fleet.a.wiki(SLUG) + "/api/v1/pages",
                                        timeout=10).status_code == 401


def test_on_a_shared_database_the_old_node_refuses_a_new_wiki_of_a_moved_slug(
        fleet: Fleet) -> None:
    if not fleet.database_url:
        pytest.skip("only a PostgreSQL database is shared by the nodes")
    members = shared_rows(fleet.database_url)["members"]
    created = create_wiki(fleet.a.folder, SLUG, "Cat")
    assert created.returncode == 2 and created.stderr.count("\n") == 1, created.stdout
    assert shared_rows(fleet.database_url)["members"] == members
    assert not (fleet.a.folder / SLUG).exists()


def test_the_placement_file_names_node_b(fleet: Fleet) -> None:
    placed = placements.load(fleet.placement)
    assert placed.node_of(SLUG) == "node-b" and placed.node_of("ws-staying") == "node-a"
    assert placed.nodes == {"node-a": fleet.a.url, "node-b": fleet.b.url}


def test_a_move_to_a_root_that_has_the_slug_is_refused_and_changes_nothing(
        fleet: Fleet) -> None:
    if fleet.database_url:
        # In a shared database B cannot have a wiki of its own called ws-staying (its
        # schema is A's wiki's); a folder left there by hand is in the way all the same.
        (fleet.b.folder / "ws-staying").mkdir()
        (fleet.b.folder / "ws-staying" / "notes.txt").write_text("left by hand\n")
    else:
        created = create_wiki(fleet.b.folder, "ws-staying", "Bob")
        assert created.returncode == 0, created.stderr
    placement_before = fleet.placement.read_bytes()
    a_before, b_before = listing(fleet.a.folder / "ws-staying"), \
        listing(fleet.b.folder / "ws-staying")
    refused = cowiki("--root", str(fleet.a.folder), "move-wiki", "ws-staying", "--to-root",
                     str(fleet.b.folder), "--node", "node-b", "--placement", str(fleet.placement))
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "exists already" in refused.stderr
    assert fleet.placement.read_bytes() == placement_before
    assert listing(fleet.a.folder / "ws-staying") == a_before
    assert listing(fleet.b.folder / "ws-staying") == b_before
    assert as_user(FACILITATOR).get(fleet.a.wiki("ws-staying") + "/p/Home",
                                    timeout=10).status_code == 200
    if not fleet.database_url:
        assert as_user("Bob").get(fleet.b.wiki("ws-staying") + "/api/v1/pages/Plan",
                                  timeout=10).status_code == 404  # B's own wiki, untouched


def listing(folder: Path) -> list[str]:
    """What is in a wiki's folder, but run/: a node's server makes it in every folder it
    sees (for live editing on demand)."""
    return sorted(set(os.listdir(folder)) - {"run"})


def test_a_wiki_being_moved_answers_503_moving_until_the_marker_goes(fleet: Fleet) -> None:
    marker = fleet.a.folder / "ws-staying" / "moving.json"
    marker.write_text("{}")
    try:
        answer = requests.get(fleet.a.wiki("ws-staying") + "/p/Home", timeout=10,
                              headers={"Accept-Language": "en"})
        assert answer.status_code == 503 and "moving" in answer.text
        assert answer.headers["Retry-After"]
        refused = cowiki("--root", str(fleet.a.folder), "move-wiki", "ws-staying", "--to-root",
                         str(fleet.b.folder.parent), "--node", "node-b", "--placement",
                         str(fleet.placement))
        assert refused.returncode == 2 and "being moved already" in refused.stderr
    finally:
        marker.unlink()
    assert as_user(FACILITATOR).get(fleet.a.wiki("ws-staying") + "/p/Home",
                                    timeout=10).status_code == 200


def test_proxy_config_routes_every_slug_to_its_node(fleet: Fleet) -> None:
    for kind in ("nginx", "haproxy"):
        done = cowiki("placement", "proxy-config", "--format", kind, "--placement",
                      str(fleet.placement))
        assert done.returncode == 0, done.stderr
        for slug, node in ((SLUG, "node_b"), ("ws-staying", "node_a")):
            assert slug in done.stdout and f"cowiki_{node}" in done.stdout
        for url in (fleet.a.url, fleet.b.url):
            assert url.split("://", 1)[1] in done.stdout


def test_a_move_that_fails_is_undone_and_its_copy_no_longer_names_the_schema(
        fleet: Fleet) -> None:
    # Typing in a live room that never reached git (and no live process to save it) stops
    # the move after the copy was made: step 5 fails.
    staying, other = fleet.a.folder / "ws-staying", fleet.b.folder.parent / "c"
    other.mkdir()
    journal = Journal(journal_path(staying, "Home"))
    journal.append(OPENED, page="Home", revision="0" * 40, room="Home@0")
    journal.append(UPDATE, b"typing", account=1)
    journal.close()
    rows, placement_before = shared_rows(fleet.database_url, "ws-staying"), \
        fleet.placement.read_bytes()
    try:
        failed = cowiki("--root", str(fleet.a.folder), "move-wiki", "ws-staying", "--to-root",
                        str(other), "--node", "node-b", "--placement", str(fleet.placement))
    finally:
        journal_path(staying, "Home").unlink()
    assert shared_rows(fleet.database_url, "ws-staying") == rows  # the schema was not touched
    assert failed.returncode == 2 and failed.stderr.count("\n") == 1, failed.stderr
    assert "not saved to git" in failed.stderr and "the move was undone" in failed.stderr
    assert as_user(FACILITATOR).get(fleet.a.wiki("ws-staying") + "/p/Home",
                                    timeout=10).status_code == 200
    assert fleet.placement.read_bytes() == placement_before
    [copy] = other.glob(".failed-move-ws-staying-*")
    assert sorted(os.listdir(other)) == [copy.name] and (copy / "repo.git").is_dir()
    assert not (copy / "database-schema").exists()
