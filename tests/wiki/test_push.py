"""Push rules and the push log, with real `git push` into a data dir on the file system.

A local push runs the same hooks as one over HTTP (without a pusher account).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from wiki.accounts import Accounts
from wiki.config import Settings
from wiki.datadir import Services, open_data_dir
from wiki.githooks import hook_script, install_hooks
from wiki.pushlog import PushLog


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return open_data_dir(Settings.load({"data_dir": str(tmp_path / "data")}))


def git(cwd: Path, *args: str, env: dict[str, str] | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Ann", "GIT_AUTHOR_EMAIL": "ann@example.org",
            "GIT_COMMITTER_NAME": "Ann", "GIT_COMMITTER_EMAIL": "ann@example.org"}
    return subprocess.run(["git", *args], cwd=cwd, env={**base, **(env or {})},
                          capture_output=True, text=True, check=check, timeout=60)


def clone(services: Services, tmp_path: Path) -> Path:
    git(tmp_path, "clone", "-q", str(services.repo.path), "work")
    return tmp_path / "work"


def add(work: Path, path: str, data: bytes) -> None:
    (work / path).parent.mkdir(parents=True, exist_ok=True)
    (work / path).write_bytes(data)
    git(work, "add", "--", path)
    git(work, "commit", "-q", "-m", f"add {path}")


def test_push_over_the_per_push_limit_is_refused(services: Services, tmp_path: Path) -> None:
    work = clone(services, tmp_path)
    for n in range(3):
        add(work, f"Part {n}.md", str(n).encode() * 600 + b"\n")
    head = services.repo.head()
    done = git(work, "push", "origin", "main", check=False,
               env={"COWIKI_MAX_PUSH_BYTES": "1500"})
    assert done.returncode != 0
    assert "more than the 1500 allowed at once" in done.stderr
    assert services.repo.head() == head


def test_local_push_is_checked_and_logged_without_a_pusher(services: Services,
                                                           tmp_path: Path) -> None:
    work = clone(services, tmp_path)
    add(work, "Local.md", b"# Local\n")
    git(work, "push", "-q", "origin", "main")
    head = services.repo.head()
    assert head is not None
    assert PushLog(services.db).pushers([head])[head].name == "(server)"
    add(work, "local.txt", b"no\n")
    assert "only Markdown pages" in git(work, "push", "origin", "main", check=False).stderr


def test_outline_can_be_edited_in_a_clone_but_must_stay_valid(services: Services,
                                                               tmp_path: Path) -> None:
    work = clone(services, tmp_path)
    add(work, "outline.json", b'{"title": "Samen sterker", "pages": ["Home"]}\n')
    git(work, "push", "-q", "origin", "main")
    assert b"Samen sterker" in (services.repo.read(services.repo.head(), "outline.json") or b"")
    head = services.repo.head()
    add(work, "outline.json", b'{"title": "", "pages": ["../etc"]}\n')
    refused = git(work, "push", "origin", "main", check=False)
    assert refused.returncode != 0 and "not a valid outline" in refused.stderr
    assert services.repo.head() == head


def test_history_names_the_pusher_only_when_it_is_not_the_author(services: Services) -> None:
    accounts = Accounts(services.db)
    pat = accounts.add_user("Pat", "pat@example.org", "participant", "long-password")
    log = PushLog(services.db)
    log.record(pat.id, "a" * 40, "b" * 40, ["1" * 40, "2" * 40])
    shown = log.pushed_by_others([("1" * 40, "PAT@example.org"), ("2" * 40, "co@example.org"),
                                  ("3" * 40, "co@example.org")])
    assert shown == {"2" * 40: "Pat"}


def test_hooks_run_this_python_and_are_rewritten_when_changed(services: Services) -> None:
    hook = services.repo.path / "hooks" / "pre-receive"
    assert hook.read_text() == hook_script("pre-receive", sys.executable)
    assert os.access(hook, os.X_OK)
    hook.write_text("#!/bin/sh\nexit 0\n")
    install_hooks(services.repo.path)
    assert "-m cowiki.hooks pre-receive" in hook.read_text()
