"""Comments on a passage in a real browser: select, comment, follow edits, phone layout."""

from __future__ import annotations

import base64
import json
import urllib.request

from playwright.sync_api import Browser, Page, expect

from tests.conftest import PASSWORDS, LiveServer
from tests.e2e.conftest import login, shot

SENTENCE = "Wij vragen de café-eigenaren 👍🏽 om mee te doen."
OTHER = "Daarna kijken we samen naar de cijfers van het jaar."
TEXT = ("# Plan voor de wijk\n\n"
        "De eerste alinea vertelt waarom dit plan er is: de wijk wil meer ontmoeting.\n\n"
        f"Het voorstel is eenvoudig. {SENTENCE} Zij kennen de buurt als geen ander.\n\n"
        "## Aanpak\n\n"
        f"We beginnen in het voorjaar met drie avonden. {OTHER}\n\n"
        "Tot slot schrijven we op wat werkte en wat niet, zodat een volgende wijk verder kan.\n")


def api(server: LiveServer, method: str, path: str, data: dict[str, object],
        role: str = "facilitator") -> dict[str, object]:
    auth = base64.b64encode(f"{role}:{PASSWORDS[role]}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 (our own server)
        server.url + path, method=method, data=json.dumps(data).encode(),
        headers={"Authorization": f"Basic {auth}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (our own server)
        result: dict[str, object] = json.loads(answer.read() or b"{}")
        return result


def save(server: LiveServer, markdown: str) -> str:
    base = api(server, "GET", "/api/v1/pages/Plan", {}) if markdown != TEXT else {}
    done = api(server, "PUT", "/api/v1/pages/Plan",
               {"markdown": markdown, "base_revision": base.get("revision")})
    return str(done["revision"])


def select_text(page: Page, text: str) -> None:
    """Select `text` in the article as a mouse would."""
    found = page.evaluate("""(text) => {
      const article = document.querySelector('main article.page');
      const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const at = node.data.indexOf(text);
        if (at < 0) continue;
        const range = document.createRange();
        range.setStart(node, at); range.setEnd(node, at + text.length);
        getSelection().removeAllRanges(); getSelection().addRange(range);
        return true;
      }
      return false;
    }""", text)
    assert found, text


def test_a_passage_comment_stays_anchored_then_moves_to_an_earlier_version(
        browser: Browser, live_server: LiveServer) -> None:
    first = save(live_server, TEXT)
    desk = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = desk.new_page()
    login(page, live_server, "participant")
    page.goto(live_server.url + "/p/Plan")
    select_text(page, SENTENCE)
    page.locator("#passage-start").click()
    expect(page.locator("#passage-form .passage-quote")).to_have_text(SENTENCE)
    page.fill("#passage-body", "Moeten we ze niet eerst bellen?")
    page.locator("#passage-form button.button").click()
    page.wait_for_url("**/p/Plan#comment-*")

    mark = page.locator("mark.passage-mark")
    expect(mark).to_have_text(SENTENCE)
    note = page.locator("#passage-margin article.comment")
    expect(note).to_contain_text("Moeten we ze niet eerst bellen?")
    assert abs(note.bounding_box()["y"] - mark.bounding_box()["y"]) < 40  # beside it
    api(live_server, "POST", "/api/v1/pages/Plan/comments", {
        "body": "Welke cijfers precies? @facilitator weet het.",
        "anchor": {"revision": first, "quote": OTHER}}, role="facilitator")
    page.reload()
    expect(page.locator("#passage-margin article.comment")).to_have_count(2)
    expect(page.locator("#passage-note")).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "passage-comments")

    # Someone else edits the paragraph above: the comment follows its sentence.
    save(live_server, TEXT.replace("De eerste alinea vertelt",
                                   "De eerste, langere alinea (ë) vertelt"))
    page.reload()
    expect(page.locator("mark.passage-mark").first).to_have_text(SENTENCE)
    expect(page.locator("#passage-margin article.comment").first).to_contain_text("eerst bellen")

    # Then they change the sentence itself: the comment is on an earlier version.
    api_text = api(live_server, "GET", "/api/v1/pages/Plan", {})["markdown"]
    save(live_server, str(api_text).replace("om mee te doen", "om te helpen"))
    page.reload()
    earlier = page.locator(".passage-earlier")
    expect(earlier).to_contain_text("On an earlier version of the page.")
    expect(earlier.locator("a")).to_have_attribute("href", f"/p/Plan?rev={first}")
    expect(page.locator("mark.passage-mark")).to_have_count(1)  # only the other passage
    desk.close()


def test_on_a_phone_passage_comments_stand_under_their_paragraph(
        browser: Browser, live_server: LiveServer) -> None:
    first = save(live_server, TEXT)
    for quote, words in ((SENTENCE, "Goed idee, ik ken er twee."), (OTHER, "Welke cijfers?")):
        api(live_server, "POST", "/api/v1/pages/Plan/comments",
            {"body": words, "anchor": {"revision": first, "quote": quote}}, role="participant")
    phone = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844},
                                is_mobile=True, has_touch=True)
    page = phone.new_page()
    login(page, live_server, "reader")
    page.goto(live_server.url + "/p/Plan")
    inline = page.locator("main article.page .passage-inline")
    expect(inline).to_have_count(2)
    paragraph = page.locator("main article.page p", has_text=SENTENCE)
    expect(paragraph.locator("xpath=following-sibling::*[1]")).to_contain_text(
        "Goed idee, ik ken er twee.")
    assert page.locator("#passage-margin").count() == 0
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing sticks out sideways
    paragraph.scroll_into_view_if_needed()
    shot(page, "phone-passage-comments")
    phone.close()
