"""A whole workshop day in a real browser, in Dutch, as a room on one address.

Forty people join through one invite within two minutes, one of them forgets their
password and is helped back in, a chapter is frozen while someone edits it, a
renamed chapter stays in the exported whitepaper, and four people save the same
page at once without losing a word. The same joining, reading and editing is
then done on a 390 px phone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import login

ROOM = 40
AT_ONCE = 8  # browsers joining at the same moment
PASSWORD = "workshop-2026"
DESKTOP: ViewportSize = {"width": 1280, "height": 860}
PHONE: ViewportSize = {"width": 390, "height": 844}
SHARED = "".join(f"## Deel {n}\n\nTekst van deel {n}.\n\n" for n in range(1, 5))


@pytest.fixture(autouse=True)
def classic_editor(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server (started after this) offers the classic editor: saves merge three-way."""
    monkeypatch.setenv("COWIKI_LIVE", "off")


def person(number: int) -> str:
    return f"Deelnemer {number:02d}"


@contextmanager
def dutch(browser: Browser, viewport: ViewportSize = DESKTOP) -> Iterator[BrowserContext]:
    """A browser context that asks for Dutch, closed afterwards."""
    context = browser.new_context(locale="nl-NL", viewport=viewport)
    try:
        yield context
    finally:
        context.close()


def log_in(page: Page, server: LiveServer, name: str, password: str) -> None:
    """Fill the login form; the caller checks where it leads."""
    page.goto(server.url + "/login")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("form.stack button")


def create_invite(facilitator: Page, server: LiveServer, uses: int) -> str:
    """The facilitator makes an invite for `uses` participants; its link."""
    facilitator.goto(server.url + "/admin/users")
    form = facilitator.locator('form[action$="/admin/invites"]')
    form.locator("select[name=role]").select_option("participant")
    form.locator("input[name=max_uses]").fill(str(uses))
    form.locator("button").click()
    expect(facilitator.locator("figure.qr-code svg")).to_be_visible()
    return facilitator.locator("#invite-url").input_value()


def join_together(browser: Browser, link: str, numbers: range,
                  viewport: ViewportSize) -> list[BrowserContext]:
    """Everyone in `numbers` fills the invite form in their own browser, then all press
    "join" at the same moment; their contexts, each logged in on the welcome page."""
    contexts = [browser.new_context(locale="nl-NL", viewport=viewport)
                for _ in numbers]
    pages = [context.new_page() for context in contexts]
    for page, number in zip(pages, numbers, strict=True):
        page.goto(link)
        form = page.locator('form[action*="/invite/"]')
        form.locator("input[name=name]").fill(person(number))
        form.locator("input[name=email]").fill(f"deelnemer{number}@example.org")
        form.locator("input[name=password]").fill(PASSWORD)
    for page in pages:
        page.locator('form[action*="/invite/"] button').click(no_wait_after=True)
    for page, number in zip(pages, numbers, strict=True):
        page.wait_for_url("**/welcome", timeout=60_000)
        expect(page.locator("h1")).to_have_text(f"Welkom, {person(number)}")
    return contexts


def join_the_room(browser: Browser, link: str, people: int,
                  viewport: ViewportSize = DESKTOP) -> float:
    """`people` join through one invite, AT_ONCE at a time; the seconds it took."""
    started = time.monotonic()
    for first in range(1, people + 1, AT_ONCE):
        for context in join_together(browser, link, range(first, min(first + AT_ONCE,
                                                                      people + 1)), viewport):
            context.close()
    return time.monotonic() - started


