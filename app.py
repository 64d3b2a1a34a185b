"""create_app: the only place that wires storage, domain and web together."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from wiki.config import Settings
from wiki.datadir import open_data_dir, secret_key
from wiki.dbschema import MAX_ID
from wiki.views import access, degraded, errors, followups, i18n, security, sessions, workshop
from wiki.views.admin import bp as admin_bp
from wiki.views.api import bp as api_bp
from wiki.views.api import health as health_bp
from wiki.views.attachments import bp as attachments_bp
from wiki.views.auth import bp as auth_bp
from wiki.views.discussion import bp as discussion_bp
from wiki.views.discussion_api import bp as discussion_api_bp
from wiki.views.export import api as export_api_bp
from wiki.views.export import bp as export_bp
from wiki.views.git_http import bp as git_http_bp
from wiki.views.history import bp as history_bp
from wiki.views.images import bp as images_bp
from wiki.views.imports import bp as imports_bp
from wiki.views.join import bp as join_bp
from wiki.views.live import bp as live_bp
from wiki.views.notifications import api as notifications_api_bp
from wiki.views.notifications import bp as notifications_bp
from wiki.views.pages import bp as pages_bp
from wiki.views.people import bp as people_bp
from wiki.views.room import bp as room_bp
from wiki.views.search import bp as search_bp
from wiki.views.suggestions import api as suggestions_api_bp
from wiki.views.suggestions import bp as suggestions_bp
from wiki.views.templates_admin import api as templates_api_bp
from wiki.views.templates_admin import bp as templates_admin_bp
from wiki.views.templating import install as install_templating
from wiki.views.workshop_api import bp as workshop_api_bp


class RowId(IntegerConverter):
    """`<int:...>` ids are database ids: a larger number than any id can be matches no
    route (404) instead of overflowing the column (PostgreSQL's are 32 bits: a 500)."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the wiki app for one data directory (settings: see wiki/config.py)."""
    settings = Settings.load(config)
    services = open_data_dir(settings)
    app = Flask(__name__, template_folder="templates", static_folder="static")
    if settings.trusted_proxies > 0:  # the client's address and scheme, as the proxies saw them
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.url_map.converters["int"] = RowId  # before any route is added
    app.config.update(
        SECRET_KEY=secret_key(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Under `cowiki serve --root` each wiki's session stays on its own /w/<slug>.
        SESSION_COOKIE_PATH=settings.url_prefix or "/",
        APPLICATION_ROOT=settings.url_prefix or "/",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(days=14),
        # The cookie is written only when the session changes (a flash, the language, once a
        # day for its expiry: wiki/views/access.py). Written on every answer, a late answer to
        # a preview or heartbeat sent before a save put back the cookie without the save's
        # "Saved." (four people saving one page together lost it).
        SESSION_REFRESH_EACH_REQUEST=False,
        MAX_CONTENT_LENGTH=max(2 * settings.max_page_bytes, settings.max_attachment_bytes)
        + 65536,
        # A form field may be as large as a page may grow in the editor (twice the limit,
        # so an over-long text reaches the domain's size check and its clear answer).
        MAX_FORM_MEMORY_SIZE=2 * settings.max_page_bytes + 65536,
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["cowiki"] = services
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sessions.install(app)  # cookies for browsers only, with a few messages at most
    access.install(app)
    degraded.install(app)  # reading on while the database cannot answer
    errors.install(app)
    # Each request gives its thread's database connection back to the pool, so the pool
    # counts requests in flight, not threads (and a dropped connection is not kept).
    app.teardown_request(lambda _error: services.db.release())
    followups.install(app, services)  # cache listeners of the change door run after the answer
    security.install(app)  # CSP and framing headers, bounded JSON
    i18n.install(app)  # Dutch and English; catalogs in translations/ like templates/
    install_templating(app)
    for blueprint in (pages_bp, history_bp, attachments_bp, images_bp, auth_bp, api_bp,
                      health_bp, i18n.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(git_http_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(export_bp)
    app.register_blueprint(export_api_bp)
    # The workshop around the text (issue 7): comments, reactions, invites, people, phases.
    for blueprint in (discussion_bp, discussion_api_bp, workshop_api_bp, admin_bp, join_bp,
                      people_bp, room_bp):
        app.register_blueprint(blueprint)
    workshop.install(app)
    app.register_blueprint(live_bp)  # live co-editing (issue 18): tickets and the socket relay
    # Mentions and notifications (issue 19): the bell, follows, e-mail sent in the background.
    app.register_blueprint(notifications_bp)
    app.register_blueprint(notifications_api_bp)
    if services.mailer is not None:
        services.mailer.start()
    # Chapter templates and Word import (issue 19): how a new page can start.
    for blueprint in (templates_admin_bp, templates_api_bp, imports_bp):
        app.register_blueprint(blueprint)
    # Suggested changes (issue 19): proposed texts on refs/suggestions/<id>, decided in the wiki.
    app.register_blueprint(suggestions_bp)
    app.register_blueprint(suggestions_api_bp)
    # Catch up with (or rebuild) the index in the background; after that the
    # change door's "search index" listener wakes it (wiki/wiring.py).
    services.indexer.notify()
    return app
