"""In a real browser: the page tells the server the reader's time zone, and times name it."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import login


def test_times_show_in_the_browsers_own_time_zone_after_the_first_page(
        browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(timezone_id="Asia/Tokyo", locale="en-GB")
    page = context.new_page()
    login(page, live_server, "participant")  # the first page sets the tz cookie
    assert any(c["name"] == "tz" and c["value"] == "Asia%2FTokyo" for c in context.cookies())
    page.goto(live_server.url + "/changes")
    expect(page.locator(".timeline time").first).to_have_attribute(
        "title", re.compile(r"\d{1,2}:\d\d\W*(AM|PM)?\W*(JST|GMT\+9)$"))
    context.close()
