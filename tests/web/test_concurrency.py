"""Concurrent saves through the real server: gunicorn with two worker processes.

Every client speaks HTTP Basic with a personal token (cheap to verify, unlike
scrypt passwords), and every outcome is checked with the real `git` binary on
the data directory's bare repository.
"""

from __future__ import annotations

import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.conftest import LiveServer, cli

COMMITTER = "cowiki <cowiki@localhost>"
EDITORS = ("participant", "facilitator")
PARAGRAPHS = (
    "# Plan\n\n"
    "Intro line one.\nIntro line two.\nIntro line three.\n\n"
    "Middle line one.\nMiddle line two.\nMiddle line three.\n\n"
    "Closing line one.\nClosing line two.\nClosing line three.\n"
)


def git(server: LiveServer, *args: str) -> str:
    """Run the real git on the server's bare repository."""
    done = subprocess.run(["git", "--git-dir", str(server.data_dir / "repo.git"), *args],
                          capture_output=True, text=True, check=True, timeout=60)
    return done.stdout


def commit_count(server: LiveServer) -> int:
    return int(git(server, "rev-list", "--count", "refs/heads/main").strip())


def token_session(server: LiveServer, name: str) -> requests.Session:
    """A requests session logged in as `name` with a fresh personal token."""
    done = cli(server.data_dir, "token", name)
    assert done.returncode == 0, done.stderr
    session = requests.Session()
    session.auth = (name, done.stdout.strip())
    return session


def page_url(server: LiveServer, name: str) -> str:
    return f"{server.url}/api/v1/pages/{name}"


def read(session: requests.Session, server: LiveServer, name: str) -> dict[str, Any]:
    response = session.get(page_url(server, name), timeout=30)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def put(session: requests.Session, server: LiveServer, name: str, markdown: str,
        base: str | None, message: str = "") -> requests.Response:
    body = {"markdown": markdown, "message": message, "base_revision": base}
    return session.put(page_url(server, name), json=body, timeout=60)


