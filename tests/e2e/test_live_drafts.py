"""A draft restored into a page that others are editing live, in real browsers.

Anna left an unsaved draft of Plan. When she comes back, Bert is typing in the live
editor. She is offered her draft; restoring it puts her changes into the shared text
beside Bert's (a three-way merge from the revision her draft started from), never
in place of it, and git ends with both.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, WebSocketRoute, expect

from tests.conftest import LiveServer
from tests.e2e.test_live_editing import (
    PAGE,
    START,
    WAIT,
    add_participant,
    go_to_line,
    log_in,
    open_live,
    same_everywhere,
    saved_text,
)

DRAFT = START.replace("Tweede alinea.", "Tweede alinea, uit het concept van Anna.")
# Screenshots to look at, not for the README (docs/screenshots keeps those).
SHOTS = Path(tempfile.gettempdir()) / "cowiki-live-drafts"
TEXTS = {
    "en": ("Restore your unsaved draft from", "Restore draft",
           "Your draft is in the shared text, beside what the others typed."),
    "nl": ("Je niet-opgeslagen concept van", "Concept terugzetten",
           "Je concept staat in de gedeelde tekst, naast wat de anderen typten."),
}


@pytest.fixture(autouse=True)
def classic_editor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Live editing on (tests/e2e/conftest.py switches it off for the other browser tests)."""
    monkeypatch.delenv("COWIKI_LIVE", raising=False)


@pytest.fixture
def plan(live_server: LiveServer) -> str:
    """Plan as the facilitator wrote it, with Anna and Bert as participants; its revision."""
    answer = live_server.session("facilitator").put(
        f"{live_server.url}/api/v1/pages/{PAGE}", json={"markdown": START}, timeout=10)
    assert answer.status_code == 201, answer.text
    for name in ("Anna", "Bert"):
        add_participant(live_server, name)
    return str(answer.json()["revision"])


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    made: list[BrowserContext] = []
    yield made
    for each in made:
        each.close()


def person(browser: Browser, contexts: list[BrowserContext], server: LiveServer, name: str,
           language: str = "en", width: int = 1280) -> Page:
    made = browser.new_context(locale="nl-NL" if language == "nl" else "en-US",
                               viewport={"width": width, "height": 860 if width > 400 else 844},
                               is_mobile=width <= 400, has_touch=width <= 400)
    contexts.append(made)
    page = made.new_page()
    log_in(page, server, name)
    return page


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def leave_a_draft(page: Page, server: LiveServer, base: str) -> None:
    """What the editor's autosave keeps when a tab closes: Anna's text, on the server."""
    page.goto(f"{server.url}/p/{PAGE}")
    status = page.evaluate("""async ([url, draft]) => {
        const token = document.querySelector('meta[name="csrf-token"]').content;
        const answer = await fetch(url, {method: "PUT", credentials: "same-origin",
            headers: {"Content-Type": "application/json", "X-CSRF-Token": token},
            body: JSON.stringify(draft)});
        return answer.status;
    }""", [f"{server.url}/api/v1/pages/{PAGE}/draft",
           {"markdown": DRAFT, "base_revision": base}])
    assert status == 200


def bert_types(server: LiveServer, browser: Browser, contexts: list[BrowserContext]) -> Page:
    bert = person(browser, contexts, server, "Bert")
    open_live(bert, server)
    go_to_line(bert, 6, end=True)
    bert.keyboard.type(" Bert typt live.")
    return bert


def restore(anna: Page, language: str) -> None:
    offer, button, done = TEXTS[language]
    bar = anna.locator(".draft-offer")
    expect(bar).to_contain_text(offer, timeout=WAIT)
    anna.get_by_role("button", name=button).click()
    expect(bar).to_have_text(done, timeout=WAIT)


def test_a_restored_draft_joins_the_live_text_beside_the_other_persons_typing(
        browser: Browser, live_server: LiveServer, plan: str,
        contexts: list[BrowserContext]) -> None:
    anna = person(browser, contexts, live_server, "Anna")
    leave_a_draft(anna, live_server, plan)
    bert = bert_types(live_server, browser, contexts)
    open_live(anna, live_server)
    assert "Bert typt live." in anna.evaluate("document.getElementById('markdown').value")
    shot(anna, "live-draft-offer")
    restore(anna, "en")
    bert.keyboard.type(" En nog meer.")  # typing on while her draft goes in
    both = ("Tweede alinea, uit het concept van Anna.", "Bert typt live. En nog meer.")
    text = same_everywhere([anna, bert], *both)
    assert text == DRAFT.replace("Derde alinea.", "Derde alinea. Bert typt live. En nog meer.")
    shot(anna, "live-draft-restored")
    anna.click("#live-save")
    expect(anna.locator("#live-saved")).to_have_text("Saved as a version.", timeout=WAIT)
    assert all(part in saved_text(live_server) for part in both)
    # The draft is spent: coming back offers nothing more.
    anna.goto(f"{live_server.url}/p/{PAGE}/edit")
    expect(anna.locator("#live-editor")).to_be_visible(timeout=WAIT)
    anna.wait_for_timeout(1500)
    expect(anna.locator(".draft-offer")).to_have_count(0)


