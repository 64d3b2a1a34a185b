"""Suggested changes in a real browser: suggest from the editor, see the word diff, accept."""

from __future__ import annotations

import subprocess

from playwright.sync_api import Browser, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import login, shot

TEXT = """# Hoofdstuk 1: de markt

Klanten oriënteren zich eerst online, ook voor een café. 🎉

De coördinatie tussen teams is het grootste knelpunt.

Eén consistente toon werkt beter dan tien losse campagnes.
"""


def test_suggest_see_the_word_diff_accept_and_git_credits_the_suggester(
        browser: Browser, live_server: LiveServer) -> None:
    url = live_server.url
    live_server.session("facilitator").put(
        f"{url}/api/v1/pages/Markt", json={"markdown": TEXT}).raise_for_status()

    suggester = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    login(suggester, live_server, "participant")
    suggester.goto(f"{url}/p/Markt/edit")
    area = suggester.locator("#markdown")
    area.fill(TEXT.replace("het grootste knelpunt", "het lastigste punt"))
    suggester.fill("#message", "Minder zwaar woord")
    suggester.click("#suggest")
    expect(suggester.locator(".flashes")).to_contain_text("waiting for the page's authors")
    expect(suggester.locator("h1")).to_contain_text("by participant")
    suggestion = suggester.url
    assert "/p/Markt/suggestions/" in suggestion
    assert "lastigste" not in live_server.session("reader").get(
        f"{url}/api/v1/pages/Markt").json()["markdown"]

    other = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    login(other, live_server, "reader")
    other.goto(f"{url}/p/Markt")
    other.click("#suggestions-tab")
    expect(other.locator("#suggestions-tab")).to_have_text("Suggestions (1)")
    other.click("text=#1 by participant")
    expect(other.locator(".suggestion-diff del")).to_contain_text(["grootste", "knelpunt"])
    expect(other.locator(".suggestion-diff ins")).to_contain_text(["lastigste", "punt"])
    expect(other.locator("#accept")).to_have_count(0)

    facilitator = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    login(facilitator, live_server, "facilitator")
    facilitator.goto(suggestion)
    expect(facilitator.locator("#comments")).to_contain_text("Minder zwaar woord")
    shot(facilitator, "suggestion")
    facilitator.fill("#accept-reason", "Goed punt")
    facilitator.click("#accept")
    expect(facilitator.locator(".flashes")).to_contain_text("Accepted")
    facilitator.goto(f"{url}/p/Markt")
    expect(facilitator.locator("article.page")).to_contain_text("het lastigste punt")

    log = subprocess.run(
        ["git", "--git-dir", str(live_server.data_dir / "repo.git"), "log", "-1",
         "--format=%an|%cn|%s", "main"], capture_output=True, text=True, check=True).stdout
    assert log.strip() == "participant|facilitator|Minder zwaar woord"
