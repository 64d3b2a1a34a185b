"""The session cookie: only for browsers, and never growing without bound.

A request that signs in with HTTP Basic (a personal token or a password: git,
scripts, the benchmarks) is signed in by that request alone. It neither reads
nor writes the cookie session, so a script that posts the editor's form and
never follows the redirect does not pile up "Saved." messages that every
later request would decode and sign again (at 80 saves, a third of a save).

A browser's pending messages are kept to the last few: a page shows them all
at once, and a cookie beyond 4 KB is dropped by the browser, login and all.
"""

from __future__ import annotations

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin

# Messages waiting for the next page a browser shows; older ones are dropped first.
KEPT_MESSAGES = 5
FLASHES = "_flashes"


class BrowserSessions(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, left out of HTTP Basic requests."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if signs_in_itself(request):
            return self.session_class()  # empty, and never saved
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if signs_in_itself(request):
            return
        waiting = session.get(FLASHES)
        if isinstance(waiting, list) and len(waiting) > KEPT_MESSAGES:
            session[FLASHES] = waiting[-KEPT_MESSAGES:]
        super().save_session(app, session, response)


def signs_in_itself(request: Request) -> bool:
    """True when the request carries HTTP Basic credentials (as access.py reads them)."""
    return request.authorization is not None and request.authorization.type == "basic"


def install(app: Flask) -> None:
    app.session_interface = BrowserSessions()
