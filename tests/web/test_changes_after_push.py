"""Recent changes and contributors after `git push origin HEAD:refs/for/main` merges.

A real server (gunicorn, two workers) takes web saves, renames and deletes
through the API while a participant pushes stale work from a real clone
(one commit with a clock an hour ahead, a rename among the pushed commits);
the wiki merges each push. Then the server's own page cache is read with git
out of reach and must list what git lists, and the API's recent changes and
contributors (people by their account names) must equal git's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.history import History
from tests.conftest import LiveServer, serve_fresh
from tests.pagemeta_support import assert_cache_answers_as_git
from tests.web.git_client import GitClient, server_head
from wiki import revisions
from wiki.config import Settings
from wiki.datadir import open_data_dir
from wiki.pages import PageStore
from wiki.people import display_names

MERGE_PUSH = ("push", "origin", "HEAD:refs/for/main")
PLAN = "# Plan\n\nIntro.\n\nMiddle.\n\nEnd.\n"


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    yield from serve_fresh(tmp_path / "server")


def api(server: LiveServer, method: str, path: str, **body: object) -> dict[str, object]:
    answer = server.session("facilitator").request(method, f"{server.url}/api/v1/{path}",
                                                   json=body or None)
    assert answer.status_code in (200, 201, 204), answer.text
    return answer.json() if answer.content else {}


def commit_all(client: GitClient, work: Path, message: str, when: int | None = None) -> None:
    stamp = {} if when is None else {"GIT_AUTHOR_DATE": f"{when} +0000",
                                     "GIT_COMMITTER_DATE": f"{when} +0000"}
    client.run("add", "-A", cwd=work)
    client.run("commit", "-q", "-m", message, cwd=work, env=stamp)


def test_merged_pushes_between_web_saves_are_listed_from_the_cache_as_git_lists_them(
        server: LiveServer, tmp_path: Path) -> None:
    client = GitClient.in_folder(tmp_path)
    first = str(api(server, "PUT", "pages/Plan", markdown=PLAN)["revision"])
    api(server, "PUT", "pages/Other", markdown="# Other\n")
    work = client.clone(server, "participant", "w")
    api(server, "PUT", "pages/Plan", markdown=PLAN.replace("Intro.", "Intro, web."),
        base_revision=first)
    (work / "Plan.md").write_text(PLAN.replace("End.", "End, git."))
    commit_all(client, work, "Rewrite the end")
    (work / "Notes.md").write_text("# Notes\n\nFrom the laptop, whose clock runs ahead.\n")
    commit_all(client, work, "Notes", when=int(time.time()) + 3600)
    assert "merged your push" in client.run(*MERGE_PUSH, cwd=work).stderr
    api(server, "POST", "pages/Other/rename", to="Elsewhere")
    client.run("mv", "Notes.md", "Ideas.md", cwd=work)
    commit_all(client, work, "Notes become ideas")
    other = api(server, "GET", "pages/Elsewhere")
    api(server, "DELETE", "pages/Elsewhere", base_revision=other["revision"])
    assert "merged your push" in client.run(*MERGE_PUSH, cwd=work).stderr
    api(server, "PUT", "pages/Ideas", markdown="# Ideas\n\nAnd one from the web.\n",
        base_revision=api(server, "GET", "pages/Ideas")["revision"])

    services = open_data_dir(Settings.load({"data_dir": str(server.data_dir)}))
    head = server_head(server)
    assert len(History(services.repo.path).log(limit=100)) > 10
    assert len(services.repo.git[head].parents[0].parent_ids) == 2  # a merge under the save
    deadline = time.monotonic() + 10  # the server follows the push in the background
    while services.pagemeta._reflected() != head and time.monotonic() < deadline:
        time.sleep(0.1)
    assert_cache_answers_as_git(services, tmp_path / "nowhere")

    plain = PageStore(services.repo, History(services.repo.path), services.pages.max_page_bytes)
    names = display_names(services.accounts)
    listed = server.session("reader").get(f"{server.url}/api/v1/changes?limit=500").json()
    assert [(c["revision"], c["author"], [p["path"] for p in c["pages"]]) for c in listed] == [
        (c.revision, c.author, [p.name for p in c.pages])
        for c in revisions.recent_changes(plain, limit=500, names=names)]
    assert "participant" in {c["author"] for c in listed}  # "Pat Participant" in git
    people = server.session("reader").get(f"{server.url}/api/v1/contributors").json()
    assert people == [{"name": c.name, "commits": c.commits, "lines": c.lines_added,
                       "lines_removed": c.lines_removed}
                      for c in revisions.contributors(plain, services.accounts)]
