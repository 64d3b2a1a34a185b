"""The editor in a real browser: toolbar, [[ completion, pasted images, conflict picks, a11y."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import login, shot

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")


def new_page(browser: Browser, width: int = 1280) -> Page:
    return browser.new_page(viewport={"width": width, "height": 860})


def test_toolbar_completion_and_pasted_image_make_a_page(browser: Browser,
                                                         live_server: LiveServer) -> None:
    page = new_page(browser)
    login(page, live_server, "participant")
    page.goto(live_server.url + "/new")
    page.fill("#name", "Hoofdstuk 2/Aanpak")
    page.click("main form button")
    area = page.locator("#markdown")
    expect(area).to_be_visible()
    page.wait_for_load_state("load")  # the toolbar works once the deferred editor.js ran
    area.fill("")
    page.click("[data-action=heading]")
    area.type("Onze aanpak")
    area.press("End")
    area.type("\n\n")
    page.click("[data-action=bold]")
    area.type("kern")
    area.press("Control+End")
    area.type("\n\nZie [[Ho")
    expect(page.locator("#link-suggestions")).to_be_visible()
    expect(page.locator("#link-suggestions li").first).to_have_text("Home")
    area.press("Enter")
    page.evaluate(
        """async (b64) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const file = new File([bytes], "schets.png", {type: "image/png"});
            const data = new DataTransfer(); data.items.add(file);
            const area = document.getElementById("markdown");
            area.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true}));
        }""", base64.b64encode(PNG).decode())
    expect(page.locator("#editor-status")).to_contain_text("Uploaded schets.png")
    expect(page.locator("#preview h2")).to_have_text("Onze aanpak")
    expect(page.locator("#preview img")).to_have_attribute("src", "/attachments/schets.png")
    value = area.input_value()
    assert "## Onze aanpak" in value and "**kern**" in value and "[[Home]]" in value
    page.click(".save-row button")
    expect(page.locator("article.page img")).to_be_visible()
    page.click("text=History")
    expect(page.locator(".timeline li").first).to_contain_text("created")
    page.close()


def test_second_editor_resolves_a_conflict_per_part(browser: Browser,
                                                     live_server: LiveServer) -> None:
    text = "# Plan\n\nEerste alinea.\n\nTweede alinea.\n\nDerde alinea.\n"
    api = live_server.session("facilitator")
    base = api.get(live_server.url + "/api/v1/pages/Home").json()["revision"]
    api.put(live_server.url + "/api/v1/pages/Home",
            json={"markdown": text, "base_revision": base}).raise_for_status()
    one, two = browser.new_context(), browser.new_context()
    a, b = one.new_page(), two.new_page()
    login(a, live_server, "participant")
    login(b, live_server, "facilitator")
    for page in (a, b):
        page.goto(live_server.url + "/p/Home/edit")
    a.fill("#markdown", text.replace("Tweede", "Anna's tweede").replace("Eerste", "Anna's eerste"))
    a.click(".save-row button")
    expect(a.locator(".flashes")).to_contain_text("Saved")
    b.fill("#markdown", text.replace("Tweede", "Bert's tweede"))
    b.click(".save-row button")
    expect(b.locator("fieldset.hunk")).to_have_count(1)
    assert "Anna's eerste" in b.locator("#markdown").input_value()
    b.check("input[name=pick-0][value=both]")
    shot(b, "conflict")
    b.click(".save-row button")
    body = b.locator("article.page")
    expect(body).to_contain_text("Anna's eerste alinea.")
    expect(body).to_contain_text("Anna's tweede alinea.")
    expect(body).to_contain_text("Bert's tweede alinea.")
    one.close()
    two.close()


MAIN_SCREENS = ["/p/Home", "/p/Home/edit", "/p/Home/history", "/pages", "/changes",
                "/p/Home/diff", "/p/Home/diff?mode=inline", "/search?q=wiki", "/export",
                "/p/Home/comments", "/admin/users", "/admin/room", "/admin/phases",
                "/contributors", "/notifications", "/p/Home/suggestions", "/admin/templates",
                "/new"]


@pytest.mark.parametrize("locale", ["nl-NL", "en-US"])
def test_main_pages_have_no_serious_accessibility_violations(browser: Browser,
                                                              live_server: LiveServer,
                                                              locale: str) -> None:
    # axe is injected as an inline script, which the wiki's CSP rightly refuses.
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 860},
                                  bypass_csp=True)
    page = context.new_page()
    login(page, live_server, "facilitator")
    serious = {}
    for path in MAIN_SCREENS:
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200, path
        assert page.evaluate("document.documentElement.lang") == locale[:2]
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "async () => await axe.run(document, {resultTypes: ['violations']})")
        found = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
                 for v in result["violations"] if v["impact"] in ("serious", "critical")]
        if found:
            serious[path] = found
    assert serious == {}, serious
    context.close()


def test_a_failed_save_keeps_the_editor_and_the_text_in_dutch(browser: Browser,
                                                              live_server: LiveServer) -> None:
    context = browser.new_context(locale="nl-NL", viewport={"width": 390, "height": 844})
    page = context.new_page()
    login(page, live_server, "participant")
    page.goto(live_server.url + "/p/Home/edit")
    page.wait_for_load_state("load")
    area = page.locator("#markdown")
    area.fill("# Home\n\nMijn alinea.\n" + "x" * 1_000_001)
    page.click(".save-row button")
    expect(page.locator("#save-error")).to_be_visible()
    expect(page.locator("#save-error")).to_contain_text("1000000")
    assert page.url.endswith("/p/Home/edit")
    assert area.input_value().startswith("# Home\n\nMijn alinea.")
    context.set_offline(True)  # the Wi-Fi drops: the text stays, the reason says so
    area.fill("# Home\n\nMijn alinea, korter.\n")
    page.click(".save-row button")
    expect(page.locator("#save-error")).to_contain_text("niet bereikt")
    assert area.input_value() == "# Home\n\nMijn alinea, korter.\n"
    context.set_offline(False)
    page.click(".save-row button")
    page.wait_for_url(live_server.url + "/p/Home")
    expect(page.locator("article.page")).to_contain_text("Mijn alinea, korter.")
    context.close()
