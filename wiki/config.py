"""Settings with defaults; `create_app` and the CLI pass overrides from arguments and env."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "COWIKI_"
REMOTE_IMAGES = ("off", "allowed", "proxied")


@dataclass(frozen=True)
class Settings:
    """Everything an operator can configure (env var COWIKI_<NAME> or create_app config)."""

    data_dir: Path = Path("wiki-data")
    site_name: str = "cowiki"
    public_read: bool = False
    max_page_bytes: int = 1_000_000
    max_attachment_bytes: int = 10_000_000
    max_push_bytes: int = 200_000_000
    committer_name: str = "cowiki"
    committer_email: str = "cowiki@localhost"
    secure_cookies: bool = False
    secret_key: str = ""
    # Exports (COWIKI_EXPORT_*): how many run at once on this server, how many one person
    # may have queued or running, how many may wait; each worker's CPU seconds, memory
    # and wall time; the largest page an export takes. Sized for ~35 people on 2 cores.
    export_running: int = 1
    export_per_person: int = 2
    export_queued: int = 20
    export_cpu_seconds: int = 300
    export_memory_mb: int = 1536
    export_wall_seconds: int = 600
    export_page_bytes: int = 100_000
    # The address people reach the wiki at (https://wiki.example.org); invite and feed
    # links use it. Empty: taken from each request's Host header (fine behind a proxy
    # that sets Host, or on a LAN).
    base_url: str = ""
    # The path the wiki is served under ("/w/<slug>" when `cowiki serve --root` hosts many
    # wikis; "" for a wiki of its own): page links, the session cookie's path and URLs.
    url_prefix: str = ""
    # The fleet's placement file (which node serves which wiki; cowiki/placement.py), for
    # `move-wiki` and `placement`. Empty: ROOT/placement.json of the --root given.
    placement: str = ""
    # Reverse proxies in front of the wiki (nginx, Caddy, a load balancer), counted in hops:
    # their X-Forwarded-For and X-Forwarded-Proto are believed that many entries deep, so
    # limits and the audit log see each person's address instead of the proxy's. 0: none.
    trusted_proxies: int = 0
    # Most actions per person per minute (0: no limit); more answer 429 with Retry-After.
    rate_comments: int = 30
    rate_reactions: int = 120
    rate_saves: int = 60
    rate_exports: int = 10
    rate_image_fetches: int = 60  # remote images fetched (not already cached) for one person
    # Formatting one page or comment may take render_seconds of wall time (texts over 5,000
    # characters format in one of render_workers processes, killed past it); past it the
    # text is shown as is. Remote images (REMOTE_IMAGES): "off" shows them as links, so
    # outside sites do not see who reads; "allowed" lets browsers load them; "proxied"
    # shows them fetched by the wiki (wiki/imageproxy.py), each at most image_max_bytes,
    # kept in DATA/cache/images/ up to image_cache_bytes.
    render_seconds: float = 1.0
    render_workers: int = 2
    remote_images: str = "off"
    image_max_bytes: int = 5_000_000
    image_cache_bytes: int = 200_000_000
    # The wiki's language (nl or en): what the wiki itself writes (commit messages, the
    # welcome page, follow-up commits) and the export's default. Dutch, for a Dutch
    # workshop; a facilitator can change it on the admin page (kept in the database).
    language: str = "nl"
    # Live co-editing: a room's edits become commits after live_idle_seconds without typing,
    # and at least every live_max_seconds while people keep typing. live off (COWIKI_LIVE=off):
    # `cowiki serve` starts no live process and the editor stays the classic one.
    live: bool = True
    live_idle_seconds: float = 25.0
    live_max_seconds: float = 300.0
    # E-mail of notifications (wiki/mailer.py), off while smtp_host is empty. Each person
    # chooses none, immediate or a digest; a digest collects digest_minutes of them.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    smtp_starttls: bool = True
    digest_minutes: int = 60
    # The shared database (wiki/db.py): "" is SQLite in the data dir (cowiki.db);
    # postgresql+psycopg://USER:PASSWORD@HOST/DB uses PostgreSQL (`cowiki migrate-db`
    # copies a wiki's data over). Each process keeps database_pool_size connections, and
    # as many more at a peak; database_timeout seconds is the longest wait for a
    # connection, a lock or a server that does not answer (then: 503 "busy").
    database_url: str = ""
    database_pool_size: int = 5
    database_timeout: float = 10.0
    # How long `cowiki serve` keeps an idle HTTP connection open for the next request
    # (gunicorn's keepalive; its threaded workers wait for it without holding a thread).
    # Longer than the 60 s a proxy in front keeps its idle upstream connections (nginx),
    # so the proxy closes them first and never sends a request on one the wiki closed.
    keepalive_seconds: int = 75

    def remote_image_policy(self) -> str:
        """`remote_images` as one of REMOTE_IMAGES; ValueError for anything else."""
        policy = self.remote_images.strip().lower()
        if policy not in REMOTE_IMAGES:
            raise ValueError(f"COWIKI_REMOTE_IMAGES must be {', '.join(REMOTE_IMAGES[:-1])} or"
                             f" {REMOTE_IMAGES[-1]}, not {policy!r}")
        return policy

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None,
             environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults, then COWIKI_* environment variables, then explicit overrides."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _convert(f.name, raw)
        for key, value in (overrides or {}).items():
            name = key.lower()
            if name in {f.name for f in fields(cls)}:
                values[name] = _convert(name, value) if isinstance(value, str) else value
        settings = replace(cls(), **values)
        # Absolute once, here: export workers and git hooks run in other folders.
        return replace(settings, data_dir=Path(settings.data_dir).absolute())


def _convert(name: str, raw: str) -> Any:
    default = getattr(Settings(), name)
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, Path):
        return Path(raw)
    return raw
