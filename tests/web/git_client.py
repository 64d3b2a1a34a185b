"""The real `git` client for tests: a temp HOME, no prompts, a fixed identity."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from tests.conftest import PASSWORDS, LiveServer


@dataclass(frozen=True)
class GitClient:
    """Runs git in `home` (its own HOME, so no user config leaks in)."""

    home: Path

    @classmethod
    def in_folder(cls, folder: Path) -> GitClient:
        """A client whose HOME is a new `home` folder in `folder`."""
        home = folder / "home"
        home.mkdir()
        return cls(home)

    def env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Pat Participant",
            "GIT_AUTHOR_EMAIL": "participant@example.org",
            "GIT_COMMITTER_NAME": "Pat Participant",
            "GIT_COMMITTER_EMAIL": "participant@example.org",
            "LANG": "C",
        }

    def run(self, *args: str, cwd: Path | None = None, check: bool = True,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(["git", *args], cwd=cwd or self.home,
                              env={**self.env(), **(env or {})},
                              capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def clone(self, server: LiveServer, role: str | None, name: str) -> Path:
        """Clone the wiki as `role` (None: anonymous) into home/name."""
        target = self.home / name
        self.run("clone", clone_url(server, role), str(target))
        return target

    def commit_file(self, work: Path, path: str, data: bytes, message: str = "Edit",
                    author: str | None = None) -> None:
        file = work / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(data)
        self.run("add", "--", path, cwd=work)
        extra = [f"--author={author}"] if author else []
        self.run("commit", "-q", "-m", message, *extra, cwd=work)


def clone_url(server: LiveServer, role: str | None) -> str:
    """http://ROLE:PASSWORD@host/wiki.git, or without credentials for None."""
    host = server.url.split("://", 1)[1]
    if role is None:
        return f"http://{host}/wiki.git"
    return f"http://{role}:{quote(PASSWORDS[role])}@{host}/wiki.git"


def server_head(server: LiveServer) -> str:
    """The commit refs/heads/main points to on the server."""
    return subprocess.run(
        ["git", "--git-dir", str(server.data_dir / "repo.git"), "rev-parse", "refs/heads/main"],
        capture_output=True, text=True, check=True).stdout.strip()


def server_refs(server: LiveServer) -> str:
    """Every ref on the server."""
    return subprocess.run(
        ["git", "--git-dir", str(server.data_dir / "repo.git"), "for-each-ref"],
        capture_output=True, text=True, check=True).stdout
