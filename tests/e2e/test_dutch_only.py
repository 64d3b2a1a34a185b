"""The Dutch interface shows no English: every main screen, read in a real browser.

tests/e2e/dutch_support.py says what counts as English on a Dutch screen;
tests/e2e/test_dutch_only_contributing.py reads the screens where people contribute.
"""

from __future__ import annotations

from playwright.sync_api import Browser

from tests.conftest import LiveServer
from tests.e2e.conftest import login
from tests.e2e.dutch_support import assert_dutch, english_in, leaks_on


def seed(server: LiveServer) -> tuple[str, str]:
    """A chapter with two versions, a comment and an invite; (invite code, export job)."""
    api = server.session("facilitator")
    url = f"{server.url}/api/v1/pages/Hoofdstuk 1/Markt"
    first = api.put(url, json={"markdown": "# Markt\n\nDe markt groeit.\n"}).json()
    assert api.put(url, json={"markdown": "# Markt\n\nDe markt groeit snel.\n",
                              "base_revision": first["revision"]}).ok
    assert api.post(f"{server.url}/api/v1/pages/Home/comments",
                    json={"body": "Goed begin!"}).ok
    invite = api.post(f"{server.url}/api/v1/invites",
                      json={"role": "participant", "expires_days": 7, "max_uses": 30}).json()
    job = api.post(f"{server.url}/api/v1/export", json={"format": "html"}).json()
    return str(invite["code"]), str(job["job"])


def screens(invite: str, job: str) -> list[str]:
    """The screens a facilitator or participant sees during a workshop."""
    chapter = "/p/Hoofdstuk 1/Markt"
    return ["/p/Home", chapter, f"{chapter}/edit", f"{chapter}/history", f"{chapter}/diff",
            f"{chapter}/diff?mode=inline", f"{chapter}/blame", f"{chapter}/rename",
            "/search?q=markt", "/search?q=grutto", "/changes", "/pages", "/contributors",
            "/export", f"/export/jobs/{job}", "/p/Home/comments", "/account", "/new",
            "/admin/users", "/admin/room", "/admin/phases", f"/admin/invites/{invite}"]


def test_the_dutch_interface_shows_no_english_on_the_main_screens(
        browser: Browser, live_server: LiveServer) -> None:
    invite, job = seed(live_server)
    leaks: dict[str, list[tuple[str, str]]] = {}
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    for path in ("/login", f"/invite/{invite}"):
        page.goto(live_server.url + path)
        leaks[path] = leaks_on(page)
    page.fill("#name", "Fenna Visser")
    page.fill("#email", "fenna@example.org")
    page.fill("#password", "fenna-pass-123")
    page.locator('form[action*="/invite/"] button').click()
    page.wait_for_url("**/welcome")
    leaks["/welcome"] = leaks_on(page)
    context.close()

    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    login(page, live_server, "facilitator")
    for path in screens(invite, job):
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.lang") == "nl", path
        leaks[path] = leaks_on(page)
    context.close()
    assert_dutch(leaks)


def test_the_leak_finder_finds_english_on_an_english_screen(
        browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    login(page, live_server, "facilitator")
    page.goto(live_server.url + "/admin/room")
    found = {msgid for _, msgid in leaks_on(page)}
    assert {"Control room", "Nobody is editing right now.", "Recent changes"} <= found
    context.close()


def test_the_word_check_finds_english_that_no_catalog_has() -> None:
    assert [line for line, _ in english_in([
        "Loading the suggestions…", "Voorstel #1 van participant", "Kijk op je accountpagina",
        "Sending 3 images", "Haal het op met git:", "https://wiki.example.org/p/Home#comment-4",
        "participant@example.org", "participant", "bekijken · wijzigingen · 3f55ad4a9f",
        "In de tekst worden {title}, {name}, {date} vervangen", "English"])] == [
        "Loading the suggestions…", "Sending 3 images"]
