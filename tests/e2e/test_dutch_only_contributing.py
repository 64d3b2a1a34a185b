"""The Dutch interface shows no English where people contribute: notifications and their
e-mail, suggestions (with the "With git" fold open), chapter templates and Word imports.

Everything is made through the real app by Dutch participants in a real browser, and
each screen, e-mail and confirmation question is read as tests/e2e/dutch_support.py
says. The commit messages here are all written by the wiki (in its language, Dutch by
default) or in Dutch, so the history is read too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect

from tests.conftest import LiveServer, cli, free_port
from tests.docx_support import docx
from tests.e2e.conftest import SHOTS, login
from tests.e2e.dutch_support import WRITTEN, assert_dutch, english_in, leaks_on
from tests.wiki.test_mailer import SmtpServer, body
from wiki.config import Settings
from wiki.datadir import open_data_dir
from wiki.mailer import Waiting
from wiki.notifications import KINDS

CHAPTER = "Hoofdstuk 1/Markt"
TEXT = ("# Markt\n\nKlanten oriënteren zich eerst online.\n\n"
        "De coördinatie tussen teams is het grootste knelpunt.\n\n"
        "Eén consistente toon werkt beter dan tien losse campagnes.\n")
TEMPLATE = "Hoofdstuk: vraag, aanpak, resultaat"
# The commit messages are the wiki's or Dutch here: the history is read too.
READ_HISTORY = tuple(s for s in WRITTEN if s != ".timeline .msg")


def leaks(page: Page, written: tuple[str, ...] = WRITTEN) -> list[tuple[str, str]]:
    """What is English on `page`, which must be in Dutch."""
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.lang") == "nl", page.url
    return leaks_on(page, written)


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A real SMTP server the live server (started after this) mails notifications to."""
    server = SmtpServer(free_port())
    server.up()
    for name, value in (("SMTP_HOST", "127.0.0.1"), ("SMTP_PORT", str(server.port)),
                        ("SMTP_STARTTLS", "false"), ("SMTP_FROM", "wiki@example.org"),
                        ("BASE_URL", "https://wiki.example.org/")):
        monkeypatch.setenv("COWIKI_" + name, value)
    yield server
    server.down()


def dutch(browser: Browser, server: LiveServer, role: str, width: int = 1280,
          height: int = 860) -> Page:
    """A logged-in browser page of a Dutch `role`."""
    context: BrowserContext = browser.new_context(
        locale="nl-NL", viewport={"width": width, "height": height},
        device_scale_factor=1 if width > 600 else 2, timezone_id="Europe/Amsterdam")
    page = context.new_page()
    login(page, server, role)
    return page


def suggest(page: Page, server: LiveServer, old: str, new: str, note: str) -> str:
    """Suggest replacing `old` by `new` on the chapter from its editor; the suggestion's URL."""
    page.goto(f"{server.url}/p/{CHAPTER}/edit")
    area = page.locator("#markdown")
    area.fill(area.input_value().replace(old, new))
    page.fill("#message", note)
    page.click("#suggest")
    page.wait_for_url(re.compile(r"/suggestions/\d+$"))
    return page.url


