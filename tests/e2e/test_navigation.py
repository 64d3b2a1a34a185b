"""Finding your way in a real browser: search suggestions, the search page, chapters, phones."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import login, shot

MARKET = ("# Marktverkenning\n\nOnze klanten zijn tevreden over de samenwerking met de "
          "gemeente.\n\n## Doelgroepen\n\nKlanten in de regio vragen om duurzame energie.\n")
PLAN = "# Aanpak\n\nWe werken in drie fasen met de klant.\n"


def make_pages(server: LiveServer) -> None:
    """Two chapters and an outline that orders them, through the API."""
    api = server.session("facilitator")
    for name, text in (("Hoofdstuk 1/Markt", MARKET), ("Hoofdstuk 2/Aanpak", PLAN)):
        answer = api.put(f"{server.url}/api/v1/pages/{name}", json={"markdown": text}, timeout=10)
        assert answer.status_code == 201, answer.text
    outline = {"title": "Samen sterker", "pages": ["Hoofdstuk 1/Markt", "Hoofdstuk 2/Aanpak"]}
    answer = api.put(f"{server.url}/api/v1/outline", json=outline, timeout=10)
    assert answer.status_code == 200, answer.text


def test_search_box_suggests_pages_as_you_type_and_finds_stemmed_words(
        browser: Browser, live_server: LiveServer) -> None:
    make_pages(live_server)
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    login(page, live_server, "participant")
    box = page.get_by_role("combobox")
    box.fill("klan")
    suggestions = page.get_by_role("listbox", name="Suggestions")
    expect(suggestions).to_contain_text("Marktverkenning", timeout=10_000)
    expect(suggestions).to_contain_text("Aanpak")  # "klan" completes to klant and klanten
    first = suggestions.get_by_role("option").first.get_by_role("link").get_attribute("href")
    box.press("ArrowDown")
    box.press("Enter")
    page.wait_for_url(live_server.url + str(first))
    box = page.get_by_role("combobox")
    box.fill("klant")
    box.press("Enter")
    page.wait_for_url("**/search?q=klant")
    results = page.locator("main")
    expect(results).to_contain_text("Marktverkenning")
    expect(results).to_contain_text("Aanpak")
    expect(page.locator("main mark").first).to_be_visible()
    shot(page, "search")
    page.set_viewport_size({"width": 375, "height": 780})
    shot(page, "phone-search")
    page.close()


def test_page_shows_the_whitepapers_chapters_in_outline_order(browser: Browser,
                                                              live_server: LiveServer) -> None:
    make_pages(live_server)
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    login(page, live_server, "reader")
    page.goto(live_server.url + "/p/Hoofdstuk 2/Aanpak")
    chapters = page.get_by_role("navigation", name="Chapters")
    expect(chapters.get_by_role("link")).to_have_text(["Marktverkenning", "Aanpak"])
    expect(chapters.locator("[aria-current=page]")).to_have_text("Aanpak")
    breadcrumbs = page.get_by_role("navigation", name="Breadcrumbs")
    expect(breadcrumbs).to_contain_text("Hoofdstuk 2")
    chapters.get_by_role("link", name="Marktverkenning").click()
    page.wait_for_url("**/p/Hoofdstuk%201/Markt")
    page.close()


CONTRAST = """(el) => {
  const rgb = (c) => c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  const lum = (c) => { const v = rgb(c).map(x => { x /= 255;
      return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const ring = getComputedStyle(el).outlineColor;
  const page = getComputedStyle(document.body).backgroundColor;
  const [a, b] = [lum(ring), lum(page)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


def test_printing_a_page_prints_the_text_alone(browser: Browser,
                                               live_server: LiveServer) -> None:
    make_pages(live_server)
    page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="nl-NL")
    login(page, live_server, "participant")
    page.goto(live_server.url + "/p/Hoofdstuk 1/Markt")
    page.emulate_media(media="print")
    expect(page.locator("article.page")).to_contain_text("Onze klanten zijn tevreden")
    for furniture in (".top", ".tabs", ".chapters", "#comments", ".workshop-bar", ".page-meta"):
        expect(page.locator(furniture).first).to_be_hidden()
    page.close()


def test_the_keyboard_focus_ring_stands_out_at_least_3_to_1(browser: Browser,
                                                            live_server: LiveServer) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    login(page, live_server, "participant")
    page.focus("a.brand")
    page.keyboard.press("Tab")
    focused = page.locator(":focus-visible")
    assert focused.evaluate(CONTRAST) >= 3
    page.close()
