"""One place that maps domain errors and HTTP errors to friendly pages or JSON."""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import gettext
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from storage.errors import RefContention, RepositoryWriteFailed
from wiki.errors import (
    EditConflict,
    Frozen,
    InvalidInput,
    InvalidPageName,
    InvalidRevision,
    PageExists,
    PageNotFound,
    PageTooLarge,
    PermissionDenied,
    TooManyRequests,
)
from wiki.views.access import is_api
from wiki.views.degraded import database_fault
from wiki.views.i18n import error_text

log = logging.getLogger("cowiki.web")

STATUS: dict[type[Exception], tuple[int, str]] = {
    PageNotFound: (404, "not_found"),
    PageExists: (409, "exists"),
    EditConflict: (409, "conflict"),
    PermissionDenied: (403, "forbidden"),
    InvalidPageName: (400, "invalid_name"),
    InvalidRevision: (400, "invalid_revision"),
    InvalidInput: (400, "invalid_input"),
    PageTooLarge: (413, "too_large"),
    Frozen: (423, "frozen"),
    TooManyRequests: (429, "too_many_requests"),
    RefContention: (503, "busy"),
    RepositoryWriteFailed: (507, "storage_full"),
}


def error_response(status: int, code: str, message: str) -> tuple[Response | str, int]:
    """JSON for API clients, a friendly page for browsers."""
    if is_api() or request.accept_mimetypes.best == "application/json":
        return jsonify(error=code, message=message), status
    return render_template("errors/error.html", status=status, message=message), status


def install(app: Flask) -> None:
    """Register the handlers; nothing unexpected reaches a user as a traceback."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response | str, int] | Response:
        if exc.code == 401 and isinstance(exc.response, Response):
            return exc.response
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        message = exc.description or exc.name or "error"
        if message == type(exc).description:  # werkzeug's own English text
            message = http_message(status) or message
        return error_response(status, code, message)

    for kind, (status, code) in STATUS.items():
        def handler(exc: Exception, status: int = status, code: str = code
                    ) -> tuple[Response | str, int]:
            if isinstance(exc, RepositoryWriteFailed):
                log.warning("repository write failed: %s", exc.params.get("detail", exc))
            answer = error_response(status, code, error_text(exc) or code)
            wait = getattr(exc, "retry_after", None)
            return with_retry_after(answer, wait) if isinstance(wait, int) else answer

        app.register_error_handler(kind, handler)

    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeout)
    def database_error(exc: DBAPIError | PoolTimeout) -> tuple[Response | str, int]:
        # The database already waited (busy_timeout, lock_timeout, the pool's wait);
        # a clear answer in plain words beats a traceback. The engine's text goes to the log.
        # Who is logged in is kept in the database: the error page is drawn for an
        # anonymous visitor, so drawing it does not ask the database again (also for a
        # bug in the query that loads the person, which would fail again).
        g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
        kind = database_fault(exc)
        if kind is None:
            return unexpected(exc)
        where = f"{request.method} {request.path}"
        if kind == "full":
            log.error("database disk full on %s: %s", where, exc)
            return error_response(507, "storage_full", gettext(
                "The server's disk is full; nothing was saved. Please tell the facilitator."))
        if kind == "read-only":
            log.error("database read-only on %s: %s", where, exc)
            return error_response(507, "read_only", gettext(
                "The wiki's database accepts no changes right now; nothing was saved."
                " Please tell the facilitator."))
        log.warning("database %s on %s: %s", kind, where, exc)
        if kind == "unreachable":
            return with_retry_after(error_response(503, "database_unreachable", gettext(
                "The database cannot be reached right now; nothing was changed."
                " Please try again in a moment.")))
        return with_retry_after(error_response(503, "busy", gettext(
            "The wiki is very busy right now; nothing was changed."
            " Please try again in a moment.")))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response | str, int]:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "internal", gettext(
            "Something went wrong on our side. Nothing you saved was lost; please try again."))


def http_message(status: int) -> str | None:
    """Our words for werkzeug's standard errors, in the interface language."""
    messages = {
        400: gettext("The request was not understood."),
        403: gettext("Your role does not allow this. Ask a facilitator if you need it."),
        404: gettext("There is nothing at this address. Check the spelling, or start from"
                     " the front page."),
        405: gettext("This address does not accept that kind of request."),
        413: gettext("That is too large to accept."),
        429: gettext("Too many requests. Wait a moment and try again."),
    }
    found = messages.get(status)
    return str(found) if found is not None else None


def with_retry_after(answer: tuple[Response | str, int], seconds: int = 5
                     ) -> tuple[Response | str, int]:
    """The same answer with a Retry-After header, so clients back off and retry."""
    body, status = answer
    response = body if isinstance(body, Response) else Response(body, mimetype="text/html")
    response.headers["Retry-After"] = str(seconds)
    return response, status
