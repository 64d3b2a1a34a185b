"""`cowiki serve`: the wiki under gunicorn, embedded, with N workers and threads each.

Each worker builds its own app (no preload), so git and SQLite handles are
never shared across a fork.
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from wiki.config import Settings


class WikiServer(BaseApplication):  # type: ignore[misc]
    """gunicorn with options from the command line and the app from create_app."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from app import create_app

        return create_app({"data_dir": str(self.settings.data_dir)})


def serve(settings: Settings, host: str, port: int, workers: int, threads: int) -> None:
    """Run gunicorn in the foreground until interrupted."""
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": 120,
        "graceful_timeout": 20,
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "cowiki",
        # No shared control socket in $HOME: several wikis (and tests) run side by side.
        "control_socket_disable": True,
    }
    WikiServer(settings, options).run()
