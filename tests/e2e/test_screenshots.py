"""The README's screenshots: the main screens on a desktop and a phone, in Dutch and English.

Each screen is also checked for what a reader would notice first: it loads, it is in
the language asked for, and nothing is wider than the screen.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import login, shot
from tests.e2e.test_core_flows import WHITEPAPER

DEVICES: dict[str, tuple[ViewportSize, int]] = {"desktop": ({"width": 1280, "height": 860}, 1),
           "phone": ({"width": 390, "height": 844}, 2)}
MARKET = ("# Marktverkenning\n\nOnze klanten verwachten dat we hen herkennen in elk kanaal.\n\n"
          "## Doelgroepen\n\nKlanten in de regio vragen om duurzame energie en persoonlijk "
          "advies.\n")


@pytest.fixture(autouse=True)
def classic_editor(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server (started after this) offers the classic editor: saves merge three-way."""
    monkeypatch.setenv("COWIKI_LIVE", "off")


def seed(server: LiveServer) -> str:
    """A whitepaper of three chapters, a second version of Home, a comment, someone
    editing with unsaved changes, and an invite; the invite's code."""
    host, writer = server.session("facilitator"), server.session("participant")
    api = server.url + "/api/v1"
    base = host.get(api + "/pages/Home").json()["revision"]
    first = host.put(api + "/pages/Home", json={"markdown": WHITEPAPER, "base_revision": base})
    second = writer.put(api + "/pages/Home", json={
        "markdown": WHITEPAPER.replace("## Volgende stappen",
                                       "Klanten kiezen vaker voor merken die **eerlijk** zijn "
                                       "over hun aanpak.\n\n## Volgende stappen"),
        "base_revision": first.json()["revision"], "message": "Alinea over eerlijkheid"})
    assert second.ok, second.text
    plan = "# Aanpak\n\nWe werken met de klant in drie fasen.\n"
    for name, text in (("Hoofdstuk 1/Markt", MARKET), ("Hoofdstuk 2/Aanpak", plan),
                       ("Kladblok", "# Kladblok\n\nLosse ideeën van de ochtend.\n")):
        assert host.put(f"{api}/pages/{name}", json={"markdown": text}).ok
    assert host.put(api + "/outline", json={"title": "Klantreis in 2027", "pages": [
        "Home", "Hoofdstuk 1/Markt", "Hoofdstuk 2/Aanpak"]}).ok
    assert writer.post(api + "/pages/Home/comments",
                       json={"body": "Moeten we de enquête niet eerder noemen?"}).ok
    assert writer.post(api + "/pages/Hoofdstuk 1/Markt/presence", json={"dirty": True}).ok
    invite = host.post(api + "/invites", json={"role": "participant", "expires_days": 1,
                                               "max_uses": 40})
    return str(invite.json()["code"])


def type_in_the_editor(page: Page, server: LiveServer) -> None:
    """Add a paragraph so the preview shows it; the autosaved draft is thrown away after."""
    area = page.locator("#markdown")
    area.press("Control+End")
    with page.expect_response(lambda r: r.url.endswith("/draft") and r.request.method == "PUT",
                              timeout=15_000):
        area.type("\nEen nieuwe alinea met **vetgedrukte** tekst.\n")
    expect(page.locator("#preview strong", has_text="vetgedrukte")).to_be_visible()


def screens(page: Page, server: LiveServer, invite: str, name: str) -> None:
    """Visit each main screen and shoot it, named as `name` says ("phone-{}-nl")."""
    visits = {"view": "/p/Home", "edit": "/p/Home/edit", "history": "/p/Home/history",
              "diff": "/p/Home/history", "search": "/search?q=klant", "export": "/export",
              "room": "/admin/room", "invite": f"/admin/invites/{invite}"}
    for screen, path in visits.items():
        response = page.goto(server.url + path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("load")
        if screen == "edit":
            type_in_the_editor(page, server)
        if screen == "diff":  # the last two versions, as the history compares them
            page.locator("main form[method=get] button").click()
            page.wait_for_url("**/diff?*")
            expect(page.locator("table.diff ins").first).to_be_visible()
            if name.startswith("phone-"):  # two columns do not fit side by side on a phone
                page.locator('a[href*="mode=inline"]').first.click()
                expect(page.locator("table.diff.inline")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= page.evaluate("window.innerWidth"), (path, width)
        page.evaluate("window.scrollTo(0, 0)")
        if screen == "edit":
            page.locator("#markdown").evaluate("area => { area.scrollTop = 0; }")
        shot(page, name.format(screen))
        if screen == "edit":
            assert server.session("facilitator").delete(
                server.url + "/api/v1/pages/Home/draft").ok


@pytest.mark.parametrize("language", ["nl", "en"])
def test_readme_screenshots_of_the_main_screens(browser: Browser, live_server: LiveServer,
                                                language: str) -> None:
    invite = seed(live_server)
    for device, (viewport, scale) in DEVICES.items():
        context = browser.new_context(locale={"nl": "nl-NL", "en": "en-GB"}[language],
                                      viewport=viewport,
                                      device_scale_factor=scale, timezone_id="Europe/Amsterdam")
        page = context.new_page()
        login(page, live_server, "facilitator")
        assert page.evaluate("document.documentElement.lang") == language
        prefix = "" if device == "desktop" else "phone-"
        screens(page, live_server, invite, prefix + "{}-" + language)
        context.close()
