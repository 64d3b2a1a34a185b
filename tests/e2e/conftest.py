"""Playwright on Debian's Chromium against a live gunicorn server.

Outside CI a missing Chromium skips these tests; with CI=true it fails them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import PASSWORDS, LiveServer

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(autouse=True)
def classic_editor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Servers started in browser tests offer the classic textarea editor (the fallback
    of live editing); tests/e2e/test_live_editing.py overrides this to test live editing."""
    monkeypatch.setenv("COWIKI_LIVE", "off")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium chromium-driver"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def login(page: Page, server: LiveServer, role: str) -> None:
    """Log in through the form as the user of `role`."""
    page.goto(server.url + "/login")
    page.fill("#name", role)
    page.fill("#password", PASSWORDS[role])
    page.click("form.stack button")
    page.wait_for_url(server.url + "/p/Home")


def shot(page: Page, name: str) -> None:
    """Save a screenshot for the README."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
