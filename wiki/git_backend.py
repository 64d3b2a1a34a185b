"""Run `git http-backend` as a CGI program and stream its answer.

The web view has checked who may do what; this module only translates. The
request body is copied into the program's stdin from a thread (git may
answer before it has read everything), `Content-Encoding: gzip` is passed on
as HTTP_CONTENT_ENCODING so git inflates the body itself, and the CGI
headers on stdout are parsed before the rest is streamed back untouched.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from storage.gitcmd import GitProcess, start_git
from wiki.config import Settings
from wiki.push import PUSH_MERGE_REF

CHUNK = 65536
SERVICES = ("git-upload-pack", "git-receive-pack")
# CGI variables copied from the web request when present.
PASSED = ("REQUEST_METHOD", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH",
          "HTTP_CONTENT_ENCODING", "HTTP_GIT_PROTOCOL", "REMOTE_ADDR")


@dataclass(frozen=True)
class BackendRequest:
    """What http-backend needs to know: the path below the repository and the CGI variables."""

    path: str
    cgi: Mapping[str, str]
    user: str | None = None
    user_id: int | None = None


@dataclass
class BackendResponse:
    """http-backend's status, headers and a body iterator that cleans up when exhausted."""

    status: int
    headers: list[tuple[str, str]]
    body: Iterator[bytes]
    process: GitProcess = field(repr=False)

    def close(self) -> None:
        """Stop the program if the client went away before the body was sent."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def backend_env(settings: Settings, repo: Path, request: BackendRequest) -> dict[str, str]:
    """The environment for http-backend and, through it, for the push hooks."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "GIT_PROJECT_ROOT": str(repo.parent),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": f"/{repo.name}{request.path}",
        # Refuse an oversized pack while it streams in, before it fills the disk.
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": "receive.maxInputSize",
        "GIT_CONFIG_VALUE_0": str(settings.max_push_bytes),
        # A push to refs/for/main is landed by our proc-receive hook, which merges it
        # with main when main moved on (wiki/pushmerge.py); the hooks are told so.
        "GIT_CONFIG_KEY_1": "receive.procReceiveRefs",
        "GIT_CONFIG_VALUE_1": PUSH_MERGE_REF,
        "COWIKI_MERGE_PUSHES": "1",
        "COWIKI_MAX_PAGE_BYTES": str(settings.max_page_bytes),
        "COWIKI_MAX_ATTACHMENT_BYTES": str(settings.max_attachment_bytes),
        "COWIKI_MAX_PUSH_BYTES": str(settings.max_push_bytes),
        # The hooks record pushes in the wiki's own database, wherever it is.
        "COWIKI_DATABASE_URL": settings.database_url,
        "COWIKI_DATABASE_TIMEOUT": str(settings.database_timeout),
    }
    env.update({key: value for key, value in request.cgi.items() if key in PASSED and value})
    if request.user is not None:
        env["REMOTE_USER"] = request.user
    if request.user_id is not None:
        env["COWIKI_PUSHER_ID"] = str(request.user_id)
    return env


def run_backend(env: Mapping[str, str], body: IO[bytes]) -> BackendResponse:
    """Start http-backend, feed it `body` and return once its CGI headers have arrived."""
    process = start_git("http-backend", env=env)
    assert process.stdin is not None and process.stdout is not None
    feeder = threading.Thread(target=_feed, args=(process.stdin, body), daemon=True,
                              name="git-http-body")
    feeder.start()
    status, headers = parse_cgi_headers(process.stdout)
    return BackendResponse(status, headers, _stream(process, feeder), process)


def parse_cgi_headers(stdout: IO[bytes]) -> tuple[int, list[tuple[str, str]]]:
    """Read CGI header lines up to the blank line; the Status header becomes the status."""
    status, headers = 200, []
    while True:
        line = stdout.readline()
        if not line.strip():
            break
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip(), value.strip()
        if name.lower() == "status":
            status = int(value.split()[0]) if value[:3].isdigit() else 500
        else:
            headers.append((name, value))
    return status, headers


def _feed(stdin: IO[bytes], body: IO[bytes]) -> None:
    try:
        while chunk := body.read(CHUNK):
            stdin.write(chunk)
    except OSError:
        pass  # git stopped reading (it refused the request); its answer says why
    finally:
        with contextlib.suppress(OSError):
            stdin.close()


def _stream(process: GitProcess, feeder: threading.Thread) -> Iterator[bytes]:
    out = process.stdout
    assert isinstance(out, io.BufferedReader)
    try:
        while chunk := out.read1(CHUNK):
            yield chunk
    finally:
        feeder.join(timeout=5)
        if process.poll() is None:
            process.wait(timeout=60)
