"""Follow-ups of a change that run once the answer has gone out.

The change door hands some listeners to `later`: the rings of the search-index and
live processes, the page-metadata cache and the spare object files. In a web
request they wait until the response is sent: Werkzeug's `call_on_close`, which
the server calls after writing the body, so a save's answer does not wait for
them. A request that failed before it had a response runs them as it ends.
Outside a request (the CLI, git hooks, the live server) they run at once. A
worker killed in between loses nothing: the cache catches up with git on its
next read, and both processes look at the head by themselves.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, g, has_request_context
from werkzeug.wrappers import Response

from wiki.datadir import Services

PENDING = "cowiki_after_answer"
Work = Callable[[], None]


def later(work: Work) -> None:
    """Keep `work` for after this request's answer (run it now outside a request)."""
    if not has_request_context():
        work()
        return
    g.setdefault(PENDING, []).append(work)


def install(app: Flask, services: Services) -> None:
    """Send the change door's follow-ups after the answer of the request that made them."""
    services.changes.later = later

    def run(pending: list[Work]) -> None:
        try:
            for work in pending:
                work()  # the door logs and retries a listener that fails
        finally:
            services.db.release()  # the connection a follow-up borrowed

    @app.after_request
    def after_the_answer(response: Response) -> Response:
        pending: list[Work] | None = g.pop(PENDING, None)
        if pending:
            response.call_on_close(lambda: run(pending))
        return response

    @app.teardown_request
    def without_an_answer(_error: BaseException | None) -> None:
        pending: list[Work] | None = g.pop(PENDING, None)
        if pending:
            run(pending)
