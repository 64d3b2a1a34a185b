"""Many workshops on one server: `cowiki --root DIR serve` with wikis at /w/<slug>/.

One real gunicorn server (two workers) hosts three wikis made with the real
`create-wiki` command, plus one whose database was damaged. Each wiki keeps its
own members, pages, search, git and live rooms behind its own prefix (accounts
too on SQLite; sharing one PostgreSQL database the wikis share them).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pycrdt
import pytest
import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.conftest import BACKENDS, ROOT, free_port
from tests.pgcluster import Cluster
from tests.web.git_client import GitClient
from wiki.db import Database
from wiki.dbdialect import schema_url

FACILITATORS = {"alpha": "Ann", "beta": "Bob", "gamma": "Cat"}
PASSWORD = "long-enough-secret-1"


@dataclass(frozen=True)
class Root:
    """The running server and its folder of wikis."""

    url: str
    folder: Path

    def wiki(self, slug: str) -> str:
        return f"{self.url}/w/{slug}"


def cowiki(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cowiki", *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def create_wiki(folder: Path, slug: str, name: str) -> subprocess.CompletedProcess[str]:
    return cowiki("--root", str(folder), "create-wiki", slug, "--facilitator", name,
                  "--email", f"{name.lower()}@{slug}.example.org", "--password-stdin",
                  stdin=PASSWORD + "\n")


@pytest.fixture(scope="module", params=BACKENDS)
def root(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Root]:
    """Three wikis and a damaged one on SQLite files, or sharing one PostgreSQL database
    (a schema each)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("COWIKI_DATABASE_URL", raising=False)
        if request.param == "postgresql":
            cluster = request.getfixturevalue("postgres")
            if cluster is None:
                pytest.skip("PostgreSQL is not installed here")
            patch.setenv("COWIKI_DATABASE_URL", empty_database(cluster))
        yield from _serve_root(tmp_path_factory.mktemp("root"))


def empty_database(cluster: Cluster) -> str:
    """A new database with nothing in it (no template): the wikis make their schemas."""
    name = f"root{next(cluster.counter)}"
    with cluster.admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return cluster.url(name)


def damage(folder: Path) -> None:
    """Make the wiki 'damaged' unopenable: a garbage SQLite file, or a schema at a
    revision no cowiki knows."""
    url = os.environ.get("COWIKI_DATABASE_URL", "")
    if not url:
        (folder / "damaged" / "cowiki.db").write_bytes(b"this is not a database" * 100)
        return
    db = Database(schema_url(url, "wiki_damaged"))
    with db.transaction() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'from-the-future'")
    db.dispose()


def _serve_root(folder: Path) -> Iterator[Root]:
    for slug, name in {**FACILITATORS, "damaged": "Dan"}.items():
        done = create_wiki(folder, slug, name)
        assert done.returncode == 0, done.stderr
    damage(folder)
    port = free_port()
    log = open(folder / "server.log", "wb")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        [sys.executable, "-m", "cowiki", "--root", str(folder), "serve", "--port", str(port),
         "--workers", "2"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "COWIKI_RATE_SAVES": "0"})
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: _up(url + "/healthz"), 60)
    yield Root(url, folder)
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
    server_log = (folder / "server.log").read_text(errors="replace")
    assert "Traceback" not in server_log, server_log


