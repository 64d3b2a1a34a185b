"""The main screens on a 390 px phone in Dutch: nothing wider than the screen."""

from __future__ import annotations

from playwright.sync_api import Browser

from tests.conftest import LiveServer
from tests.e2e.conftest import login, shot

WIDTH = 390
LONG = ("De arbeidsmarktcommunicatiestrategie van klantloyaliteitsprogramma's vraagt om "
        "merkpositioneringsonderzoek en https://voorbeeld.nl/een/heel/lange/verwijzing/naar/"
        "een/rapport-over-contentmarketing-en-zoekmachineoptimalisatie-2025.pdf\n")
SCREENS = {
    "home": "/p/Home",
    "edit": "/p/Hoofdstuk 1/Strategie/edit",
    "history": "/p/Hoofdstuk 1/Strategie/history",
    "diff": "/p/Hoofdstuk 1/Strategie/diff",
    "admin-users": "/admin/users",
    "admin-room": "/admin/room",
    "export": "/export",
    "search-results": "/search?q=strategie",
}


def seed(server: LiveServer) -> None:
    """A chapter page with two versions of long Dutch words, an invite, a report."""
    writer, host = server.session("participant"), server.session("facilitator")
    url = server.url + "/api/v1/pages/Hoofdstuk 1/Strategie"
    first = writer.put(url, json={"markdown": "# Strategie\n\n" + LONG})
    assert first.status_code == 201, first.text
    second = writer.put(url, json={"markdown": "# Strategie\n\n" + LONG.replace("vraagt", "eist")
                                   + "\nEen [[Nieuwe pagina]] volgt.\n",
                                   "base_revision": first.json()["revision"]})
    assert second.status_code == 200, second.text
    made = writer.post(server.url + "/api/v1/pages/Home/comments", json={"body": "Spam!"})
    assert host.post(server.url + f"/api/v1/comments/{made.json()['id']}/report",
                     json={"reason": "other"}).status_code < 400
    assert host.post(server.url + "/api/v1/invites", json={
        "role": "participant", "expires_days": 7, "max_uses": 30}).status_code == 201
    assert writer.post(url + "/presence", json={"dirty": True}).status_code < 400


def test_main_screens_fit_a_390px_phone_in_dutch(browser: Browser,
                                                 live_server: LiveServer) -> None:
    seed(live_server)
    context = browser.new_context(locale="nl-NL", viewport={"width": WIDTH, "height": 844})
    page = context.new_page()
    login(page, live_server, "facilitator")
    too_wide = {}
    for name, path in SCREENS.items():
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200, (name, path)
        page.wait_for_load_state("load")
        shot(page, f"phone-{name}")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > WIDTH:
            too_wide[name] = width
    assert page.evaluate("document.documentElement.lang") == "nl"
    assert too_wide == {}
    context.close()
