"""Toward a fleet: a placement file, `move-wiki` between two served roots, proxy configs.

Two real `cowiki --root` servers on two loopback ports stand for two nodes. A
wiki with pages, a comment and a second account moves from root A to root B
with the real command; afterwards B serves it (same accounts, pages, history
and git), A answers 404, and the placement file names B.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from cowiki import placement as placements
from cowiki.proxy_config import proxy_config
from tests.conftest import ROOT, free_port
from tests.web.git_client import GitClient
from tests.web.test_multi_wiki import PASSWORD, cowiki, create_wiki, wait_until
from wiki.errors import InvalidInput

SLUG = "ws-moving"
FACILITATOR = "Ann"  # create_wiki's facilitator of SLUG
PARTICIPANT = "Pat"


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


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    base = tmp_path_factory.mktemp("fleet")
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
        moved = cowiki("--root", str(a.folder), "move-wiki", SLUG, "--to-root", str(b.folder),
                       "--node", "node-b", "--node-url", b.url, "--placement", str(placement))
        yield Fleet(a, b, placement, before, moved)
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


# -- the move ------------------------------------------------------------------------------


def test_move_wiki_reports_one_line_per_step_and_succeeds(fleet: Fleet) -> None:
    assert fleet.move.returncode == 0, fleet.move.stderr
    lines = fleet.move.stdout.splitlines()
    for step in ("froze", "saved the live edits", "backed up", "restored into", "verified:",
                 "placement:", "retired the old folder", "moved ws-moving to node node-b"):
        assert any(line.startswith(step) for line in lines), (step, lines)
    assert fleet.move.stderr == ""


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
    assert log == [entry["revision"] for entry in fleet.before["history"]]  # type: ignore[union-attr]


def test_a_answers_404_for_the_moved_wiki_and_keeps_its_old_folder_aside(fleet: Fleet) -> None:
    for _each_worker in range(6):
        for path in ("/p/Plan", "/api/v1/pages", "/wiki.git/info/refs?service=git-upload-pack"):
            answer = as_user(FACILITATOR).get(fleet.a.wiki(SLUG) + path, timeout=10)
            assert answer.status_code == 404, path
    assert as_user(FACILITATOR).get(fleet.a.wiki("ws-staying") + "/api/v1/pages",
                                    timeout=10).status_code == 200
    assert not (fleet.a.folder / SLUG).exists()
    [retired] = fleet.a.folder.glob(f".moved-{SLUG}-*")
    assert (retired / "repo.git").is_dir() and (retired / "cowiki.db").is_file()
    note = json.loads((retired / "moved.json").read_text())
    assert note["node"] == "node-b" and note["to"] == str(fleet.b.folder / SLUG)
    assert not list(fleet.b.folder.glob(".*"))  # no staging or failed copy left on B


def test_a_new_wiki_of_the_moved_name_on_a_is_served_fresh_not_the_old_one(
        fleet: Fleet) -> None:
    created = create_wiki(fleet.a.folder, SLUG, "Cat")
    assert created.returncode == 0, created.stderr
    for _each_worker in range(6):
        pages = as_user("Cat").get(fleet.a.wiki(SLUG) + "/api/v1/pages", timeout=10)
        assert pages.status_code == 200, pages.text
        assert [p["path"] for p in pages.json()] == ["Home"]
        assert as_user(FACILITATOR).get(fleet.a.wiki(SLUG) + "/api/v1/pages",
                                        timeout=10).status_code == 401


def test_the_placement_file_names_node_b(fleet: Fleet) -> None:
    placed = placements.load(fleet.placement)
    assert placed.node_of(SLUG) == "node-b" and placed.node_of("ws-staying") == "node-a"
    assert placed.nodes == {"node-a": fleet.a.url, "node-b": fleet.b.url}


def test_a_move_to_a_root_that_has_the_slug_is_refused_and_changes_nothing(
        fleet: Fleet) -> None:
    created = create_wiki(fleet.b.folder, "ws-staying", "Bob")
    assert created.returncode == 0, created.stderr
    placement_before = fleet.placement.read_bytes()
    a_before = sorted(os.listdir(fleet.a.folder / "ws-staying"))
    refused = cowiki("--root", str(fleet.a.folder), "move-wiki", "ws-staying", "--to-root",
                     str(fleet.b.folder), "--node", "node-b", "--placement", str(fleet.placement))
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "exists already" in refused.stderr
    assert fleet.placement.read_bytes() == placement_before
    assert sorted(os.listdir(fleet.a.folder / "ws-staying")) == a_before
    assert as_user(FACILITATOR).get(fleet.a.wiki("ws-staying") + "/p/Home",
                                    timeout=10).status_code == 200
    assert as_user("Bob").get(fleet.b.wiki("ws-staying") + "/api/v1/pages/Plan",
                              timeout=10).status_code == 404  # B's own wiki, untouched


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


# -- the placement file and the proxy config, without servers -------------------------------


def test_placement_is_written_whole_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "placement.json"
    assert placements.load(path) == placements.Placement()
    placements.place(path, "ws-1", "node-a", "http://10.0.0.5:8080/")
    placed = placements.place(path, "ws-2", "node-a")
    assert json.loads(path.read_text()) == {"nodes": {"node-a": "http://10.0.0.5:8080"},
                                            "wikis": {"ws-1": "node-a", "ws-2": "node-a"}}
    assert placements.load(path) == placed
    assert sorted(os.listdir(tmp_path)) == ["placement.json", "placement.json.lock"]


@pytest.mark.parametrize("text", [
    '{"nodes": {"a": "http://h:1"}}',                             # node name too short
    '{"nodes": {"node-a": "ftp://h"}}',                           # not http(s)
    '{"nodes": {"node-a": "http://h:8080/wiki"}}',                # a path
    '{"nodes": {"node-a": "http://h;evil"}}',                     # ends a proxy statement
    '{"nodes": {"node-a": "http://user@h"}}',                     # credentials
    '{"nodes": {"node-a": "http://h:70000"}}',                    # no such port
    '{"nodes": {}, "wikis": {"ws-1": "node-a"}}',                 # an unknown node
    '{"nodes": {}, "wikis": {"WS 1": "node-a"}}',                 # not a slug
    '{"nodes": {}, "wiki": {}}',                                  # a typo'd key
    '["nodes"]', "not json",
])
def test_a_wrong_placement_file_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "placement.json"
    path.write_text(text)
    with pytest.raises(InvalidInput):
        placements.load(path)
    done = cowiki("placement", "proxy-config", "--format", "nginx", "--placement", str(path))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and done.stdout == ""


def test_assign_refuses_an_unknown_node_without_its_address(tmp_path: Path) -> None:
    path = tmp_path / "placement.json"
    done = cowiki("placement", "assign", "ws-1", "--node", "node-z", "--placement", str(path))
    assert done.returncode == 2 and "--node-url" in done.stderr and not path.exists()


def test_concurrent_writers_lose_no_assignment(tmp_path: Path) -> None:
    path = tmp_path / "placement.json"
    placements.place(path, "ws-0", "node-a", "http://127.0.0.1:8001")

    def assign(first: int) -> None:
        for number in range(first, first + 15):
            placements.place(path, f"ws-{number}", "node-a")

    writers = [threading.Thread(target=assign, args=(n * 100 + 1,)) for n in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert len(placements.load(path).wikis) == 1 + 4 * 15


def test_nginx_and_haproxy_configs_carry_upgrades_streaming_and_every_route() -> None:
    placed = placements.Placement({"node-a": "http://10.0.0.5:8080",
                                   "node-b": "https://b.example.org"},
                                  {"ws-1": "node-a", "ws-2": "node-b", "ws-3": "node-a"})
    nginx = proxy_config(placed, "nginx")
    assert "server 10.0.0.5:8080;" in nginx and "server b.example.org:443;" in nginx
    for slug, node in (("ws-1", "a"), ("ws-2", "b"), ("ws-3", "a")):
        assert f"    {slug} cowiki_node_{node};" in nginx
    assert "proxy_set_header Upgrade $http_upgrade;" in nginx
    assert "proxy_buffering off;" in nginx and "proxy_request_buffering off;" in nginx
    assert "cowiki_node_b https;" in nginx
    haproxy = proxy_config(placed, "haproxy")
    assert "acl on_cowiki_node_a path_beg /w/ws-1/ /w/ws-3/" in haproxy
    assert "use_backend cowiki_node_b if on_cowiki_node_b" in haproxy
    assert "server node-a 10.0.0.5:8080\n" in haproxy and "timeout tunnel" in haproxy
    assert "default_backend cowiki-no-wiki" in haproxy
    with pytest.raises(ValueError):
        proxy_config(placed, "apache")
