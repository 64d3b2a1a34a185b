"""Live co-editing, the web side: tickets, "Save version", and the WebSocket door.

- `GET /api/v1/pages/<path>/live`: a ticket for the page's live room (wiki/live/tickets.py)
  with the person's name and cursor colour; readers and frozen pages get mode "read".
- `POST /api/v1/pages/<path>/live/save`: asks the live process to turn the room's
  edits into commits now.
- `GET /live/socket/<path>`: the browser's WebSocket, checked here (session, Origin)
  and relayed to the live process on DATA/run/live.sock (wiki/live/relay.py says why
  and how). y-websocket's WebsocketProvider opens `serverUrl + "/" + room + "?ticket=…"`,
  so with serverUrl `/live/socket` and the page path as room, it lands on this route.
"""

from __future__ import annotations

import logging
import ssl
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, g, jsonify, request
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from storage.names import normalize_page_name
from wiki.live import livesock
from wiki.live.colours import cursor_colour
from wiki.live.journal import current_room
from wiki.live.relay import handshake, refusal_body, relay, take_over
from wiki.live.tickets import issue_ticket, ticket_key
from wiki.phases import is_frozen
from wiki.views import me, services
from wiki.views.access import PUBLIC, allow, login_required_response
from wiki.views.errors import error_response
from wiki.views.security import rate_limited

log = logging.getLogger("cowiki.live")
bp = Blueprint("live", __name__)
Answer = BaseResponse | tuple[BaseResponse | str, int]
DEFAULT_PORTS = {"http": 80, "https": 443}


def switched_off() -> Answer | None:
    """404 with a plain reason when live editing is switched off (COWIKI_LIVE=off)."""
    if services().settings.live:
        return None
    return error_response(404, "live_off", gettext(
        "Live editing is switched off on this wiki; the editor saves as before."))


def live_down() -> Answer:
    """503 when the live process does not answer."""
    return error_response(503, "live_unavailable", gettext(
        "Live editing is not available right now. Your text is kept; try again in a moment."))


@bp.get("/api/v1/pages/<path:path>/live")
@allow("reader")
def ticket(path: str) -> Answer:
    if (off := switched_off()) is not None:
        return off
    if not current_user.is_authenticated:  # public reading: watching live needs an account
        return login_required_response()
    s = services()
    page = s.pages.get(path)  # the one name validator; 404 when there is no such page
    user = me()
    frozen = is_frozen(s.db, page.name) is not None
    mode = "write" if user.can("participant") and not frozen else "read"
    return jsonify(
        socket=request.script_root + livesock.page_url("/live/socket", page.name),
        ticket=issue_ticket(ticket_key(s.settings), page.name, user.id, mode),
        mode=mode, frozen=frozen, room=current_room(s.settings.data_dir, page.name),
        user={"name": user.name, "colour": cursor_colour(user.id)},
        revision=page.revision,
    )


@bp.post("/api/v1/pages/<path:path>/live/save")
@allow("participant")
@rate_limited("saves")
def save_version(path: str) -> Answer:
    if (off := switched_off()) is not None:
        return off
    s = services()
    page = s.pages.get(path)
    try:
        status, answer = livesock.ask(s.settings.data_dir, "POST",
                                      livesock.page_url("/rooms", page.name, "/save"),
                                      {"account": me().id}, timeout=30.0)
    except livesock.LiveUnavailable as exc:
        log.warning("save version of %s: %s", page.name, exc)
        return live_down()
    if status == 404:  # no room open: everything is in git already
        return jsonify(saved=False, revision=s.pages.head())
    if status != 200:
        log.warning("save version of %s: the live process answered %s", page.name, status)
        return live_down()
    return jsonify(saved=True, revision=answer.get("revision") or s.pages.head())


@bp.get("/live/socket/<path:page>", websocket=True)  # only upgrade requests match (else 400)
@allow(PUBLIC)  # a session is required below; public reading is not enough
def socket(page: str) -> Answer:
    if (off := switched_off()) is not None:
        return off
    if not current_user.is_authenticated or g.get("basic_auth"):
        return error_response(401, "unauthorized", gettext("Log in to edit live."))
    if not same_origin(request.headers.get("Origin", "")):
        return error_response(403, "cross_origin", gettext(
            "Live editing only opens from this wiki's own pages."))
    name = normalize_page_name(page)
    client = request.environ.get("gunicorn.socket")
    if client is None or isinstance(client, ssl.SSLSocket) or relay().full():
        return live_down()
    target = (livesock.page_url("/live/socket", name) + "?"
              + urlencode({"ticket": request.args.get("ticket", "")}))
    try:
        answer = handshake(services().settings.data_dir, target, dict(request.headers))
    except livesock.LiveUnavailable as exc:
        log.warning("live socket for %s: %s", name, exc)
        return live_down()
    if answer.status != 101:
        body = refusal_body(answer)
        return Response(body, status=answer.status,
                        content_type=answer.header("content-type") or "text/plain")
    # From here the browser's connection belongs to the relay; what this view returns
    # goes to the throw-away socket gunicorn now holds (see wiki/live/relay.py).
    relay().add(take_over(client), answer.upstream, answer.head + answer.rest)
    return Response(status=101)


def same_origin(sent: str) -> bool:
    """True when a browser's Origin header is this wiki's own origin: the configured
    base URL, or (without one) the host this request was sent to. Without a base URL
    only the host and port are compared, like `access.cross_site`: behind a proxy that
    ends HTTPS the request itself arrives as plain http."""
    origin = urlsplit(sent.strip().lower())
    if origin.scheme not in DEFAULT_PORTS or not origin.netloc:
        return False
    base = services().settings.base_url
    if base:
        own = urlsplit(base.strip().lower())
        return (origin.scheme == own.scheme
                and _without_default_port(origin.scheme, origin.netloc)
                == _without_default_port(own.scheme, own.netloc))
    return (_without_default_port(origin.scheme, origin.netloc)
            == _without_default_port(origin.scheme, request.host.lower()))


def _without_default_port(scheme: str, netloc: str) -> str:
    return netloc.removesuffix(f":{DEFAULT_PORTS[scheme]}")
