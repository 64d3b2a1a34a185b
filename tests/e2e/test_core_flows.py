"""A participant's core flows in a real browser, with screenshots for the README."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import login, shot

WHITEPAPER = """# Klantreis in 2027

De **klantreis** verandert: klanten verwachten dat merken hen herkennen in elk kanaal.
Deze whitepaper bundelt wat 35 marketeers tijdens de workshop inbrachten.

## Wat we zagen

1. Klanten oriënteren zich eerst online, ook voor een café of een adviesgesprek.
2. De coördinatie tussen teams is het grootste knelpunt.
3. Eén consistente toon werkt beter dan tien losse campagnes.[^1]

| Kanaal | Aandeel | Trend |
|:--|--:|:--|
| Zoeken | 41% | stijgend |
| Social | 27% | stabiel |
| E-mail | 18% | dalend |

## Volgende stappen

- [x] Workshop gehouden
- [ ] Hoofdstukken verdelen, zie [[Hoofdstuk 1/Markt]]

[^1]: Uit de enquête onder deelnemers, november 2026.
"""


def test_participant_edits_with_preview_saves_and_sees_history(browser: Browser,
                                                               live_server: LiveServer) -> None:
    api = live_server.session("facilitator")
    base = api.get(live_server.url + "/api/v1/pages/Home").json()["revision"]
    api.put(live_server.url + "/api/v1/pages/Home",
            json={"markdown": WHITEPAPER, "base_revision": base}).raise_for_status()
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    login(page, live_server, "participant")
    expect(page.locator("article.page h1")).to_have_text("Klantreis in 2027")
    shot(page, "view")

    page.click("text=Edit")
    area = page.locator("#markdown")
    area.press("End")
    area.press("Control+End")
    area.type("\nToegevoegd in de browser: **nieuwe alinea**.\n")
    expect(page.locator("#preview strong", has_text="nieuwe alinea")).to_be_visible()
    shot(page, "edit")
    page.fill("#message", "Alinea toegevoegd")
    page.click(".save-row button")
    expect(page.locator(".flashes")).to_contain_text("Saved.")
    expect(page.locator("article.page")).to_contain_text("Toegevoegd in de browser")

    page.click("text=History")
    expect(page.locator(".timeline li").first).to_contain_text("participant")
    expect(page.locator(".timeline li").first).to_contain_text("Alinea toegevoegd")
    shot(page, "history")
    page.click("text=Compare selected versions")
    expect(page.locator("table.diff ins", has_text="nieuwe alinea")).to_be_visible()
    shot(page, "diff")
    page.close()


def test_conflicting_browser_edits_show_the_conflict_page(browser: Browser,
                                                          live_server: LiveServer) -> None:
    first = browser.new_context(viewport={"width": 1280, "height": 860})
    second = browser.new_context(viewport={"width": 1280, "height": 860})
    a, b = first.new_page(), second.new_page()
    login(a, live_server, "participant")
    login(b, live_server, "facilitator")
    for page in (a, b):
        page.goto(live_server.url + "/p/Home/edit")
    a.fill("#markdown", "# Home\n\nDe versie van de deelnemer.\n")
    a.click(".save-row button")
    expect(a.locator(".flashes")).to_contain_text("Saved.")
    b.fill("#markdown", "# Home\n\nDe versie van de facilitator.\n")
    b.click(".save-row button")
    expect(b.locator("main > h1")).to_contain_text("overlaps")
    expect(b.locator("pre.theirs").first).to_contain_text("deelnemer")
    expect(b.locator("#markdown")).to_have_value("# Home\n\nDe versie van de facilitator.\n")
    shot(b, "conflict")
    first.close()
    second.close()


def test_pages_read_well_on_a_phone(browser: Browser, live_server: LiveServer) -> None:
    page = browser.new_page(viewport={"width": 375, "height": 740}, device_scale_factor=2)
    login(page, live_server, "reader")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "the page scrolls sideways on a phone"
    shot(page, "phone-view")
    page.close()
