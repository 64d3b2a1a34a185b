"""git's smart HTTP protocol at /wiki.git: clone and fetch for readers, push for editors.

The role check runs before these views like everywhere else (HTTP Basic with
password or token, so no CSRF token). Pushing is asked for twice: first in
`info/refs?service=git-receive-pack`, which is a GET, and then by the POST
that carries the pack, so neither step reaches `git http-backend` without a
participant or facilitator login. The pushed content is checked by the
pre-receive hook (wiki/push.py); a push to refs/for/main is then landed, merged
with main if main moved on, by the proc-receive hook (wiki/pushmerge.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, abort, request
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response
from werkzeug.wsgi import get_input_stream

from wiki.accounts import User
from wiki.datadir import Services
from wiki.git_backend import BackendRequest, backend_env, run_backend
from wiki.pushlog import announce_pushes
from wiki.views import services
from wiki.views.access import allow, login_required_response, read_only

bp = Blueprint("git_http", __name__, url_prefix="/wiki.git")
UPLOAD, RECEIVE = "git-upload-pack", "git-receive-pack"


@bp.get("/info/refs")
@allow("reader")
def info_refs() -> Response:
    service = request.args.get("service", "")
    if service not in (UPLOAD, RECEIVE):
        return text_error(403, "This wiki speaks git's smart HTTP protocol only; use git 2.x.")
    if service == RECEIVE and (refused := push_refusal()) is not None:
        return refused
    return backend("/info/refs")


@bp.post(f"/{UPLOAD}")
@allow("reader")
@read_only
def upload_pack() -> Response:
    return backend(f"/{UPLOAD}")


@bp.post(f"/{RECEIVE}")
@allow("participant")
def receive_pack() -> Response:
    if (refused := push_refusal()) is not None:
        return refused
    return backend(f"/{RECEIVE}")


def push_refusal() -> Response | None:
    """401 for anonymous (so git asks for a login), 403 for readers, None for editors."""
    if not current_user.is_authenticated:
        return login_required_response()
    if not current_user.user.can("participant"):
        return text_error(403, f"{current_user.user.name} is a reader: readers may clone"
                          " and pull but not push. Ask a facilitator for the participant role.")
    return None


def text_error(status: int, message: str) -> Response:
    """A plain-text error; git shows it to the user as "remote: <message>"."""
    return Response(message + "\n", status=status, mimetype="text/plain")


def backend(path: str) -> Response:
    """Hand the request to `git http-backend` and stream its answer back."""
    user = current_user.user if current_user.is_authenticated else None
    wanted = BackendRequest(
        path=path,
        cgi={key: str(value) for key, value in request.environ.items() if isinstance(value, str)},
        user=user.name if user else None,
        user_id=user.id if user else None,
    )
    svc = services()
    env = backend_env(svc.settings, svc.repo.path, wanted)
    pushes_before = svc.pushlog.last_id() if path == f"/{RECEIVE}" else None
    try:
        answer = run_backend(env, get_input_stream(request.environ, max_content_length=None))
    except OSError:
        abort(503, description=gettext("git is not available on the server"))
    body = answer.body
    if pushes_before is not None and user is not None:
        body = announcing(body, svc, pushes_before, user)
    response = Response(body, status=answer.status, headers=answer.headers,
                        direct_passthrough=True)
    response.call_on_close(answer.close)
    return response


def announcing(body: Iterator[bytes], svc: Services, pushes_before: int,
               user: User) -> Iterator[bytes]:
    """The answer to a push, then (git is done and its hook logged the push) one `pushed`
    change per accepted push through the change door."""
    try:
        yield from body
    finally:
        announce_pushes(svc.changes, svc.pushlog, pushes_before, user)
