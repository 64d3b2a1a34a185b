"""The WSGI dispatcher of `cowiki --root DIR serve`: many wikis behind one port.

`/w/<slug>/<rest>` goes to the Flask app of the data dir ROOT/<slug>, with
SCRIPT_NAME `/w/<slug>` and PATH_INFO `/<rest>`, so url_for, redirects, the
session cookie's path, the git URL `/w/<slug>/wiki.git`, the API and static
files all stay under the prefix. Each worker process builds a wiki's app the
first time someone asks for it and keeps it.

Isolation: one lock per wiki, held only while that wiki's app is built; a
wiki that fails to open answers 503 (and is tried again after RETRY_SECONDS)
while the others go on. An unknown slug is a plain 404 that lists nothing.
`/healthz` says the root is up; `/w/<slug>/healthz` is that wiki's own.

Moving a wiki to another node (`cowiki --root DIR move-wiki`, cowiki/move.py):
while ROOT/<slug>/moving.json exists the wiki answers 503 "moving", so no
edit lands mid-move; afterwards its folder is gone (renamed aside) and the
slug is a 404 again. A worker notices both per request (a stat or two), and
forgets an app whose folder went away or was replaced, so it never serves
a moved wiki's old folder.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request

from cowiki import root as wikiroot
from storage.errors import InvalidPageName
from storage.names import validate_slug
from wiki.config import Settings
from wiki.wikilang import LANGUAGES, N_, translate

log = logging.getLogger("cowiki.multi")
RETRY_SECONDS = 10.0
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
NOT_FOUND = N_("There is no wiki at this address.")
UNAVAILABLE = N_("This wiki cannot be opened right now. The other wikis on this server are"
                 " not affected; try again later.")
MOVING = wikiroot.MOVING
MOVING_TEXT = N_("This workshop is moving to another server; try again in a minute.")


class WikiUnavailable(Exception):
    """A wiki's data dir exists but does not open (damaged, unreadable, half made)."""


class WikiDispatcher:
    """Routes /w/<slug>/... to that wiki's app, built lazily in this process."""

    def __init__(self, root: Path, settings: Settings,
                 build: Callable[[dict[str, str]], WsgiApp] | None = None) -> None:
        self.root = Path(root).absolute()
        self.settings = settings
        self._build = build or _create_app
        self._apps: dict[str, WsgiApp] = {}
        self._failed: dict[str, float] = {}  # slug -> when it last failed to open
        self._locks: dict[str, threading.Lock] = {}
        self._folders: dict[str, tuple[int, int]] = {}  # slug -> its folder when its app was built

    def __call__(self, environ: dict[str, Any], start_response: StartResponse
                 ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if path == "/healthz":
            return _answer(start_response, 200, json.dumps({"status": "ok"}),
                           "application/json")
        slug, slash, rest = path.removeprefix(wikiroot.PREFIX).partition("/")
        folder = _identity(self.root, slug) if path.startswith(wikiroot.PREFIX) else None
        if folder != self._folders.get(slug, folder):  # moved away, or another wiki there now
            self._forget(slug)
        if folder is None:
            return self._refuse(environ, start_response, 404, NOT_FOUND)
        if not slash:  # /w/<slug> → /w/<slug>/
            query = environ.get("QUERY_STRING")
            where = environ.get("SCRIPT_NAME", "") + path + "/" + (f"?{query}" if query else "")
            start_response("308 Permanent Redirect", [("Location", where),
                                                      ("Content-Length", "0")])
            return [b""]
        if os.path.lexists(wikiroot.wiki_dir(self.root, slug) / MOVING):
            return self._refuse(environ, start_response, 503, MOVING_TEXT)
        try:
            app = self.app(slug, folder)
        except WikiUnavailable:
            return self._refuse(environ, start_response, 503, UNAVAILABLE)
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + wikiroot.url_prefix(slug)
        environ["PATH_INFO"] = "/" + rest
        return app(environ, start_response)

    def app(self, slug: str, folder: tuple[int, int] | None = None) -> WsgiApp:
        """Wiki `slug`'s app, built on first use (WikiUnavailable when it does not open).

        `folder` is the identity of the wiki's folder the app is for (see _identity).
        """
        app = self._apps.get(slug)
        if app is not None:
            return app
        lock = self._locks.setdefault(validate_slug(slug), threading.Lock())
        with lock:  # only this wiki's callers wait while it opens
            app = self._apps.get(slug)
            if app is not None:
                return app
            if time.monotonic() - self._failed.get(slug, -RETRY_SECONDS) < RETRY_SECONDS:
                raise WikiUnavailable(slug)
            try:
                app = self._open(slug)
            except Exception as exc:  # whatever broke, it stays this wiki's problem
                self._failed[slug] = time.monotonic()
                log.error("wiki %s does not open: %s: %s", slug, type(exc).__name__, exc)
                raise WikiUnavailable(slug) from exc
            self._failed.pop(slug, None)
            self._apps[slug] = app
            if folder is not None:
                self._folders[slug] = folder
            return app

    def _forget(self, slug: str) -> None:
        """Drop the app of a wiki whose folder went away, and close its database pool."""
        app = self._apps.pop(slug, None)
        self._folders.pop(slug, None)
        services = getattr(app, "extensions", {}).get("cowiki") if app else None
        if services is not None:
            try:
                services.db.dispose()
            except Exception as exc:  # noqa: BLE001 (the wiki is gone from here either way)
                log.warning("closing the database pool of moved wiki %s failed: %s", slug, exc)

    def opened(self) -> list[WsgiApp]:
        """The wikis' apps this process has built so far (closed when the worker exits)."""
        return list(self._apps.values())

    def _open(self, slug: str) -> WsgiApp:
        data_dir = wikiroot.wiki_dir(self.root, slug)
        if not (data_dir / wikiroot.REPOSITORY).is_dir():
            # Never create a missing repository here: that would hide the damage.
            raise WikiUnavailable(f"{data_dir} has no {wikiroot.REPOSITORY}")
        return self._build(wikiroot.wiki_overrides(self.root, slug, self.settings))

    def _refuse(self, environ: dict[str, Any], start_response: StartResponse, status: int,
                text: str) -> Iterable[bytes]:
        language = Request(environ).accept_languages.best_match(
            LANGUAGES, default=self.settings.language) or "en"
        return _answer(start_response, status, translate(language, text) + "\n",
                       "text/plain; charset=utf-8")


def _identity(root: Path, slug: str) -> tuple[int, int] | None:
    """(device, inode) of wiki `slug`'s folder, or None when there is no such wiki."""
    try:
        found = os.stat(wikiroot.wiki_dir(root, slug))
    except (InvalidPageName, OSError):
        return None
    return (found.st_dev, found.st_ino) if stat.S_ISDIR(found.st_mode) else None


def _answer(start_response: StartResponse, status: int, body: str,
            content_type: str) -> Iterable[bytes]:
    data = body.encode()
    reasons = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}
    headers = [("Content-Type", content_type), ("Content-Length", str(len(data))),
               ("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-store")]
    if status == 503:
        headers.append(("Retry-After", str(int(RETRY_SECONDS))))
    start_response(f"{status} {reasons[status]}", headers)
    return [data]


def _create_app(config: dict[str, str]) -> WsgiApp:
    from app import create_app

    app: WsgiApp = create_app(config)
    return app

