"""create_app: the only place that wires storage, domain and web together."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask

from wiki.config import Settings
from wiki.datadir import open_data_dir, secret_key
from wiki.views import access, errors
from wiki.views.api import bp as api_bp
from wiki.views.api import health as health_bp
from wiki.views.attachments import bp as attachments_bp
from wiki.views.auth import bp as auth_bp
from wiki.views.history import bp as history_bp
from wiki.views.pages import bp as pages_bp
from wiki.views.templating import install as install_templating


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the wiki app for one data directory (settings: see wiki/config.py)."""
    settings = Settings.load(config)
    services = open_data_dir(settings)
    app = Flask(__name__, template_folder="templates", static_folder="static")
    app.config.update(
        SECRET_KEY=secret_key(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(days=14),
        MAX_CONTENT_LENGTH=max(2 * settings.max_page_bytes, settings.max_attachment_bytes)
        + 65536,
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["cowiki"] = services
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    access.install(app)
    errors.install(app)
    install_templating(app)
    for blueprint in (pages_bp, history_bp, attachments_bp, auth_bp, api_bp, health_bp):
        app.register_blueprint(blueprint)
    return app