def test_notifications_their_mail_and_suggestions_are_dutch(
        browser: Browser, smtp: SmtpServer, live_server: LiveServer) -> None:
    url, api = live_server.url, live_server.url + "/api/v1"
    host = live_server.session("facilitator")
    assert host.put(f"{api}/pages/{CHAPTER}", json={"markdown": TEXT}).ok
    found: dict[str, list[tuple[str, str]]] = {}
    writer, decider = dutch(browser, live_server, "participant"), \
        dutch(browser, live_server, "facilitator")

    writer.goto(url + "/account")
    writer.check("input[name=email][value=immediate]")
    writer.locator("form[action$='/account/notifications'] button").click()
    found["e-mail choice saved"] = leaks(writer)
    writer.goto(f"{url}/p/{CHAPTER}")
    writer.locator(".follow-switch button").click()
    found["page followed"] = leaks(writer)
    no_suggestions = writer.locator("#suggestions-tab").inner_text()

    writer.goto(f"{url}/p/{CHAPTER}/edit")
    writer.click("#suggest")  # the text is unchanged: the suggestion is refused
    expect(writer.locator("#save-error")).to_be_visible()
    found["suggestion that changes nothing"] = leaks(writer)
    accepted = suggest(writer, live_server, "het grootste knelpunt", "het lastigste punt",
                       "Minder zwaar woord")
    found["suggestion made"] = leaks(writer)
    one_suggestion = writer.locator("#suggestions-tab").inner_text()
    if one_suggestion != f"{no_suggestions} (1)":  # one word for suggestions on the tab
        found["suggestions tab"] = [(no_suggestions, one_suggestion)]
    writer.locator("details summary", has_text="Met git").click()
    found["suggestion with git"] = leaks(writer)
    turned_down = suggest(writer, live_server, "eerst online", "eerst op internet",
                          "Gewoner woord")
    stale = suggest(writer, live_server, "tien losse campagnes", "twintig campagnes",
                    "Meer campagnes")

    mention = host.post(f"{api}/pages/{CHAPTER}/comments",
                        json={"body": "Wat vind jij hiervan, @participant?"}).json()
    asked = live_server.session("participant").post(
        f"{api}/pages/Home/comments", json={"body": "Klopt de inleiding nog?"}).json()
    assert host.post(f"{api}/pages/Home/comments",
                     json={"body": "Ja, die klopt.", "parent": asked["id"]}).ok
    assert live_server.session("participant").post(
        f"{api}/comments/{mention['id']}/report", json={"reason": "off-topic"}).ok

    decider.goto(accepted)
    found["suggestion to decide"] = leaks(decider)
    decider.fill("#accept-reason", "Goed punt")
    decider.click("#accept")
    expect(decider.locator(".flashes")).to_be_visible()
    found["suggestion accepted"] = leaks(decider)
    decider.goto(turned_down)
    decider.fill("#reject-reason", "Online is duidelijker")
    decider.click("#reject")
    expect(decider.locator(".flashes")).to_be_visible()
    found["suggestion turned down"] = leaks(decider)
    page = host.get(f"{api}/pages/{CHAPTER}").json()
    assert host.put(f"{api}/pages/{CHAPTER}", json={
        "markdown": page["markdown"].replace("tien losse campagnes", "vijf campagnes"),
        "base_revision": page["revision"]}).ok
    decider.goto(url + "/notifications")
    found["notifications of a facilitator"] = leaks(decider)

    writer.goto(f"{url}/p/{CHAPTER}")
    expect(writer.locator("#bell .badge")).to_be_visible()
    found["page with the bell lit"] = leaks(writer)
    writer.locator("#bell").click()
    expect(writer.locator(".notification.is-unread")).to_have_count(5)
    found["notifications"] = leaks(writer)
    for name, address in (("accepted", accepted), ("turned down", turned_down),
                          ("no longer applies", stale)):
        writer.goto(address)
        found[f"suggestion {name}"] = leaks(writer)
    writer.locator("#suggestion-conflict a").click()
    found["suggestion redone"] = leaks(writer)
    assert writer.locator("#markdown").evaluate(  # the text to redo has the form's width
        "area => area.offsetWidth >= area.form.offsetWidth - 1")
    for path in (f"/p/{CHAPTER}/suggestions", "/changes", f"/p/{CHAPTER}/history"):
        writer.goto(url + path)
        found[path] = leaks(writer, READ_HISTORY)

    writer.goto(url + "/notifications")
    writer.locator("form.mark-all button").click()
    expect(writer.locator(".notification.is-unread")).to_have_count(0)
    found["notifications all read"] = leaks(writer)
    reader = dutch(browser, live_server, "reader")
    reader.goto(url + "/notifications")
    found["no notifications"] = leaks(reader)

    mails = [m for m in smtp.inbox.wait_for(5) if m["To"] == "participant@example.org"]
    assert len(mails) >= 4, [m["Subject"] for m in smtp.inbox.messages]
    for mail in mails:
        found[f"mail {mail['Subject']}"] = english_in(
            [str(mail["Subject"])] + [line.strip() for line in body(mail).splitlines()])
    assert_dutch(found)


