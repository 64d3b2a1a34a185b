"""Bad input at volume: random names, Markdown, revisions and form data on every route.

Hypothesis sends hostile input to every rule of the app's url_map, as every role
(anonymous, reader, participant, facilitator), through the Flask test client
with a valid CSRF token. Whatever arrives, the app answers without a 500, writes
no file outside its data directory, and commits no file at a path that is not
a page, an attachment or the outline.

About 45 s on two cores. For a longer hunt: PROPERTY_SCALE=10 .venv/bin/python -m pytest
tests/test_properties.py (ten times the examples).
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pygit2
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from werkzeug.routing import IntegerConverter, PathConverter, Rule

from app import create_app
from storage.names import ATTACHMENT_DIR, normalize_attachment_name, page_name_from_file
from storage.repository import MAIN_REF
from tests.conftest import BACKENDS, PASSWORDS
from wiki.chapter_templates import TEMPLATES_FILE
from wiki.export import jobs as export_jobs
from wiki.export.outline import OUTLINE_FILE
from wiki.phases import frozen_scopes, set_frozen

# The app's background indexer (Whoosh names its segments with the random module) runs
# while Hypothesis draws; Hypothesis would take that for a strategy using `random`.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
ROLES = ("anonymous", "reader", "participant", "facilitator")
SHARDS = 8  # the routes are split in shards, so that each route gets its share of examples
BUSY_ROLES = ROLES + ("participant", "facilitator")  # those who may do most, drawn more often
CSRF = "property-test-csrf-token"
PAGES = ("Home", "Notes/Draft one", "Hoofdstuk 1")  # made at setup; random requests may move them
RUN = settings(deadline=None, database=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture,
                                      HealthCheck.too_slow, HealthCheck.data_too_large])


def examples(count: int) -> int:
    """`count` examples, times PROPERTY_SCALE from the environment (default 1)."""
    return max(1, int(count * float(os.environ.get("PROPERTY_SCALE", "1"))))

# -- hostile values ------------------------------------------------------------------------

NASTY_NAMES = [
    "..", "../..", "../../etc/passwd", "a/../../b", "./x", "x/.", ".git/config", ".hidden",
    "repo.git/HEAD", "../repo.git/hooks/pre-receive", "/etc/passwd", "//server/share", "a//b",
    "C:\\Windows\\win.ini", "..\\..\\x", "%2e%2e/x", "-rf", "--help", "--output=/tmp/x",
    "-", "attachments/x.png", "attachments/../x", "outline", "outline.json", "api/v1", "static",
    "Home/edit", "Home/history", "wiki.git", " Home ", "home", "HOME", "CON", "nul", "a\x00b",
    "a\nb", "a\rb", "a\tb", "\u202eevil", "\ufeffbom", "e\u0301", "\u00e9", "\U0001f600",
    "a" * 201, "é" * 101, "x/" * 120 + "x", "<script>alert(1)</script>", "{{7*7}}", "${HOME}",
    "`id`", "$(id)", "a;b", "a|b", "a?b=c", "a#b", "a%00b", "new", "edit", "Home.md",
]
HOSTILE_MARKDOWN = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))", "[x](jav&#x09;ascript:alert(1))", "<a href='javascript:x'>a</a>",
    "<iframe src=//evil.example></iframe>", "<svg onload=alert(1)><circle/></svg>",
    "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>", "<style>*{display:none}</style>",
    "<object data=x></object>", "<embed src=x>", "<form action=//evil><input></form>",
    "<details open ontoggle=alert(1)>", "<body onload=alert(1)>", "<meta http-equiv=refresh>",
    "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", "<base href=//evil/>",
    "[[../../etc/passwd]]", "[[Home|<script>x</script>]]", "![a](../../secret_key)",
    "![a](attachments/../../cowiki.db)", "```\n</code><script>x</script>\n```",
    "<div style='background:url(javascript:x)'>", "<a href=\"&#106;avascript:x\">x</a>",
    "> " * 300 + "deep", "- " * 300 + "deep", "[" * 500, "*" * 1000, "|a|b|\n|-|-|\n" * 50,
    "# " + "x" * 5000, "\x00\x01\x02", "\u202e\u2066", "[^1]\n\n[^1]: <script>x</script>",
    "<!-- <script>x</script> -->", "<![CDATA[<script>x</script>]]>", "&lt;script&gt;",
]
NASTY_REVISIONS = [
    "HEAD", "main", "HEAD~1", "HEAD^", "@{-1}", "--all", "-n1", "--output=/tmp/x", ":/Home",
    "refs/heads/main", "0" * 40, "0" * 7, "f" * 40, "F" * 40, "abc", "1234567", "g" * 40,
    " " + "a" * 7, "a" * 41, "a" * 7 + "\n", "a" * 7 + "..HEAD", "-" + "a" * 7, "",
]
EDGE_NUMBERS = [0, -1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30]
HEADERS = ["If-Match", "If-None-Match", "Accept", "Accept-Language", "Content-Type", "Range"]
# The fields each endpoint reads (form, JSON body or query); others get random names.
FIELDS = {
    "pages.view": ["rev"], "pages.index": ["sort"], "pages.new": ["name"],
    "pages.save": ["markdown", "message", "base_revision"], "pages.preview": ["markdown"],
    "pages.rename": ["to", "message"], "pages.delete": ["base_revision", "message"],
    "pages.revert": ["revision"], "history.page_history": ["page"],
    "history.diff": ["from", "to", "mode"], "history.blame": ["rev"],
    "history.changes": ["page", "limit"], "attachments.serve": ["rev"],
    "auth.login": ["name", "password", "next"], "auth.create_token": ["label"],
    "auth.change_password": ["current", "new"], "auth.change_language": ["language"],
    "auth.reset_password": ["new"], "workshop_api.account_password": ["old", "new"],
    "api.page": ["markdown", "message", "base_revision", "rev"],
    "api.rename": ["to", "base_revision", "message"], "api.history": ["limit", "skip"],
    "api.blame": ["rev"], "api.diff": ["from", "to"], "api.changes": ["limit"],
    "git_http.info_refs": ["service"], "search.results": ["q", "lang", "page"],
    "search.api_search": ["q", "lang", "page", "limit"],
    "export.start_export": ["format", "ref"],
    "export.save_outline": ["page", "position", "remove", "add", "move", "title", "subtitle",
                            "authors", "lang"],
    "export.freeze_version": ["message"],
    "export_api.outline": ["title", "subtitle", "authors", "pages", "lang"],
    "export_api.api_start": ["format", "ref"], "export_api.versions": ["ref", "message"],
    "discussion.page_comments": ["body", "parent"], "discussion.edit": ["body"],
    "discussion.hide": ["reason"], "discussion.report": ["reason"],
    "discussion.react_to_comment": ["kind"], "discussion.react_to_page": ["kind"],
    "discussion_api.page_comments": ["body", "parent"], "discussion_api.comment": ["body"],
    "discussion_api.hide": ["reason"], "discussion_api.report": ["reason"],
    "discussion_api.page_reactions": ["kind"], "discussion_api.comment_reactions": ["kind"],
    "workshop_api.invites": ["role", "expires_days", "max_uses"],
    "workshop_api.register": ["invite", "name", "email", "password"],
    "workshop_api.freeze": ["scope", "frozen"], "workshop_api.page_presence": ["leaving", "dirty"],
    "workshop_api.draft": ["markdown", "base_revision"], "admin.change_user": ["role", "active"],
    "admin.create_invite": ["role", "expires_days", "max_uses"],
    "admin.phases": ["frozen", "scope", "next"], "join.invite": ["name", "email", "password"],
}


def page_names() -> st.SearchStrategy[str]:
    """Page names a hostile or careless client could send."""
    segment = st.text(min_size=0, max_size=12)
    return st.one_of(
        st.sampled_from(NASTY_NAMES),
        st.text(max_size=40),
        st.lists(st.one_of(segment, st.sampled_from(["..", ".", "", "Home"])),
                 min_size=1, max_size=6).map("/".join),
        st.text(alphabet="aé/.- \\", min_size=150, max_size=400),
        st.sampled_from(PAGES),
        st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 _-]{0,20}(/[a-z0-9][a-z0-9_-]{0,10}){0,2}",
                      fullmatch=True),
    )


def markdown_texts() -> st.SearchStrategy[str]:
    """Markdown mixing hostile HTML, odd structure and random text."""
    return st.lists(st.one_of(st.sampled_from(HOSTILE_MARKDOWN), st.text(max_size=60)),
                    max_size=8).map("\n\n".join)


def revisions(real: list[str]) -> st.SearchStrategy[str]:
    """Random strings, random hex and real revisions cut and cased in odd ways."""
    cut = st.tuples(st.sampled_from(real), st.integers(0, 45), st.booleans()).map(
        lambda r: r[0][:r[1]].upper() if r[2] else r[0][:r[1]])
    return st.one_of(st.sampled_from(NASTY_REVISIONS), st.text(max_size=45),
                     st.text(alphabet="0123456789abcdefABCDEF", max_size=45), cut)


def values(real: list[str]) -> st.SearchStrategy[str]:
    """Any value a form field or query argument might get."""
    return st.one_of(st.text(max_size=50), page_names(), revisions(real), markdown_texts(),
                     (st.integers(-(2**70), 2**70) | st.sampled_from(EDGE_NUMBERS)).map(str),
                     st.sampled_from(["0", "1", "-1", "true", "nl", "en", "md", "html",
                                      "reader", "participant", "facilitator", "wiki",
                                      "offensive", "agree", "git-upload-pack"]))


def json_values(real: list[str]) -> st.SearchStrategy[Any]:
    """JSON values of every type, nested a little."""
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                        st.sampled_from(EDGE_NUMBERS),
                        st.floats(allow_nan=False), values(real))
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
        max_leaves=8)


# -- the world under test ------------------------------------------------------------------


@dataclass(repr=False)
class World:
    """One app on one data dir, a client per role, and what must not change on disk."""

    app: Flask
    parent: Path
    data_dir: Path
    clients: dict[str, FlaskClient]
    sessions: dict[str, dict[str, Any]]
    outside: set[str]
    hooks: dict[str, bytes]
    real_revisions: list[str]
    routes: list[tuple[Rule, str]] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"World({self.data_dir})"

    def client(self, role: str) -> FlaskClient:
        """The role's client, logged in again (without a password) if a request logged it out."""
        client = self.clients[role]
        if role != "anonymous":
            self.revive(role)
        with client.session_transaction() as session:
            if role != "anonymous" and session.get("_user_id") != self.sessions[role]["_user_id"]:
                session.clear()
                session.update(self.sessions[role])
            session["csrf"] = CSRF
        return client

    def revive(self, role: str) -> None:
        """Start a new server-side session when a request (logout, role change) ended it."""
        accounts = self.app.extensions["cowiki"].accounts
        user = accounts.by_name(role)
        _, generation, sid = self.sessions[role]["_user_id"].split(".", 2)
        if accounts.session_user(user.id, int(generation), sid) is None:
            sid = accounts.start_session(user)
            self.sessions[role]["_user_id"] = f"{user.id}.{user.generation}.{sid}"

    def restore(self) -> None:
        """Undo what random facilitator requests may do to the test's own accounts and phases."""
        services = self.app.extensions["cowiki"]
        accounts = services.accounts
        for role in ROLES[1:]:
            user = accounts.by_name(role)
            if user.role != role:
                accounts.set_role(user, role)
            if not user.active:
                accounts.set_active(user, True)
        for scope in frozen_scopes(services.db):
            set_frozen(services.db, scope.scope, False, None)

    def check_disk(self) -> None:
        """No new file next to the data dir, and git hooks untouched."""
        assert snapshot(self.parent, skip=self.data_dir) == self.outside
        assert read_hooks(self.data_dir) == self.hooks


