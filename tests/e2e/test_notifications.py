"""Mentions and the bell in a real browser: completion in the comment box, the count, the list."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, BrowserContext, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import login, shot


def new_context(browser: Browser) -> BrowserContext:
    return browser.new_context(locale="en-US", viewport={"width": 1280, "height": 860})


def test_a_mention_lights_up_the_bell_and_the_list_leads_to_the_comment(
        browser: Browser, live_server: LiveServer) -> None:
    writer, mentioned = new_context(browser).new_page(), new_context(browser).new_page()
    login(writer, live_server, "participant")
    login(mentioned, live_server, "reader")
    expect(mentioned.locator("#bell .badge")).to_have_count(0)

    box = writer.locator("#new-comment")
    box.click()
    box.press_sequentially("Wat vind jij van de inleiding, @rea")
    option = writer.locator("#mention-suggestions [role=option]")
    expect(option).to_have_text(["reader"])
    shot(writer, "mention-completion")
    box.press("Enter")
    expect(box).to_have_value("Wat vind jij van de inleiding, @reader ")
    box.press_sequentially("? Zoë 😀")
    writer.locator("form.new-comment button").click()
    mention = writer.locator(".comment a", has_text="@reader")
    expect(mention).to_have_attribute("href", "/people/reader")

    mentioned.reload()
    expect(mentioned.locator("#bell .badge")).to_have_text("1")
    mentioned.locator("#bell").click()
    mentioned.wait_for_url(live_server.url + "/notifications")
    item = mentioned.locator(".notification.is-unread")
    expect(item).to_have_count(1)
    expect(item.locator(".what")).to_have_text("participant mentioned you on Home")
    expect(item.locator("blockquote")).to_contain_text("@reader ? Zoë 😀")
    shot(mentioned, "notifications")

    item.locator(".what").click()
    mentioned.wait_for_url(re.compile(r"/p/Home#comment-\d+$"))
    comment_id = mentioned.url.rpartition("#")[2]
    expect(mentioned.locator(f"#{comment_id}")).to_contain_text("Wat vind jij van de inleiding")

    mentioned.goto(live_server.url + "/notifications")
    mentioned.locator("button", has_text="Mark all as read").click()
    expect(mentioned.locator("#bell .badge")).to_have_count(0)
    expect(mentioned.locator(".notification.is-unread")).to_have_count(0)