def forgotten_password_is_reset(browser: Browser, server: LiveServer,
                                facilitator: Page) -> None:
    """Ten wrong passwords lock one account, not the room; a reset link lets them back in."""
    forgetful = person(7)
    with dutch(browser) as context:
        page = context.new_page()
        for _ in range(10):
            log_in(page, server, forgetful, "verkeerd-wachtwoord")
            expect(page.locator("p.error")).to_have_text("Onbekende naam of verkeerd wachtwoord.")
        log_in(page, server, forgetful, PASSWORD)  # the right one, too late
        expect(page.locator("p.error")).to_contain_text(
            "Te vaak verkeerd ingelogd op dit account: het staat op slot.")
        expect(page.locator("p.error")).to_contain_text("vraag een facilitator")
        assert page.url.endswith("/login")
        for number in (1, 8, 40):  # the rest of the room, same address: not locked out
            with dutch(browser) as other:
                them = other.new_page()
                log_in(them, server, person(number), PASSWORD)
                them.wait_for_url(server.url + "/p/Home")

        facilitator.goto(server.url + "/admin/users")
        row = facilitator.locator("tr", has=facilitator.get_by_role("link", name=forgetful,
                                                                   exact=True))
        expect(row.locator(".tag.warn")).to_have_text("op slot")
        row.locator('form[action$="/password-reset"] button').click()
        reset = facilitator.locator("#reset-url").input_value()

        page.goto(reset)
        expect(page.locator("h1")).to_contain_text(forgetful)
        page.fill("#new", "nieuw-wachtwoord-7")
        page.locator("form.stack button").click()
        page.wait_for_url(server.url + "/p/Home")
        expect(page.locator(".flashes")).to_contain_text("Je nieuwe wachtwoord is ingesteld")
        page.get_by_role("button", name="Uitloggen").click()
        log_in(page, server, forgetful, "nieuw-wachtwoord-7")
        page.wait_for_url(server.url + "/p/Home")
        expect(page.locator("header .who a:not(.bell)").first).to_have_text(forgetful)


def freezing_keeps_the_editors_text(browser: Browser, server: LiveServer,
                                    facilitator: Page) -> None:
    """A chapter frozen while someone edits it: the save is refused with the reason, the
    text stays; the frozen page then offers no Edit and the banner says why."""
    chapter = "Hoofdstuk 1/Markt"
    api = server.session("facilitator")
    assert api.put(f"{server.url}/api/v1/pages/{chapter}",
                   json={"markdown": "# Markt\n\nDe markt groeit.\n"}).status_code == 201
    with dutch(browser) as context:
        page = context.new_page()
        log_in(page, server, person(3), PASSWORD)
        page.wait_for_url(server.url + "/p/Home")
        page.goto(f"{server.url}/p/{chapter}/edit")
        page.wait_for_load_state("load")
        typed = "# Markt\n\nDe markt groeit, vooral online.\n"
        page.fill("#markdown", typed)

        facilitator.goto(server.url + "/admin/room")
        freeze = facilitator.locator('form:has(input[name=scope][value="Hoofdstuk 1"])')
        freeze.locator("button").click()
        expect(freeze.locator("xpath=..").locator(".tag.warn")).to_have_text("bevroren")

        page.click(".save-row button")
        expect(page.locator("#save-error")).to_contain_text("bevroren")
        assert page.url.endswith("/edit")
        expect(page.locator("#markdown")).to_have_value(typed)

        page.goto(f"{server.url}/p/{chapter}")
        expect(page.locator("nav.tabs")).to_contain_text("Lezen")
        expect(page.get_by_role("link", name="Bewerken", exact=True)).to_have_count(0)
        banner = page.locator(".banner.frozen")
        expect(banner).to_contain_text("“Hoofdstuk 1” is bevroren.")
        expect(banner).to_contain_text("Een facilitator heeft dit voor deze fase bevroren")
    facilitator.goto(server.url + "/admin/room")
    facilitator.locator('form:has(input[name=scope][value="Hoofdstuk 1"]) button').click()


def renamed_chapter_stays_in_the_export(server: LiveServer, facilitator: Page) -> None:
    """The facilitator renames a chapter in the browser; the HTML export still has it,
    between the chapters around it."""
    api = server.session("facilitator")
    text = "# Aanpak\n\nWe werken met de grutto-methode.\n"
    assert api.put(f"{server.url}/api/v1/pages/Aanpak", json={"markdown": text}).ok
    assert api.put(f"{server.url}/api/v1/pages/Slot",
                   json={"markdown": "# Slot\n\nTot slot de tureluur.\n"}).ok
    outline = {"title": "Samen sterker", "pages": ["Hoofdstuk 1/Markt", "Aanpak", "Slot"]}
    assert api.put(f"{server.url}/api/v1/outline", json=outline).ok
    facilitator.goto(server.url + "/p/Aanpak/rename")
    facilitator.fill("#to", "Hoofdstuk 2/Werkwijze")
    facilitator.locator("main form button").click()
    facilitator.wait_for_url("**/p/Hoofdstuk%202/Werkwijze")

    facilitator.goto(server.url + "/export")
    expect(facilitator.locator("#outline-pages .path")).to_have_text(
        ["Hoofdstuk 1/Markt", "Hoofdstuk 2/Werkwijze", "Slot"])
    facilitator.check("input[name=format][value=html]")
    facilitator.locator("form.export-form button").click()
    download = facilitator.get_by_role("link", name="Downloaden")
    expect(download).to_be_visible(timeout=90_000)
    html = facilitator.request.get(server.url + str(download.get_attribute("href"))).text()
    body = html.split("grutto-methode", 1)
    assert len(body) == 2 and "De markt groeit" in body[0] and "tureluur" in body[1]