def snapshot(root: Path, skip: Path) -> set[str]:
    """Every path under `root` except inside `skip`."""
    found = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if Path(folder, d) != skip]
        found.update(os.path.relpath(Path(folder, f), root) for f in files + dirs)
    return found


def read_hooks(data_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (data_dir / "repo.git" / "hooks").iterdir()
            if p.is_file()}


@pytest.fixture(scope="module", params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[World]:
    parent = tmp_path_factory.mktemp("properties")
    data_dir = parent / "wiki-data"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(parent)  # a relative path written by mistake would land in the snapshot
        patch.delenv("COWIKI_DATABASE_URL", raising=False)
        if request.param == "postgresql":  # ids past 32 bits must not reach the database
            cluster = request.getfixturevalue("postgres")
            if cluster is None:
                pytest.skip("PostgreSQL is not installed here")
            patch.setenv("COWIKI_DATABASE_URL", cluster.fresh_database())
        # Hypothesis writes far faster than people: no per-person rate limits here.
        app = create_app({"data_dir": str(data_dir), "rate_comments": 0, "rate_reactions": 0,
                          "rate_saves": 0, "rate_exports": 0})
        app.config["TESTING"] = True
        services = app.extensions["cowiki"]
        for role, password in PASSWORDS.items():
            services.accounts.add_user(role, f"{role}@example.org", role, password)
        facilitator = services.accounts.by_name("facilitator")
        for name in PAGES[1:]:
            services.pages.save(name, f"# {name}\n\nText.\n", None, facilitator.person)
        clients = {"anonymous": app.test_client()}
        sessions = {}
        for role in ROLES[1:]:
            client = clients[role] = app.test_client()
            with client.session_transaction() as session:
                session["csrf"] = CSRF
            answer = client.post("/login", data={"name": role, "password": PASSWORDS[role],
                                                 "csrf_token": CSRF})
            assert answer.status_code == 302
            with client.session_transaction() as session:
                sessions[role] = dict(session)
        client = clients["participant"]
        client.post("/api/v1/pages/Home/comments", json={"body": "A first comment."},
                    headers={"X-CSRF-Token": CSRF})
        repo = pygit2.Repository(str(data_dir / "repo.git"))
        real = [str(c.id) for c in repo.walk(repo.references[MAIN_REF].target)]
        world = World(app, parent, data_dir, clients, sessions,
                      snapshot(parent, skip=data_dir), read_hooks(data_dir),
                      real)
        world.routes = [(rule, method) for rule in app.url_map.iter_rules()
                        if rule.endpoint != "static"
                        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})]
        yield world
        wait_for_exports()
        check_repository(data_dir / "repo.git")
        world.check_disk()