def assert_repository_sound(server: LiveServer) -> None:
    """`git fsck --strict` finds nothing wrong with the repository."""
    done = subprocess.run(
        ["git", "--git-dir", str(server.data_dir / "repo.git"), "fsck", "--strict",
         "--no-dangling"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "error" not in done.stderr.lower() and "warning" not in done.stderr.lower()


def authors_of(server: LiveServer, path: str) -> list[str]:
    """'author | committer' of every commit that touched `path`, newest first."""
    out = git(server, "log", "--format=%an <%ae> | %cn <%ce>", "refs/heads/main", "--", path)
    return out.splitlines()


@pytest.fixture
def sessions(live_server: LiveServer) -> dict[str, requests.Session]:
    """One token session per editing role."""
    return {name: token_session(live_server, name) for name in EDITORS}


def test_parallel_saves_to_different_pages_each_make_one_commit_by_their_author(
    live_server: LiveServer, sessions: dict[str, requests.Session]
) -> None:
    before = commit_count(live_server)

    def create(number: int) -> int:
        editor = EDITORS[number % 2]
        response = put(sessions[editor], live_server, f"Parallel/page-{number}",
                       f"# Page {number}\n\nWritten by {editor}.\n", None, f"Page {number}")
        return response.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(create, range(20)))

    assert statuses == [201] * 20
    assert commit_count(live_server) == before + 20
    for number in range(20):
        editor = EDITORS[number % 2]
        assert authors_of(live_server, f"Parallel/page-{number}.md") == [
            f"{editor} <{editor}@example.org> | {COMMITTER}"]
    assert_repository_sound(live_server)


def append_lines(server: LiveServer, session: requests.Session, name: str, client: int,
                 count: int, conflicts: list[int]) -> None:
    """Append `count` lines one save at a time; on 409 re-read and try again."""
    for line in range(count):
        text = f"client {client} line {line:02d}"
        while True:
            page = read(session, server, name)
            response = put(session, server, name, page["markdown"] + text + "\n",
                           page["revision"], text)
            if response.status_code == 409:
                conflicts.append(client)
                continue
            assert response.status_code == 200, response.text
            break


def test_four_clients_appending_to_one_page_lose_and_duplicate_nothing(
    live_server: LiveServer, sessions: dict[str, requests.Session]
) -> None:
    name = "Shared"
    created = put(sessions["facilitator"], live_server, name, "# Shared\n\n", None)
    assert created.status_code == 201, created.text
    conflicts: list[int] = []
    clients = [threading.Thread(target=append_lines,
                                args=(live_server, token_session(live_server, EDITORS[i % 2]),
                                      name, i, 25, conflicts))
               for i in range(4)]
    for client in clients:
        client.start()
    for client in clients:
        client.join(timeout=120)

    lines = read(sessions["participant"], live_server, name)["markdown"].splitlines()[2:]
    expected = {f"client {c} line {n:02d}" for c in range(4) for n in range(25)}
    assert sorted(lines) == sorted(expected)
    assert len(authors_of(live_server, "Shared.md")) == 1 + 100
    assert_repository_sound(live_server)


@pytest.fixture
def stale_page(live_server: LiveServer, sessions: dict[str, requests.Session]) -> str:
    """A three-paragraph page, edited in its first paragraph after it was read.

    Returns the revision the stale editor read (before the other edit).
    """
    created = put(sessions["facilitator"], live_server, "Plan", PARAGRAPHS, None)
    assert created.status_code == 201, created.text
    stale = str(created.json()["revision"])
    other = PARAGRAPHS.replace("Intro line two.", "Intro line two, reworded by facilitator.")
    moved = put(sessions["facilitator"], live_server, "Plan", other, stale)
    assert moved.status_code == 200, moved.text
    return stale


def test_stale_edit_to_another_paragraph_is_merged(
    live_server: LiveServer, sessions: dict[str, requests.Session], stale_page: str
) -> None:
    ours = PARAGRAPHS.replace("Closing line two.", "Closing line two, by participant.")

    response = put(sessions["participant"], live_server, "Plan", ours, stale_page)

    assert response.status_code == 200, response.text
    assert response.json()["merged"] is True
    assert response.json()["merged_with"] == ["facilitator"]
    text = read(sessions["participant"], live_server, "Plan")["markdown"]
    assert "Intro line two, reworded by facilitator." in text
    assert "Closing line two, by participant." in text
    assert authors_of(live_server, "Plan.md")[0] == (
        f"participant <participant@example.org> | {COMMITTER}")
    assert_repository_sound(live_server)


def test_overlapping_stale_edit_is_refused_with_both_versions_and_leaves_page_unchanged(
    live_server: LiveServer, sessions: dict[str, requests.Session], stale_page: str
) -> None:
    before = read(sessions["participant"], live_server, "Plan")
    ours = PARAGRAPHS.replace("Intro line two.", "Intro line two, by participant.")

    response = put(sessions["participant"], live_server, "Plan", ours, stale_page)

    assert response.status_code == 409, response.text
    conflict = response.json()
    assert conflict["error"] == "conflict"
    assert conflict["ours"] == ours
    assert conflict["theirs"] == before["markdown"]
    assert [(h["ours"], h["theirs"]) for h in conflict["conflicts"]] == [
        ("Intro line two, by participant.", "Intro line two, reworded by facilitator.")]
    after = read(sessions["participant"], live_server, "Plan")
    assert (after["revision"], after["markdown"]) == (before["revision"], before["markdown"])
    assert_repository_sound(live_server)


def test_log_shows_each_editor_as_author_and_the_server_as_committer(
    live_server: LiveServer, sessions: dict[str, requests.Session]
) -> None:
    created = put(sessions["participant"], live_server, "Credits", "# Credits\n", None)
    assert created.status_code == 201, created.text
    revision = read(sessions["facilitator"], live_server, "Credits")["revision"]
    edited = put(sessions["facilitator"], live_server, "Credits", "# Credits\n\nThanks.\n",
                 revision)
    assert edited.status_code == 200, edited.text

    assert authors_of(live_server, "Credits.md") == [
        f"facilitator <facilitator@example.org> | {COMMITTER}",
        f"participant <participant@example.org> | {COMMITTER}",
    ]
    assert_repository_sound(live_server)