def test_chapter_templates_and_word_imports_are_dutch(
        browser: Browser, live_server: LiveServer, tmp_path: Path) -> None:
    url = live_server.url
    found: dict[str, list[tuple[str, str]]] = {}
    host, writer = dutch(browser, live_server, "facilitator"), \
        dutch(browser, live_server, "participant")

    host.goto(url + "/admin/templates")
    found["templates"] = leaks(host)
    form = host.locator("form.template-form")
    form.locator("#template-name").fill(TEMPLATE)
    form.locator("#template-text").fill("# {title}\n\n## Vraag\n\n## Aanpak\n\n## Resultaat\n")
    form.locator("button").click()
    expect(host.locator(".flashes")).to_be_visible()
    found["template added"] = leaks(host)
    host.locator("ul.templates a", has_text=TEMPLATE).click()
    found["template to change"] = leaks(host)
    form.locator("#template-name").fill("   ")  # a name of spaces: refused
    form.locator("button").click()
    expect(host.locator("#template-error")).to_be_visible()
    found["template refused"] = leaks(host)
    questions: list[str] = []

    def answer(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.accept()

    host.on("dialog", answer)
    host.goto(url + "/admin/templates")
    host.locator("ul.templates li").first.locator("button").click()
    expect(host.locator(".flashes")).to_be_visible()
    found["template removed"] = leaks(host) + english_in(questions)
    assert len(questions) == 1

    writer.goto(url + "/new")
    writer.fill("#name", "Hoofdstuk 2/Markt")
    writer.select_option("#template", label=TEMPLATE)
    found["new page from a template"] = leaks(writer)
    writer.click("form[action$='/new'] button")
    expect(writer.locator("#markdown")).to_have_value(re.compile("## Vraag"))
    found["editor with the template"] = leaks(writer)

    document, not_word = tmp_path / "Verslag werksessie.docx", tmp_path / "Notities.docx"
    document.write_bytes(docx())
    not_word.write_text("Dit is platte tekst.\n")
    for attempt, file in (("not a Word document", not_word), ("imported", document),
                          ("refused", document)):
        writer.goto(url + "/new")
        writer.set_input_files("#docx-file", str(file))
        writer.click("form[action$='/import/docx'] button")
        if attempt == "imported":
            writer.wait_for_url(url + "/p/Verslag%20werksessie")
            expect(writer.locator(".flashes p")).to_have_count(2)
        else:
            expect(writer.locator("#docx-error")).to_be_visible()
        found[f"Word document {attempt}"] = leaks(writer)
    folder = tmp_path / "notities"
    folder.mkdir()
    (folder / "Ideeën.md").write_text("# Ideeën\n\nLosse ideeën van de ochtend.\n")
    done = cli(live_server.data_dir, "import", str(folder), "--author", "participant")
    assert done.returncode == 0, done.stderr
    for path in ("/changes", "/p/Verslag werksessie/history"):
        writer.goto(url + path)
        found[path] = leaks(writer, READ_HISTORY)
    assert_dutch(found)


WITHIN = """([el, box]) => {
  const r = el.getBoundingClientRect(), b = box ? box.getBoundingClientRect()
    : {left: 0, right: window.innerWidth};
  return r.width > 0 && r.left >= b.left - 0.5 && r.right <= b.right + 0.5;
}"""
LINES = """el => { const range = document.createRange(); range.selectNodeContents(el);
  return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; }"""


@pytest.mark.parametrize(("device", "width", "height"),
                         [("phone", 390, 844), ("desktop", 1280, 860)])
def test_a_suggestion_with_its_git_ref_fits_a_phone_and_a_desktop(
        browser: Browser, live_server: LiveServer, tmp_path: Path, device: str, width: int,
        height: int) -> None:
    """The screenshots of docs/screenshots (in CI they go to a temporary folder)."""
    assert live_server.session("facilitator").put(
        f"{live_server.url}/api/v1/pages/{CHAPTER}", json={"markdown": TEXT}).ok
    writer = dutch(browser, live_server, "participant", width, height)
    suggest(writer, live_server, "het grootste knelpunt", "het lastigste punt",
            "Minder zwaar woord")
    assert live_server.session("facilitator").post(  # the writer's bell shows a count
        f"{live_server.url}/api/v1/pages/{CHAPTER}/comments",
        json={"body": "Goed idee, @participant."}).ok
    writer.reload()
    expect(writer.locator("#bell .badge")).to_be_visible()
    assert writer.evaluate("document.documentElement.scrollWidth") <= width
    decider = dutch(browser, live_server, "facilitator", width, height)
    decider.goto(writer.url)
    decider.locator("details summary", has_text="Met git").click()
    ref, copy = decider.locator("#suggestion-ref"), decider.locator("[data-copy=suggestion-ref]")
    expect(ref).to_have_text("git fetch origin refs/suggestions/1")
    expect(copy).to_be_visible()
    assert ref.evaluate(LINES) == 1  # the command is not broken over two lines
    tab, tabs = decider.locator("#suggestions-tab"), decider.locator(".tabs")
    assert decider.evaluate(WITHIN, [tab.element_handle(), tabs.element_handle()])
    for element in (ref, copy, decider.locator("#accept"), decider.locator("#reject"),
                    decider.locator("#accept-reason"), decider.locator("#reject-reason")):
        assert decider.evaluate(WITHIN, [element.element_handle(), None]), element
    assert decider.evaluate("document.documentElement.scrollWidth") <= width
    assert decider.evaluate("document.documentElement.lang") == "nl"
    folder = tmp_path if os.environ.get("CI") == "true" else SHOTS
    prefix = "phone-" if device == "phone" else ""
    decider.screenshot(path=str(folder / f"{prefix}suggestion-git-nl.png"))


def test_a_dutch_digest_of_every_kind_of_notification_is_dutch(tmp_path: Path,
                                                              database_url: str) -> None:
    wiki = open_data_dir(Settings.load({
        "data_dir": str(tmp_path / "data"), "smtp_host": "127.0.0.1", "smtp_port": free_port(),
        "base_url": "https://wiki.example.org/"}))
    assert wiki.mailer is not None
    batch = [Waiting(number, 1, "Fenna Visser", "fenna@example.org", "nl", "digest", kind,
                     CHAPTER, "Sanne de Vries", "Kun je hiernaar kijken?", f"/p/{CHAPTER}",
                     0.0) for number, kind in enumerate(KINDS)]
    subject, text = wiki.mailer.message(batch, "nl")
    lines = [subject] + [line.strip(" -") for line in text.splitlines()]
    assert len(lines) > 2 * len(KINDS)
    assert english_in(lines) == []