def wait_for_exports(timeout: float = 120) -> None:
    """Let export workers started by random requests finish before the temp dir goes."""
    deadline = time.monotonic() + timeout
    for process in list(export_jobs._handles.values()):
        process.wait(timeout=max(1, deadline - time.monotonic()))


def check_repository(repo_path: Path) -> None:
    """Every file in every commit is a page, an attachment, the outline or the templates;
    only known refs (main, frozen versions' tags, suggestions)."""
    repo = pygit2.Repository(str(repo_path))
    assert all(ref == MAIN_REF or ref.startswith(("refs/tags/", "refs/suggestions/"))
               for ref in repo.references)
    seen: set[str] = set()
    bad = []
    for commit in repo.walk(repo.references[MAIN_REF].target):
        if str(commit.tree_id) in seen:
            continue
        seen.add(str(commit.tree_id))
        bad += [path for path in tree_paths(repo, commit.tree, "") if not allowed(path)]
    assert bad == []


def tree_paths(repo: pygit2.Repository, tree: pygit2.Tree, prefix: str) -> Iterator[str]:
    for entry in tree:
        path = prefix + str(entry.name)
        item = repo[entry.id]
        if isinstance(item, pygit2.Tree):
            yield from tree_paths(repo, item, path + "/")
        else:
            assert entry.filemode == pygit2.enums.FileMode.BLOB, path
            yield path


