"""`git push origin HEAD:refs/for/main`: the wiki merges a push made while others saved.

One gunicorn server (two workers) serves the module; pushes use the real git
client, web saves the JSON API, and every check reads the server's repository.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import LiveServer, serve_fresh
from tests.web.git_client import GitClient, server_head

MERGE_PUSH = ("push", "origin", "HEAD:refs/for/main")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_fresh(tmp_path_factory.mktemp("push-merge"))


@pytest.fixture
def client(tmp_path: Path) -> GitClient:
    return GitClient.in_folder(tmp_path)


def server_git(server: LiveServer, *args: str) -> str:
    """git's output for a command on the server's repository."""
    return subprocess.run(["git", "--git-dir", str(server.data_dir / "repo.git"), *args],
                          capture_output=True, text=True, check=True).stdout


def web_save(server: LiveServer, path: str, text: str, base: str | None = None) -> str:
    """Save a page through the JSON API as the facilitator; the new revision."""
    answer = server.session("facilitator").put(
        f"{server.url}/api/v1/pages/{path}", json={"markdown": text, "base_revision": base})
    assert answer.status_code in (200, 201), answer.text
    return str(answer.json()["revision"])


def page_text(server: LiveServer, path: str) -> str:
    return str(server.session("reader").get(f"{server.url}/api/v1/pages/{path}")
               .json()["markdown"])


PARAGRAPHS = "# Plan\n\nIntro.\n\nMiddle one.\n\nMiddle two.\n\nEnd.\n"


def test_stale_push_merges_cleanly_and_the_merge_is_credited_to_the_pusher(
        server: LiveServer, client: GitClient) -> None:
    first = web_save(server, "Plan", PARAGRAPHS)
    work = client.clone(server, "participant", "w")
    web = web_save(server, "Plan", PARAGRAPHS.replace("Intro.", "Intro from the web."), first)
    client.commit_file(work, "Plan.md", PARAGRAPHS.replace("End.", "End from git.").encode(),
                       "Rewrite the end")
    pushed = client.run("rev-parse", "HEAD", cwd=work).stdout.strip()
    done = client.run(*MERGE_PUSH, cwd=work)
    assert "merged your push" in done.stderr
    head = server_head(server)
    assert server_git(server, "log", "-1", "--format=%P", head).split() == [web, pushed]
    assert server_git(server, "log", "-1", "--format=%an <%ae>|%cn", head).strip() == (
        "participant <participant@example.org>|cowiki")
    assert page_text(server, "Plan") == PARAGRAPHS.replace("Intro.", "Intro from the web.") \
        .replace("End.", "End from git.")
    client.run("pull", "-q", "--ff-only", cwd=work)
    assert client.run("rev-parse", "HEAD", cwd=work).stdout.strip() == head


def test_conflicting_push_is_refused_naming_the_file_and_main_is_unchanged(
        server: LiveServer, client: GitClient) -> None:
    first = web_save(server, "Clash", "# Clash\n\nOne line.\n")
    work = client.clone(server, "participant", "w")
    web_save(server, "Clash", "# Clash\n\nThe web's line.\n", first)
    client.commit_file(work, "Clash.md", b"# Clash\n\nGit's line.\n")
    client.commit_file(work, "Other.md", b"# Other\n\nClean on its own.\n")
    before = server_head(server)
    done = client.run(*MERGE_PUSH, cwd=work, check=False)
    assert done.returncode != 0
    assert "Clash.md: changed both on the wiki and in your push" in done.stderr
    assert "Other.md" not in done.stderr and "main is unchanged" in done.stderr
    assert server_head(server) == before
    assert "Git's line." not in page_text(server, "Clash")


def test_fast_forward_push_makes_no_merge_commit(server: LiveServer,
                                                 client: GitClient) -> None:
    work = client.clone(server, "participant", "w")
    client.commit_file(work, "Straight.md", b"# Straight\n\nNo one else saved.\n")
    client.run(*MERGE_PUSH, cwd=work)
    head = client.run("rev-parse", "HEAD", cwd=work).stdout.strip()
    assert server_head(server) == head
    assert client.run("rev-parse", "origin/main", cwd=work).stdout.strip() == head


def test_push_to_merge_that_breaks_a_rule_is_refused_as_before(
        server: LiveServer, client: GitClient) -> None:
    work = client.clone(server, "participant", "w")
    web_save(server, "Moving on", "# Moving on\n")
    client.commit_file(work, "notes.txt", b"plain text\n")
    before = server_head(server)
    done = client.run(*MERGE_PUSH, cwd=work, check=False)
    assert done.returncode != 0
    assert "cowiki refused this push" in done.stderr and "only Markdown pages" in done.stderr
    assert "pre-receive hook declined" in done.stderr
    assert server_head(server) == before


def test_participant_cannot_merge_an_outline_change(server: LiveServer,
                                                    client: GitClient) -> None:
    work = client.clone(server, "participant", "w")
    web_save(server, "Elsewhere", "# Elsewhere\n")
    client.commit_file(work, "outline.json", b'{"title": "Mine", "pages": []}\n')
    before = server_head(server)
    done = client.run(*MERGE_PUSH, cwd=work, check=False)
    assert "only facilitators may change the whitepaper's outline" in done.stderr
    assert server_head(server) == before


def test_json_history_and_changes_name_the_pusher(server: LiveServer,
                                                  client: GitClient) -> None:
    first = web_save(server, "Credits", PARAGRAPHS)
    work = client.clone(server, "participant", "w")
    web_save(server, "Credits", PARAGRAPHS.replace("Intro.", "Web intro."), first)
    client.commit_file(work, "Credits.md", PARAGRAPHS.replace("End.", "Git end.").encode())
    pushed = client.run("rev-parse", "HEAD", cwd=work).stdout.strip()
    client.run(*MERGE_PUSH, cwd=work)
    merge = server_head(server)
    reader = server.session("reader")
    history = reader.get(f"{server.url}/api/v1/pages/Credits/history").json()
    by_revision = {entry["revision"]: entry["pushed_by"] for entry in history}
    assert by_revision[pushed] == "participant" and by_revision[first] is None
    changes = reader.get(f"{server.url}/api/v1/changes?limit=10").json()
    pushers = {entry["revision"]: entry["pushed_by"] for entry in changes}
    assert pushers[merge] == "participant" and pushers[pushed] == "participant"
    assert pushers[first] is None


def test_merged_pushes_are_announced_once_each(server: LiveServer, client: GitClient) -> None:
    log = server.data_dir / "server.log"
    announced = log.read_text().count('"event":"pushed"')
    first = web_save(server, "Announce", PARAGRAPHS)
    work = client.clone(server, "participant", "w")
    web_save(server, "Announce", PARAGRAPHS.replace("Intro.", "Web."), first)
    client.commit_file(work, "Announce.md", PARAGRAPHS.replace("End.", "Lepelaar.").encode())
    client.run(*MERGE_PUSH, cwd=work)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and log.read_text().count('"event":"pushed"') == announced:
        time.sleep(0.1)
    assert log.read_text().count('"event":"pushed"') == announced + 1
    hits = server.session("reader").get(f"{server.url}/api/v1/search?q=lepelaar").json()
    assert "Announce" in [r["path"] for r in hits["results"]]


def test_pushes_land_while_the_web_saves(server: LiveServer, client: GitClient) -> None:
    """A short load test: 2 web saves a second, 4 pushes, each landing within two tries."""
    base = web_save(server, "Busy", "# Busy\n")
    work = client.clone(server, "participant", "w")
    saved: list[str] = []
    stop_saving = threading.Event()

    def save_on_the_web() -> None:
        revision, n = base, 0
        while not stop_saving.is_set() and n < 60:
            text = page_text(server, "Busy") + f"\nweb save {n}\n"
            revision = web_save(server, "Busy", text, revision)
            saved.append(f"web save {n}")
            n += 1
            stop_saving.wait(0.5)

    saver = threading.Thread(target=save_on_the_web)
    saver.start()
    tries = []
    try:
        for n in range(4):
            client.commit_file(work, f"Pushed {n}.md", f"# Pushed {n}\n".encode())
            for attempt in (1, 2):
                if client.run(*MERGE_PUSH, cwd=work, check=False).returncode == 0:
                    tries.append(attempt)
                    break
                client.run("pull", "-q", "--no-rebase", cwd=work)
            time.sleep(0.5)
    finally:
        stop_saving.set()
        saver.join(timeout=60)
    assert len(tries) == 4
    final = page_text(server, "Busy")
    assert all(line in final for line in saved)
    tree = server_git(server, "ls-tree", "--name-only", "main")
    assert all(f"Pushed {n}.md" in tree for n in range(4))
    server_git(server, "fsck", "--strict")