def test_in_dutch_on_a_phone_the_draft_offer_fits_and_restores(
        browser: Browser, live_server: LiveServer, plan: str,
        contexts: list[BrowserContext]) -> None:
    anna = person(browser, contexts, live_server, "Anna", language="nl", width=390)
    leave_a_draft(anna, live_server, plan)
    bert = bert_types(live_server, browser, contexts)
    open_live(anna, live_server)
    offer = anna.locator(".draft-offer")
    expect(offer).to_contain_text(TEXTS["nl"][0], timeout=WAIT)
    box = offer.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert anna.evaluate("document.documentElement.scrollWidth") <= 390
    shot(anna, "phone-live-draft-offer-nl")
    restore(anna, "nl")
    same_everywhere([anna, bert], "uit het concept van Anna.", "Bert typt live.")
    assert anna.evaluate("document.documentElement.scrollWidth") <= 390
    shot(anna, "phone-live-draft-restored-nl")


BEFORE_READY = {  # connecting, the status after the restore, the save button
    "en": ("Connecting to live editing…",
           "You changed the text before live editing was ready, so you edit on your own: "
           "saving merges your text with the others' changes.", "Save"),
    "nl": ("Verbinden met samen live bewerken…",
           "Je had de tekst al veranderd voordat live bewerken klaar was, dus je bewerkt "
           "alleen: bij opslaan wordt je tekst samengevoegd met de wijzigingen van de anderen.",
           "Opslaan"),
}


@pytest.mark.parametrize(("language", "width"), [("en", 1280), ("nl", 390)])
def test_a_draft_restored_before_live_editing_is_ready_is_saved_classically(
        browser: Browser, live_server: LiveServer, plan: str,
        contexts: list[BrowserContext], language: str, width: int) -> None:
    """The room's first answer is held back until Anna has restored her draft: live
    editing then stays off for her with a status that says why, and her save merges."""
    connecting, status, save = BEFORE_READY[language]
    anna = person(browser, contexts, live_server, "Anna", language=language, width=width)
    leave_a_draft(anna, live_server, plan)
    bert = bert_types(live_server, browser, contexts)
    held: list[str | bytes] = []
    sockets: list[WebSocketRoute] = []

    def hold_the_room(socket: WebSocketRoute) -> None:
        sockets.append(socket)
        socket.connect_to_server().on_message(lambda message: held.append(message))

    anna.route_web_socket(re.compile(r".*/live/socket/.*"), hold_the_room)
    anna.goto(f"{live_server.url}/p/{PAGE}/edit")
    expect(anna.locator("#live-status")).to_have_text(connecting, timeout=WAIT)
    restore_bar = anna.locator(".draft-offer")
    expect(restore_bar).to_contain_text(TEXTS[language][0], timeout=WAIT)
    anna.get_by_role("button", name=TEXTS[language][1]).click()
    assert sockets, "the live editor did not connect"
    for message in held:  # the room answers now, after the text changed
        sockets[0].send(message)
    expect(anna.locator("#live-status")).to_have_text(status, timeout=WAIT)
    expect(anna.locator("#live-editor")).to_have_count(0)
    assert anna.locator("#markdown").input_value() == DRAFT
    expect(anna.locator("#preview")).to_contain_text("uit het concept van Anna", timeout=WAIT)
    assert anna.evaluate("document.documentElement.scrollWidth") <= width
    shot(anna, f"live-draft-before-ready-{language}-{width}")
    anna.get_by_role("button", name=save, exact=True).click()
    anna.wait_for_url(re.compile(rf".*/p/{PAGE}$"), timeout=WAIT)
    bert.click("#live-save")
    expect(bert.locator("#live-saved")).to_have_text("Saved as a version.", timeout=WAIT)
    text = saved_text(live_server)
    assert "Tweede alinea, uit het concept van Anna." in text and "Bert typt live." in text