def allowed(path: str) -> bool:
    if path in (OUTLINE_FILE, TEMPLATES_FILE) or page_name_from_file(path) == path[:-3]:
        return True
    folder, _, name = path.partition("/")
    if folder != ATTACHMENT_DIR or "/" in name:
        return False
    try:
        return normalize_attachment_name(name) == name
    except ValueError:
        return False


# -- sending requests ----------------------------------------------------------------------


def build_url(rule: Rule, data: st.DataObject, names: st.SearchStrategy[str]) -> str:
    """The rule's URL with a random value (percent-encoded) for each argument."""
    url = rule.rule
    for arg in rule.arguments:
        converter = rule._converters[arg]
        if isinstance(converter, IntegerConverter):
            value = str(data.draw(st.integers(0, 5) | st.sampled_from(EDGE_NUMBERS[:-2])
                                  | st.integers(0, 2**70)))
        elif isinstance(converter, PathConverter):
            value = quote(data.draw(names), safe="/")
        else:
            value = quote(data.draw(st.one_of(names, st.text(alphabet="0123456789abcdef",
                                                             max_size=30))), safe="")
        url = url.replace(f"<{arg}>", value).replace(f"<int:{arg}>", value)
        url = url.replace(f"<path:{arg}>", value)
    return url


def send(world: World, role: str, method: str, url: str,
         query: dict[str, str], form: dict[str, Any] | None, payload: Any = None,
         headers: dict[str, str] | None = None) -> int:
    """One request; asserts no 500 and nothing written outside the data dir."""
    client = world.client(role)
    sent = {"X-CSRF-Token": CSRF, **(headers or {})}
    if payload is not None:
        answer = client.open(url, method=method, query_string=query, json=payload, headers=sent)
    else:
        answer = client.open(url, method=method, query_string=query,
                             data={"csrf_token": CSRF, **(form or {})}, headers=sent)
    body = answer.get_data()
    answer.close()
    event(f"{method} {url.split('?')[0][:25]}... {answer.status_code}")
    # The one honest 5xx: no live process runs beside this in-process app.
    live_down = answer.status_code == 503 and b'"live_unavailable"' in body
    assert answer.status_code < 500 or live_down, (role, method, url, query, form, payload,
                                                   headers, answer.status_code, body[:500])
    world.check_disk()
    world.restore()
    return answer.status_code