def four_people_save_one_page_at_once(browser: Browser, server: LiveServer) -> None:
    """Four editors change their own part of one page and press Save together; one first
    pastes too much and keeps the editor and the reason. Every edit ends up saved."""
    api = server.session("facilitator")
    url = f"{server.url}/api/v1/pages/Samen"
    assert api.put(url, json={"markdown": SHARED}).status_code == 201
    editors = range(11, 15)
    contexts = [browser.new_context(locale="nl-NL", viewport=DESKTOP) for _ in editors]
    try:
        pages = [context.new_page() for context in contexts]
        for page, number in zip(pages, editors, strict=True):
            log_in(page, server, person(number), PASSWORD)
            page.wait_for_url(server.url + "/p/Home")
            page.goto(server.url + "/p/Samen/edit")
            page.wait_for_load_state("load")
        first = pages[0].locator("#markdown")
        first.fill(SHARED + "x" * 1_000_001)
        pages[0].click(".save-row button")
        expect(pages[0].locator("#save-error")).to_contain_text("1000000")
        assert first.input_value().startswith(SHARED) and pages[0].url.endswith("/edit")
        for part, page in enumerate(pages, start=1):
            mine = f"Tekst van deel {part}, door {person(part + 10)}."
            page.fill("#markdown", SHARED.replace(f"Tekst van deel {part}.", mine))
        for page in pages:
            page.locator(".save-row button").click(no_wait_after=True)
        for page in pages:
            page.wait_for_url(server.url + "/p/Samen", timeout=30_000)
            expect(page.locator(".flashes")).to_be_visible()
    finally:
        for context in contexts:
            context.close()
    saved = api.get(url).json()["markdown"]
    lost = [part for part in range(1, 5) if f"deel {part}, door {person(part + 10)}." not in saved]
    assert lost == [], saved


def test_a_workshop_day_for_a_room_of_forty_in_dutch(browser: Browser,
                                                      live_server: LiveServer) -> None:
    with dutch(browser) as host:
        facilitator = host.new_page()
        login(facilitator, live_server, "facilitator")
        link = create_invite(facilitator, live_server, uses=ROOM)
        took = join_the_room(browser, link, ROOM)
        print(f"{ROOM} joins in {took:.1f} s")
        assert took < 120, f"{ROOM} joins took {took:.0f} s"
        facilitator.goto(live_server.url + "/admin/users")
        expect(facilitator.locator("table.invites td.num").first).to_have_text(f"{ROOM} / {ROOM}")
        expect(facilitator.locator("table.people tbody tr")).to_have_count(ROOM + 3)

        forgotten_password_is_reset(browser, live_server, facilitator)
        freezing_keeps_the_editors_text(browser, live_server, facilitator)
        renamed_chapter_stays_in_the_export(live_server, facilitator)
        four_people_save_one_page_at_once(browser, live_server)


def test_joining_reading_and_editing_on_a_390px_phone(browser: Browser,
                                                     live_server: LiveServer) -> None:
    with dutch(browser) as host:
        facilitator = host.new_page()
        login(facilitator, live_server, "facilitator")
        link = create_invite(facilitator, live_server, uses=5)
    contexts = join_together(browser, link, range(1, 6), PHONE)
    try:
        for number, context in enumerate(contexts, start=1):
            page = context.pages[0]
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            page.get_by_role("link", name="Naar Home").click()
            expect(page.locator("article.page")).to_be_visible()
            page.get_by_role("link", name="Bewerken", exact=True).click()
            page.wait_for_load_state("load")
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            area = page.locator("#markdown")
            area.press("Control+End")
            area.type(f"\n\nVanaf de telefoon van {person(number)}.\n")
            page.click(".save-row button")
            page.wait_for_url(live_server.url + "/p/Home", timeout=30_000)
            expect(page.locator("article.page")).to_contain_text(
                f"Vanaf de telefoon van {person(number)}.")
            expect(page.locator(".flashes")).to_contain_text("Opgeslagen")
    finally:
        for context in contexts:
            context.close()