def _up(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def wait_until(condition: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def browser(root: Root, slug: str, session: requests.Session | None = None,
            name: str | None = None) -> requests.Session:
    """Log in through wiki `slug`'s form, as a browser does (cookie, then the CSRF header)."""
    session = session or requests.Session()
    session.trust_env = False
    session.headers.pop("X-CSRF-Token", None)  # another wiki's, when already logged in there
    base = root.wiki(slug)
    form = session.get(base + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    answer = session.post(base + "/login", data={
        "name": name or FACILITATORS[slug], "password": PASSWORD,
        "csrf_token": token.group(1)}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    assert answer.headers["Location"].startswith(f"/w/{slug}/")
    page = session.get(base + "/p/Home", timeout=10).text
    meta = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert meta is not None
    session.headers["X-CSRF-Token"] = meta.group(1)
    return session


def api(root: Root, slug: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.auth = (FACILITATORS[slug], PASSWORD)
    return session


# -- prefixes, cookies and accounts ----------------------------------------------------


def test_each_wiki_answers_under_its_prefix_and_its_redirects_stay_there(root: Root) -> None:
    first = requests.get(root.wiki("alpha") + "/p/Home", allow_redirects=False, timeout=10)
    assert first.status_code == 302
    assert first.headers["Location"] == "/w/alpha/login?next=/w/alpha/p/Home"
    assert requests.get(root.wiki("alpha"), allow_redirects=False,
                        timeout=10).headers["Location"] == "/w/alpha/"
    session = requests.Session()
    session.trust_env = False
    form = session.get(root.wiki("alpha") + "/login?next=/w/alpha/p/Home", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    answer = session.post(root.wiki("alpha") + "/login", data={
        "name": "Ann", "password": PASSWORD, "csrf_token": token.group(1),
        "next": "/w/alpha/p/Home"}, allow_redirects=False, timeout=10)
    assert answer.headers["Location"] == "/w/alpha/p/Home"
    html = session.get(root.wiki("alpha") + "/p/Home", timeout=10).text
    assert 'href="/w/alpha/static/' in html and 'src="/w/alpha/static/' in html
    assert not re.search(r'(href|src|action)="/(p|static|api|search|login|logout)\b', html)
    assert '<meta name="cowiki-root" content="/w/alpha">' in html


def test_the_session_cookie_belongs_to_its_wiki_only(root: Root) -> None:
    session = browser(root, "alpha")
    cookie = next(c for c in session.cookies if c.name == "session")
    assert cookie.path == "/w/alpha"
    answer = session.get(root.wiki("beta") + "/p/Home", allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/w/beta/login")
    # Even a cookie copied by hand is nothing in another wiki: each signs with its own key.
    stolen = requests.get(root.wiki("beta") + "/p/Home", allow_redirects=False, timeout=10,
                          headers={"Cookie": f"session={cookie.value}"})
    assert stolen.status_code == 302
    # One browser logged into two wikis holds two sessions side by side.
    browser(root, "beta", session)
    assert session.get(root.wiki("alpha") + "/p/Home", timeout=10).status_code == 200
    assert session.get(root.wiki("beta") + "/p/Home", timeout=10).status_code == 200


def test_an_account_of_one_wiki_cannot_log_into_another(root: Root) -> None:
    # On SQLite files the wikis know nothing of each other's accounts; sharing one
    # PostgreSQL database they share the account, which still needs an invite to join
    # (tests/web/test_shared_accounts.py), and the form says so.
    shared = bool(os.environ.get("COWIKI_DATABASE_URL"))
    own = api(root, "alpha").get(root.wiki("alpha") + "/api/v1/pages", timeout=10)
    assert own.status_code == 200
    refused = requests.get(root.wiki("beta") + "/api/v1/pages", auth=("Ann", PASSWORD),
                           timeout=10)
    assert refused.status_code == (403 if shared else 401)
    form = requests.Session()
    text = form.get(root.wiki("beta") + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert token is not None
    answer = form.post(root.wiki("beta") + "/login", data={
        "name": "Ann", "password": PASSWORD, "csrf_token": token.group(1)},
        allow_redirects=False, timeout=10)
    assert answer.status_code == (403 if shared else 401)
    assert ("not part of this wiki yet" in answer.text) == shared


# -- pages, search and git ---------------------------------------------------------------


def test_pages_and_search_stay_in_their_own_wiki(root: Root) -> None:
    saved = api(root, "alpha").put(root.wiki("alpha") + "/api/v1/pages/Alpha plan",
                               json={"markdown": "# Alpha plan\n\nZeppelin. See [[Home]].\n"},
                               timeout=30)
    assert saved.status_code == 201, saved.text
    assert api(root, "beta").get(root.wiki("beta") + "/api/v1/pages/Alpha plan",
                              timeout=10).status_code == 404

    def found(slug: str) -> list[str]:
        hits = api(root, slug).get(root.wiki(slug) + "/api/v1/search?q=zeppelin",
                                   timeout=10).json()
        return [hit["path"] for hit in hits["results"]]

    wait_until(lambda: found("alpha") == ["Alpha plan"])
    assert found("beta") == [] and found("gamma") == []
    html = api(root, "alpha").get(root.wiki("alpha") + "/p/Alpha plan", timeout=10).text
    assert 'href="/w/alpha/p/Home"' in html


def test_git_clone_and_push_under_the_prefix_reach_that_wiki_only(root: Root,
                                                                  tmp_path: Path) -> None:
    git = GitClient.in_folder(tmp_path)
    api(root, "gamma").put(root.wiki("gamma") + "/api/v1/pages/Only in c",
                           json={"markdown": "c\n"}, timeout=30).raise_for_status()
    host = root.url.split("://", 1)[1]
    work = git.home / "beta"
    git.run("clone", f"http://Bob:{quote(PASSWORD)}@{host}/w/beta/wiki.git", str(work))
    assert "Only in c.md" not in os.listdir(work) and "Home.md" in os.listdir(work)
    git.commit_file(work, "Pushed in b.md", b"# Pushed in b\n\nFrom git.\n")
    git.run("push", "origin", "HEAD:main", cwd=work)
    assert api(root, "beta").get(root.wiki("beta") + "/api/v1/pages/Pushed in b",
                              timeout=10).status_code == 200
    assert api(root, "gamma").get(root.wiki("gamma") + "/api/v1/pages/Pushed in b",
                              timeout=10).status_code == 404
    # The web's rules hold under the prefix: a reserved name is refused by the hook.
    git.commit_file(work, "api.md", b"reserved\n")
    refused = git.run("push", "origin", "HEAD:main", cwd=work, check=False)
    assert refused.returncode != 0 and "reserved" in refused.stderr
    # Ann of wiki a is nobody in wiki b, for git too.
    other = git.run("clone", f"http://Ann:{quote(PASSWORD)}@{host}/w/beta/wiki.git",
                    str(git.home / "nope"), check=False)
    assert other.returncode != 0


# -- faults and unknown addresses -------------------------------------------------------


def test_a_damaged_wiki_answers_503_while_the_others_work(root: Root) -> None:
    for path in ("/", "/healthz", "/p/Home", "/wiki.git/info/refs?service=git-upload-pack"):
        answer = requests.get(root.wiki("damaged") + path, timeout=10)
        assert answer.status_code == 503, path
        assert "Traceback" not in answer.text
    assert requests.get(root.url + "/healthz", timeout=10).json() == {"status": "ok"}
    for slug in FACILITATORS:
        assert requests.get(root.wiki(slug) + "/healthz", timeout=10).status_code == 200


def test_an_unknown_wiki_is_a_plain_404_that_lists_nothing(root: Root) -> None:
    for path in ("/w/nope/", "/w/A/", "/w/../a/", "/w/", "/", "/p/Home", "/w/x/"):
        answer = requests.get(root.url + path, timeout=10, allow_redirects=False)
        assert answer.status_code == 404, path
        assert answer.headers["Content-Type"].startswith("text/plain")
        assert "damaged" not in answer.text and "/w/alpha" not in answer.text


def test_a_command_on_one_wiki_of_the_root_reaches_that_wiki_only(root: Root) -> None:
    # With a shared PostgreSQL database the wiki's schema comes from its data dir.
    done = cowiki("--data", str(root.folder / "beta"), "adduser", "Bea", "--email",
                  "bea@beta.example.org", "--role", "participant", "--password-stdin",
                  stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert browser(root, "beta", name="Bea").get(root.wiki("beta") + "/p/Home",
                                                  timeout=10).status_code == 200
    refused = requests.get(root.wiki("alpha") + "/api/v1/pages", auth=("Bea", PASSWORD),
                           timeout=10)
    # Sharing PostgreSQL, alpha knows the account but Bea is not one of its members.
    assert refused.status_code == (403 if os.environ.get("COWIKI_DATABASE_URL") else 401)


def test_create_wiki_refuses_in_one_line_with_exit_2(root: Root, tmp_path: Path) -> None:
    cases = [
        ("--root", str(tmp_path), "create-wiki", "Bad_Slug", "--facilitator", "X",
         "--email", "x@example.org", "--password-stdin"),
        ("--root", str(tmp_path), "create-wiki", "x", "--facilitator", "X",
         "--email", "x@example.org", "--password-stdin"),
        ("--root", str(root.folder), "create-wiki", "alpha", "--facilitator", "X",
         "--email", "x@example.org", "--password-stdin"),
        ("create-wiki", "new", "--facilitator", "X", "--email", "x@example.org",
         "--password-stdin"),
        ("--root", str(tmp_path), "--data", str(tmp_path), "create-wiki", "new",
         "--facilitator", "X", "--email", "x@example.org", "--password-stdin"),
        ("--root", str(tmp_path), "adduser", "X", "--email", "x@example.org", "--role",
         "reader"),
    ]
    for args in cases:
        done = cowiki(*args, stdin=PASSWORD + "\n")
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    weak = cowiki("--root", str(tmp_path), "create-wiki", "weak", "--facilitator", "X",
                  "--email", "x@example.org", "--password-stdin", stdin="short\n")
    assert weak.returncode == 2 and not (tmp_path / "weak").exists()


# -- live editing --------------------------------------------------------------------------


def open_socket(root: Root, slug: str, session: requests.Session, ticket: str
                ) -> ClientConnection:
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies
                       if c.path == f"/w/{slug}")
    url = root.wiki(slug).replace("http://", "ws://") + f"/live/socket/Home?ticket={ticket}"
    return connect(url, origin=root.url, additional_headers={"Cookie": cookie},  # type: ignore[arg-type]
                   proxy=None, open_timeout=30)


def synced_text(ws: ClientConnection) -> str:
    doc: pycrdt.Doc = pycrdt.Doc()
    text = doc.get("markdown", type=pycrdt.Text)
    ws.send(pycrdt.create_sync_message(doc))
    while True:
        message = ws.recv(timeout=20)
        assert isinstance(message, bytes)
        if message[0] != pycrdt.YMessageType.SYNC:
            continue
        reply = pycrdt.handle_sync_message(message[1:], doc)
        if reply is not None:
            ws.send(reply)
        if message[1] == pycrdt.YSyncMessageType.SYNC_STEP2:
            return str(text)


def test_live_rooms_start_per_wiki_and_a_ticket_of_one_wiki_is_refused_by_another(
        root: Root) -> None:
    both = browser(root, "alpha")
    browser(root, "beta", both)
    ticket_a = both.get(root.wiki("alpha") + "/api/v1/pages/Home/live", timeout=10).json()
    assert ticket_a["socket"] == "/w/alpha/live/socket/Home"
    ticket_b = both.get(root.wiki("beta") + "/api/v1/pages/Home/live", timeout=10).json()
    with open_socket(root, "alpha", both, ticket_a["ticket"]) as ws:  # starts a's live process
        assert synced_text(ws).strip()
    with open_socket(root, "beta", both, ticket_a["ticket"]) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=20)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    with open_socket(root, "beta", both, ticket_b["ticket"]) as ws:
        assert synced_text(ws).strip()
    assert (root.folder / "alpha" / "run" / "live.sock").exists()
    assert not (root.folder / "gamma" / "run" / "live.sock").exists()  # nobody asked in c


def test_wikis_sharing_a_postgresql_database_share_one_pool(postgres: Cluster | None) -> None:
    # Many wikis in one process must not each keep connections open: a --root of 50
    # wikis would otherwise run out of PostgreSQL's connections.
    if postgres is None:
        pytest.skip("PostgreSQL is not installed here")
    base = empty_database(postgres)
    wikis = [Database(schema_url(base, f"wiki_w{number}"), pool_size=2) for number in range(12)]
    for db in wikis:
        db.migrate()
        db.connect().exec_driver_sql("SELECT count(*) FROM users").scalar_one()
        db.release()
    with postgres.admin() as admin:
        name = base.split("/")[-1].split("?")[0]
        open_connections = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)).fetchone()
    assert open_connections is not None and open_connections[0] <= 2
    assert wikis[3].connect().exec_driver_sql("SHOW search_path").scalar_one() \
        == "wiki_w3, cowiki_accounts, public"
    for db in wikis:
        db.dispose()