# -- the properties ------------------------------------------------------------------------


@pytest.mark.parametrize("shard", range(SHARDS))
@settings(RUN, max_examples=examples(300))
@given(data=st.data())
def test_every_route_survives_random_names_and_form_data(world: World, shard: int,
                                                         data: st.DataObject) -> None:
    routes = world.routes[shard::SHARDS]
    rule, method = routes[data.draw(st.integers(0, len(routes) - 1))]
    random_request(world, data, rule, method)


def random_request(world: World, data: st.DataObject, rule: Rule, method: str) -> None:
    """One request to `rule` by a random role with random arguments, query, headers and body."""
    real = world.real_revisions
    role = data.draw(st.sampled_from(BUSY_ROLES))
    url = build_url(rule, data, st.sampled_from(PAGES) | page_names())
    fields = FIELDS.get(rule.endpoint, ["q"])
    keys = st.sampled_from(fields) | st.sampled_from(fields) | st.text(max_size=8)
    query = data.draw(st.dictionaries(keys, values(real), max_size=4))
    headers = data.draw(st.dictionaries(st.sampled_from(HEADERS), st.text(
        alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40), max_size=2))
    if rule.rule.startswith("/api/") and method != "GET" and data.draw(st.booleans()):
        payload = data.draw(st.one_of(st.dictionaries(keys, json_values(real), max_size=6),
                                      json_values(real)))
        send(world, role, method, url, query, None, payload, headers)
        return
    form: dict[str, Any] = data.draw(st.dictionaries(
        keys, values(real) | st.lists(values(real), max_size=3), max_size=6))
    if rule.endpoint == "attachments.upload":
        name = data.draw(st.one_of(page_names(), st.sampled_from(["a.png", "../x.png", "x.svg",
                                                                   "x.pdf", ".png", "a b.jpg"])))
        content = data.draw(st.one_of(st.binary(max_size=200), st.just(b"\x89PNG\r\n\x1a\n")))
        form["file"] = (io.BytesIO(content), name)
    headers.pop("Content-Type", None)  # the form encoding must stay what the client sent
    send(world, role, method, url, query, form, None, headers)


