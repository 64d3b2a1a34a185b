"""The one way cowiki runs the git binary: `run_git` (to completion) and `start_git` (streamed).

Both build the command line here: `git [--git-dir DIR] ARGS`, with git's
messages in English (so they read the same in every log) and, for
`run_git`, a timeout and git's stderr in the error. User data must follow
`--end-of-options` (revisions) or `--` (paths); `run_git` adds them when
the caller passes `revisions=` or `paths=` instead of building the list
itself. Nothing outside this module starts git.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from storage.errors import StorageError

GIT = "git"
DEFAULT_TIMEOUT = 120.0
ENGLISH = {"LANGUAGE": "C", "LC_ALL": "C"}
STDERR_LINES = 3  # the last lines of stderr an error message quotes

GitProcess = subprocess.Popen[bytes]


class GitFailed(StorageError):
    """git exited with an error, timed out or could not be started; the message says which."""

    def __init__(self, command: Sequence[str], returncode: int | None, stderr: str) -> None:
        self.command = tuple(command)
        self.returncode = returncode
        self.stderr = stderr
        name = " ".join(command[:2])
        status = "could not run" if returncode is None else f"failed (exit {returncode})"
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        tail = " | ".join(lines[-STDERR_LINES:])  # one line, so a CLI error stays one line
        super().__init__(f"git {name} {status}: {tail}" if tail else f"git {name} {status}")


@dataclass(frozen=True)
class GitOutput:
    """What a finished git command printed, and its exit status."""

    returncode: int
    stdout: bytes
    stderr: str

    @property
    def text(self) -> str:
        """stdout as UTF-8 text (undecodable bytes replaced)."""
        return self.stdout.decode("utf-8", errors="replace")


def git_argv(args: Sequence[str], git_dir: str | os.PathLike[str] | None = None,
             revisions: Sequence[str] = (), paths: Sequence[str] | None = None) -> list[str]:
    """The full command line: options, then `--end-of-options` and revisions, then `--` paths."""
    argv = [GIT] if git_dir is None else [GIT, "--git-dir", str(Path(git_dir).absolute())]
    argv += args
    if revisions:
        argv += ["--end-of-options", *revisions]
    if paths is not None:
        argv += ["--", *paths]
    return argv


def run_git(*args: str, git_dir: str | os.PathLike[str] | None = None,
            revisions: Sequence[str] = (), paths: Sequence[str] | None = None,
            input: bytes | None = None, timeout: float = DEFAULT_TIMEOUT,
            ok: Sequence[int] = (0,), pass_fds: Sequence[int] = ()) -> GitOutput:
    """Run git to completion and return its output.

    `pass_fds` are file descriptors git inherits (read as /dev/fd/N paths).
    Raises GitFailed (with git's last stderr lines) when git cannot start,
    exceeds `timeout` seconds or exits with a status not in `ok`.
    """
    argv = git_argv(args, git_dir, revisions, paths)
    try:
        done = subprocess.run(argv, input=input, capture_output=True, timeout=timeout,
                              env={**os.environ, **ENGLISH}, check=False, pass_fds=pass_fds)
    except subprocess.TimeoutExpired as exc:
        raise GitFailed(args, None, f"timed out after {timeout:.0f} s") from exc
    except OSError as exc:
        raise GitFailed(args, None, str(exc)) from exc
    stderr = done.stderr.decode("utf-8", errors="replace")
    if done.returncode not in ok:
        raise GitFailed(args, done.returncode, stderr)
    return GitOutput(done.returncode, done.stdout, stderr)


def start_git(*args: str, env: Mapping[str, str]) -> GitProcess:
    """Start a long-running git program (`http-backend`) with pipes on stdin and stdout.

    The caller owns the process: it streams stdout, and must wait for it.
    stderr goes where the server's stderr goes (its log).
    """
    return subprocess.Popen(git_argv(args), env=dict(env), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
