"""Clone, pull and push the wiki with the real git client against the real server.

One gunicorn server (two workers) serves the module; every refused push
checks that main did not move and that git's stderr says why.
"""

from __future__ import annotations

import gzip
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pygit2
import pytest
import requests

from tests.conftest import LiveServer, serve_fresh, start_server, stop_server
from tests.web.git_client import GitClient, clone_url, server_head, server_refs

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_fresh(tmp_path_factory.mktemp("git-live"))


@pytest.fixture
def client(tmp_path: Path) -> GitClient:
    return GitClient.in_folder(tmp_path)


def push_refused(client: GitClient, server: LiveServer, work: Path, *args: str) -> str:
    """Push, expect a refusal with main unchanged; return git's stderr."""
    before = server_head(server)
    done = client.run("push", *(args or ("origin", "HEAD:main")), cwd=work, check=False)
    assert done.returncode != 0, done.stderr
    assert server_head(server) == before
    return done.stderr


def test_participant_push_shows_up_in_pages_changes_and_api(server: LiveServer,
                                                          client: GitClient) -> None:
    work = client.clone(server, "participant", "w")
    client.commit_file(work, "Pushed page.md", b"# Pushed page\n\nWritten in my editor.\n",
                       "Write the pushed page")
    client.run("push", "origin", "main", cwd=work)
    head = client.run("rev-parse", "HEAD", cwd=work).stdout.strip()
    assert server_head(server) == head
    web = server.session("reader")
    assert "Written in my editor." in web.get(f"{server.url}/p/Pushed page").text
    api = web.get(f"{server.url}/api/v1/pages/Pushed page").json()
    assert api["revision"] == head
    assert "Pushed page" in [p["path"] for p in web.get(f"{server.url}/api/v1/pages").json()]
    assert "Write the pushed page" in web.get(f"{server.url}/changes").text


def test_pull_brings_a_web_edit_into_the_clone(server: LiveServer, client: GitClient) -> None:
    work = client.clone(server, "reader", "w")
    web = server.session("participant")
    saved = web.put(f"{server.url}/api/v1/pages/From the web",
                    json={"markdown": "# From the web\n\nSaved in the browser.\n",
                          "message": "web save", "base_revision": None})
    assert saved.status_code in (200, 201), saved.text
    client.run("pull", "-q", "--ff-only", cwd=work)
    assert "Saved in the browser." in (work / "From the web.md").read_text()


def test_pushed_commit_keeps_its_author_and_history_names_the_pusher(
        server: LiveServer, client: GitClient) -> None:
    work = client.clone(server, "facilitator", "w")
    client.commit_file(work, "Ghost.md", b"# Ghost\n\nBy a co-author.\n", "Co-authored text",
                       author="Gerda Ghost <gerda@example.net>")
    client.commit_file(work, "Ghost.md", b"# Ghost\n\nBy a co-author.\n\nAnd me.\n", "Mine",
                       author="Fay Facilitator <facilitator@example.org>")
    client.run("push", "origin", "main", cwd=work)
    log = client.run("log", "-2", "--format=%an <%ae>", cwd=work).stdout.splitlines()
    assert log == ["Fay Facilitator <facilitator@example.org>", "Gerda Ghost <gerda@example.net>"]
    page = server.session("reader").get(f"{server.url}/p/Ghost/history").text
    assert page.count("pushed by facilitator") == 1  # only where author and pusher differ
    assert "Gerda Ghost" in page
    changes = server.session("reader").get(f"{server.url}/changes").text
    assert "pushed by facilitator" in changes


def test_reader_can_clone_but_push_is_refused_with_a_reason(server: LiveServer,
                                                            client: GitClient) -> None:
    work = client.clone(server, "reader", "w")
    client.commit_file(work, "Reader.md", b"# Mine\n")
    stderr = push_refused(client, server, work)
    assert "readers may clone and pull but not push" in stderr


def test_anonymous_can_neither_clone_nor_push(server: LiveServer, client: GitClient) -> None:
    done = client.run("clone", clone_url(server, None), str(client.home / "w"), check=False)
    assert done.returncode != 0
    assert "could not read Username" in done.stderr or "Authentication failed" in done.stderr
    before = server_head(server)
    info = requests.get(f"{server.url}/wiki.git/info/refs?service=git-receive-pack", timeout=10)
    assert info.status_code == 401 and info.headers["WWW-Authenticate"].startswith("Basic")
    post = requests.post(f"{server.url}/wiki.git/git-receive-pack", data=b"0000", timeout=10,
                         headers={"Content-Type": "application/x-git-receive-pack-request"})
    assert post.status_code == 401
    assert server_head(server) == before