@settings(RUN, max_examples=examples(150))
@given(data=st.data())
def test_hostile_markdown_is_saved_and_shown_without_active_content(
        world: World, data: st.DataObject) -> None:
    text = data.draw(markdown_texts())
    name = data.draw(st.sampled_from(["Hostile", "Hoofdstuk 1", "Notes/Draft one"]))
    client = world.client("participant")
    current = client.get(f"/api/v1/pages/{quote(name)}")
    base = current.json["revision"] if current.status_code == 200 else None
    if data.draw(st.booleans()):
        status = send(world, "participant", "PUT", f"/api/v1/pages/{quote(name)}", {},
                      None, {"markdown": text, "base_revision": base, "message": text[:80]})
    else:
        status = send(world, "participant", "POST", f"/p/{quote(name)}/edit", {},
                      {"markdown": text, "base_revision": base or "", "message": text[:80]})
    assert status in (200, 201, 302, 400, 409, 413, 423), status
    for role in ("reader", "participant"):
        answer = world.client(role).get(f"/api/v1/pages/{quote(name)}")
        assert answer.status_code in (200, 404)
        if answer.status_code == 200:
            assert_no_active_content(answer.json["html"])
        assert world.client(role).get(f"/p/{quote(name)}").status_code in (200, 404)
    preview = world.client("participant").post("/preview", data={"markdown": text,
                                                                  "csrf_token": CSRF})
    assert preview.status_code in (200, 400, 413)
    if preview.status_code == 200:
        assert_no_active_content(preview.get_data(as_text=True))
    comment = world.client("participant").post(
        f"/api/v1/pages/{quote(name)}/comments", json={"body": text},
        headers={"X-CSRF-Token": CSRF})
    assert comment.status_code < 500
    listed = world.client("reader").get(f"/p/{quote(name)}/comments")
    assert listed.status_code < 500
    if comment.status_code == 201:  # comments are rendered on every view: keep pages light
        assert_no_active_content(comment.json["html"])
        deleted = world.client("participant").delete(f"/api/v1/comments/{comment.json['id']}",
                                                      headers={"X-CSRF-Token": CSRF})
        assert deleted.status_code in (200, 204)
    world.check_disk()


@settings(RUN, max_examples=examples(400))
@given(data=st.data())
def test_random_revisions_are_refused_or_served_never_crash(world: World,
                                                            data: st.DataObject) -> None:
    revs = revisions(world.real_revisions)
    rev, other = data.draw(revs), data.draw(revs)
    name = quote(data.draw(st.sampled_from(PAGES)))
    role = data.draw(st.sampled_from(ROLES[1:]))
    requests = [
        ("GET", f"/p/{name}", {"rev": rev}, None, None),
        ("GET", f"/p/{name}/diff", {"from": rev, "to": other}, None, None),
        ("GET", f"/p/{name}/blame", {"rev": rev}, None, None),
        ("GET", f"/p/{name}/history", {"page": rev}, None, None),
        ("GET", f"/api/v1/pages/{name}", {"rev": rev}, None, None),
        ("GET", f"/api/v1/pages/{name}/blame", {"rev": rev}, None, None),
        ("GET", f"/api/v1/pages/{name}/diff", {"from": rev, "to": other}, None, None),
        ("GET", "/attachments/x.png", {"rev": rev}, None, None),
        ("PUT", f"/api/v1/pages/{name}", {}, None, {"markdown": "# x\n", "base_revision": rev}),
        ("POST", f"/p/{name}/edit", {}, {"markdown": "# y\n", "base_revision": rev}, None),
        ("POST", f"/p/{name}/revert", {}, {"revision": rev}, None),
        ("POST", "/api/v1/export", {}, None, {"format": "md", "ref": rev}),
        ("DELETE", f"/api/v1/pages/{name}", {}, None, {"base_revision": rev}),
    ]
    method, url, query, form, payload = data.draw(st.sampled_from(requests))
    header = "".join(c for c in other if " " <= c <= "~")  # what an HTTP header can carry
    headers = {"If-Match": f'"{header}"'} if data.draw(st.booleans()) else {}
    send(world, role, method, url, query, form, payload, headers)


# -- checking rendered HTML ----------------------------------------------------------------


class ActiveContent(HTMLParser):
    """Collects tags and attributes that could run script or load from elsewhere."""

    TAGS = {"script", "iframe", "object", "embed", "style", "base", "meta", "form", "svg",
            "math", "frame", "frameset", "applet", "link"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.TAGS:
            self.found.append(tag)
        for attr, value in attrs:
            cleaned = "".join((value or "").split()).lower()
            if attr.startswith("on") or attr == "style" and "url(" in cleaned:
                self.found.append(f"{tag} {attr}")
            if attr in ("href", "src", "action", "formaction", "xlink:href") and (
                    cleaned.startswith(("javascript:", "vbscript:", "data:text"))):
                self.found.append(f"{tag} {attr}={value}")


def assert_no_active_content(html: str) -> None:
    parser = ActiveContent()
    parser.feed(html)
    assert parser.found == [], (parser.found, html[:2000])
