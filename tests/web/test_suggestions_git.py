"""Suggestions seen from git: a reader fetches refs/suggestions/*, nobody pushes to them.

The real git client against a real server (gunicorn, two workers).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import LiveServer, serve_fresh
from tests.web.git_client import GitClient, server_refs

TEXT = "# Plan\n\nWe meet on Monday.\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_fresh(tmp_path_factory.mktemp("suggest-git"))


@pytest.fixture
def client(tmp_path: Path) -> GitClient:
    return GitClient.in_folder(tmp_path)


@pytest.fixture(scope="module")
def suggestion(server: LiveServer) -> int:
    facilitator = server.session("facilitator")
    saved = facilitator.put(f"{server.url}/api/v1/pages/Plan", json={"markdown": TEXT})
    made = server.session("participant").post(
        f"{server.url}/api/v1/pages/Plan/suggestions",
        json={"markdown": TEXT.replace("Monday", "Tuesday"), "note": "Tuesday suits us",
              "base_revision": saved.json()["revision"]})
    assert made.status_code == 201, made.text
    number: int = made.json()["id"]
    return number


def test_a_reader_fetches_suggestions_as_commits_by_the_suggester(
        server: LiveServer, client: GitClient, suggestion: int) -> None:
    work = client.clone(server, "reader", "w")
    client.run("fetch", "origin", "refs/suggestions/*:refs/remotes/origin/suggestions/*",
               cwd=work)
    ref = f"origin/suggestions/{suggestion}"
    log = client.run("log", "-1", "--format=%an|%s", ref, cwd=work).stdout.strip()
    assert log == "participant|Tuesday suits us"
    assert client.run("rev-parse", f"{ref}^", cwd=work).stdout == client.run(
        "rev-parse", "origin/main", cwd=work).stdout
    assert "Tuesday" in client.run("show", f"{ref}:Plan.md", cwd=work).stdout


@pytest.mark.parametrize("target", ["+HEAD:refs/suggestions/{n}", "HEAD:refs/suggestions/999",
                                    ":refs/suggestions/{n}"])
def test_pushes_to_suggestion_refs_are_refused(server: LiveServer, client: GitClient,
                                               suggestion: int, target: str) -> None:
    work = client.clone(server, "facilitator", "w")
    client.commit_file(work, "Plan.md", b"# Plan\n\nMine instead.\n")
    before = server_refs(server)
    done = client.run("push", "origin", target.format(n=suggestion), cwd=work, check=False)
    assert done.returncode != 0
    assert "suggestions are made in the wiki" in done.stderr
    assert server_refs(server) == before