def test_dumb_http_and_unknown_services_are_refused(server: LiveServer) -> None:
    web = server.session("reader")
    assert web.get(f"{server.url}/wiki.git/info/refs").status_code == 403
    assert web.get(f"{server.url}/wiki.git/info/refs?service=git-shell").status_code == 403
    assert web.get(f"{server.url}/wiki.git/HEAD").status_code == 404
    assert web.get(f"{server.url}/wiki.git/objects/info/packs").status_code == 404


def test_gzip_compressed_fetch_request_is_answered_with_a_pack(server: LiveServer) -> None:
    head = server_head(server)
    body = f"0032want {head}\n".encode() + b"0000" + b"0009done\n"
    answer = server.session("reader").post(
        f"{server.url}/wiki.git/git-upload-pack", data=gzip.compress(body),
        headers={"Content-Type": "application/x-git-upload-pack-request",
                 "Content-Encoding": "gzip"}, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/x-git-upload-pack-result"
    assert answer.content.startswith(b"0008NAK\n") and b"PACK" in answer.content


REFUSED_FILES = [
    ("notes.txt", b"plain text\n", "only Markdown pages"),
    ("bad.name.md", b"# Bad\n", "not a valid page name"),
    ("Intro/edit.md", b"# Reserved\n", "reserved"),
    ("attachments/photo.png", b"<html>not a png</html>", "not a image/png file"),
    ("attachments/page.html", b"<html></html>", "attachment type not allowed"),
    ("attachments/sub/photo.png", PNG, "no sub-folders"),
    (".gitattributes", b"*.md diff\n", "attribute and submodule files are not allowed"),
    ("home.md", b"# twin of Home\n", "differ only in case"),
    ("Huge.md", b"x" * 1_000_001, "larger than 1000000 bytes"),
    ("Latin.md", "caf\u00e9\n".encode("latin-1"), "UTF-8"),
]


@pytest.mark.parametrize(("path", "data", "reason"), REFUSED_FILES,
                         ids=[case[0] for case in REFUSED_FILES])
def test_push_breaking_a_web_rule_is_refused_and_main_is_unchanged(
        server: LiveServer, client: GitClient, path: str, data: bytes, reason: str) -> None:
    work = client.clone(server, "participant", "w")
    client.commit_file(work, path, data)
    stderr = push_refused(client, server, work)
    assert "cowiki refused this push" in stderr and reason in stderr
    assert "pre-receive hook declined" in stderr


def test_valid_attachment_is_accepted(server: LiveServer, client: GitClient) -> None:
    work = client.clone(server, "participant", "w")
    client.commit_file(work, "attachments/diagram.png", PNG)
    client.run("push", "origin", "main", cwd=work)
    image = server.session("reader").get(f"{server.url}/attachments/diagram.png")
    assert image.status_code == 200 and image.content == PNG


def server_secret(tmp_path: Path) -> tuple[Path, str]:
    """A file only the server's machine has, with content no page contains."""
    secret = f"server-secret-{uuid.uuid4().hex}"
    path = tmp_path / "secret.txt"
    path.write_text(secret + "\n")
    return path, secret


def test_symlink_to_a_server_file_is_refused_and_never_leaks(
        server: LiveServer, client: GitClient, tmp_path: Path) -> None:
    target, secret = server_secret(tmp_path)
    work = client.clone(server, "participant", "w")
    (work / "Leak.md").symlink_to("/etc/hostname")
    (work / "Secret.md").symlink_to(target)
    (work / "attachments").mkdir(exist_ok=True)
    (work / "attachments" / "leak.png").symlink_to(target)
    client.run("add", "-A", cwd=work)
    client.run("commit", "-q", "-m", "leak", cwd=work)
    stderr = push_refused(client, server, work)
    assert "Leak.md: symbolic links are not allowed" in stderr
    web = server.session("reader")
    assert "attachments/leak.png: symbolic links are not allowed" in stderr
    for url in ("/p/Secret", "/p/Secret/raw", "/api/v1/pages/Secret", "/attachments/leak.png",
                "/api/v1/pages", "/changes", "/api/v1/changes?limit=50"):
        assert secret not in web.get(server.url + url).text, url


def test_symlink_planted_in_the_repository_is_not_served(server: LiveServer,
                                                         tmp_path: Path) -> None:
    target, secret = server_secret(tmp_path)
    repo = pygit2.Repository(str(server.data_dir / "repo.git"))
    head = repo.references["refs/heads/main"]
    builder = repo.TreeBuilder(repo[head.target].peel(pygit2.Commit).tree)
    builder.insert("Planted.md", repo.create_blob(str(target).encode()),
                   pygit2.enums.FileMode.LINK)
    who = pygit2.Signature("Mallory", "mallory@example.org")
    commit = repo.create_commit(None, who, who, "plant", builder.write(), [head.target])
    before = head.target
    head.set_target(commit)
    try:
        web = server.session("reader")
        assert web.get(f"{server.url}/p/Planted").status_code == 404
        assert web.get(f"{server.url}/api/v1/pages/Planted").status_code == 404
        assert "Planted" not in web.get(f"{server.url}/api/v1/pages").text
        assert secret not in web.get(f"{server.url}/p/Planted/raw").text
    finally:
        repo.references["refs/heads/main"].set_target(before)


def test_submodule_and_gitmodules_are_refused(server: LiveServer, client: GitClient) -> None:
    work = client.clone(server, "participant", "w")
    head = client.run("rev-parse", "HEAD", cwd=work).stdout.strip()
    client.run("update-index", "--add", "--cacheinfo", f"160000,{head},vendor", cwd=work)
    client.commit_file(work, ".gitmodules",
                       b'[submodule "vendor"]\n\tpath = vendor\n\turl = https://example.org/x.git\n')
    stderr = push_refused(client, server, work)
    assert "vendor: submodules are not allowed" in stderr
    assert ".gitmodules: git attribute and submodule files are not allowed" in stderr


def test_executable_page_is_refused(server: LiveServer, client: GitClient) -> None:
    work = client.clone(server, "participant", "w")
    client.commit_file(work, "Script.md", b"#!/bin/sh\n")
    client.run("update-index", "--chmod=+x", "Script.md", cwd=work)
    client.run("commit", "-q", "-m", "chmod", cwd=work)
    assert "executable files are not allowed" in push_refused(client, server, work)


def test_bad_file_in_a_middle_commit_is_refused_even_if_the_tip_is_clean(
        server: LiveServer, client: GitClient) -> None:
    work = client.clone(server, "participant", "w")
    client.commit_file(work, "run.sh", b"echo hi\n", "add a script")
    client.run("rm", "-q", "run.sh", cwd=work)
    client.run("commit", "-q", "-m", "remove it again", cwd=work)
    stderr = push_refused(client, server, work)
    assert "run.sh: only Markdown pages" in stderr


def test_other_branches_tags_and_deleting_main_are_refused(server: LiveServer,
                                                           client: GitClient) -> None:
    work = client.clone(server, "participant", "w")
    client.commit_file(work, "Branch page.md", b"# On a branch\n")
    refs = server_refs(server)
    assert "only refs/heads/main" in push_refused(client, server, work, "origin",
                                                   "HEAD:refs/heads/feature")
    client.run("tag", "v1", cwd=work)
    assert "only refs/heads/main" in push_refused(client, server, work, "origin", "v1")
    assert "deleting the wiki's main branch" in push_refused(client, server, work, "origin",
                                                              ":main")
    assert server_refs(server) == refs


def test_force_push_is_refused(server: LiveServer, client: GitClient) -> None:
    work = client.clone(server, "participant", "w")
    client.run("commit", "-q", "--amend", "-m", "rewrite the last commit", cwd=work)
    stderr = push_refused(client, server, work, "--force", "origin", "HEAD:main")
    assert "not a fast-forward" in stderr and "fetch first" in stderr


def test_push_after_a_web_save_is_told_to_fetch_first(server: LiveServer,
                                                      client: GitClient) -> None:
    work = client.clone(server, "participant", "w")
    saved = server.session("facilitator").put(
        f"{server.url}/api/v1/pages/Race", json={"markdown": "# Race\n", "base_revision": None})
    assert saved.status_code in (200, 201)
    client.commit_file(work, "Late.md", b"# Late\n")
    assert "fetch first" in push_refused(client, server, work)
    client.run("pull", "-q", "--rebase", cwd=work)
    client.run("push", "-q", "origin", "main", cwd=work)


def test_pushes_racing_web_saves_lose_neither(server: LiveServer, client: GitClient) -> None:
    work = client.clone(server, "participant", "w")
    web = server.session("facilitator")
    saves: list[str] = []

    def save_in_browser() -> None:
        base = None
        for n in range(8):
            answer = web.put(f"{server.url}/api/v1/pages/Web race",
                             json={"markdown": f"# Web race\n\nsave {n}\n",
                                   "base_revision": base})
            assert answer.status_code in (200, 201), answer.text
            base = answer.json()["revision"]
            saves.append(base)

    thread = threading.Thread(target=save_in_browser)
    thread.start()
    pushed = []
    for n in range(4):
        client.commit_file(work, "Git race.md", f"# Git race\n\npush {n}\n".encode())
        for _attempt in range(20):
            if client.run("push", "-q", "origin", "main", cwd=work, check=False).returncode == 0:
                break
            client.run("pull", "-q", "--rebase", cwd=work)
        pushed.append(client.run("rev-parse", "HEAD", cwd=work).stdout.strip())
    thread.join()
    history = client.run("--git-dir", str(server.data_dir / "repo.git"), "rev-list", "main").stdout
    assert all(rev in history for rev in saves + pushed)


def test_public_read_lets_anonymous_clone_but_not_push(tmp_path: Path, client: GitClient,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COWIKI_PUBLIC_READ", "1")
    data = tmp_path / "public"
    data.mkdir()
    live = start_server(data, workers=1)
    try:
        work = client.clone(live, None, "w")
        assert (work / "Home.md").exists()
        client.commit_file(work, "Anon.md", b"# Anonymous\n")
        stderr = push_refused(client, live, work)
        assert "could not read Username" in stderr or "Authentication failed" in stderr
    finally:
        stop_server(live)


def test_pushed_work_counts_for_the_account_with_the_authors_email(server: LiveServer,
                                                                  client: GitClient) -> None:
    # The clone's git identity is "Pat Participant" <participant@example.org>: the
    # participant account's email under another name.
    web = server.session("reader")

    def commits_of(name: str) -> int:
        people = web.get(f"{server.url}/api/v1/contributors").json()
        return sum(p["commits"] for p in people if p["name"] == name)

    before = commits_of("participant")
    work = client.clone(server, "participant", "w")
    client.commit_file(work, "Counted.md", b"# Counted\n\nPushed work counts.\n", "Count me")
    client.run("push", "origin", "main", cwd=work)
    assert commits_of("participant") == before + 1
    assert commits_of("Pat Participant") == 0


def test_participants_push_neither_the_outline_nor_into_a_frozen_chapter(
        server: LiveServer, client: GitClient) -> None:
    facilitator = server.session("facilitator")
    work = client.clone(server, "participant", "w")
    client.commit_file(work, "outline.json", b'{"title": "Mine now", "pages": []}\n', "outline")
    assert "only facilitators may change the whitepaper's outline" in push_refused(
        client, server, work)
    client.run("reset", "-q", "--hard", "origin/main", cwd=work)

    frozen = facilitator.put(f"{server.url}/api/v1/freeze",
                             json={"scope": "Hoofdstuk 9", "frozen": True})
    assert frozen.status_code == 200, frozen.text
    try:
        client.commit_file(work, "Hoofdstuk 9/Slot.md", b"# Slot\n", "into the frozen chapter")
        assert "Hoofdstuk 9 is frozen" in push_refused(client, server, work)
        client.run("reset", "-q", "--hard", "origin/main", cwd=work)
        client.commit_file(work, "Elders.md", b"# Elders\n", "outside it")
        client.run("push", "origin", "main", cwd=work)
    finally:
        facilitator.put(f"{server.url}/api/v1/freeze",
                        json={"scope": "Hoofdstuk 9", "frozen": False})

    own = client.clone(server, "facilitator", "f")
    client.commit_file(own, "outline.json", b'{"title": "Samen sterker", "pages": []}\n', "o")
    client.run("push", "origin", "main", cwd=own)
