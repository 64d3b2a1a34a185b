"""Starting pages in a real browser: a facilitator's chapter template, and a Word document."""

from __future__ import annotations

import subprocess
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, expect

from tests.conftest import LiveServer
from tests.docx_support import docx, png
from tests.e2e.conftest import login, shot


def new_context(browser: Browser) -> BrowserContext:
    return browser.new_context(locale="en-US", viewport={"width": 1280, "height": 860})


def last_commit(server: LiveServer) -> list[str]:
    done = subprocess.run(["git", "--git-dir", str(server.data_dir / "repo.git"), "log", "-1",
                           "--format=%an", "--name-only"], capture_output=True, text=True,
                          check=True, timeout=60)
    return done.stdout.split()


def test_a_facilitator_template_starts_a_participants_page(browser: Browser,
                                                           live_server: LiveServer) -> None:
    host, guest = new_context(browser), new_context(browser)
    facilitator, participant = host.new_page(), guest.new_page()
    login(facilitator, live_server, "facilitator")
    facilitator.goto(live_server.url + "/admin/templates")
    form = facilitator.locator("form.template-form")
    form.locator("#template-name").fill("Hoofdstuk: vraag, aanpak, resultaat")
    form.locator("#template-text").fill(
        "# {title}\n\n## Probleem\n\nWat is het probleem?\n\n## Aanpak\n\n## Resultaat\n")
    form.locator("button").click()
    expect(facilitator.locator(".flashes")).to_contain_text("added")
    expect(facilitator.locator("ul.templates")).to_contain_text("vraag, aanpak, resultaat")

    login(participant, live_server, "participant")
    participant.goto(live_server.url + "/new")
    participant.fill("#name", "Hoofdstuk 2/Markt")
    participant.select_option("#template", label="Hoofdstuk: vraag, aanpak, resultaat")
    shot(participant, "new-page-template")
    participant.click("form[action$='/new'] button")
    area = participant.locator("#markdown")
    expect(area).to_have_value(
        "# Markt\n\n## Probleem\n\nWat is het probleem?\n\n## Aanpak\n\n## Resultaat\n")
    area.fill(area.input_value().replace("Wat is het probleem?", "Klanten vinden ons niet."))
    participant.click(".save-row button")
    participant.wait_for_url(live_server.url + "/p/Hoofdstuk%202/Markt")
    expect(participant.locator("article.page h2").first).to_have_text("Probleem")
    expect(participant.locator("article.page")).to_contain_text("Klanten vinden ons niet.")


def test_a_word_document_is_imported_through_the_browser(browser: Browser,
                                                         live_server: LiveServer,
                                                         tmp_path: Path) -> None:
    page = new_context(browser).new_page()
    login(page, live_server, "participant")
    document = tmp_path / "Verslag werksessie.docx"
    document.write_bytes(docx())
    page.goto(live_server.url + "/new")
    page.set_input_files("#docx-file", str(document))
    page.click("form[action$='/import/docx'] button")
    page.wait_for_url(live_server.url + "/p/Verslag%20werksessie")
    article = page.locator("article.page")
    expect(article.locator("h1")).to_have_text("Aanpak van het probleem")
    expect(article.locator("h2").first).to_have_text("Resultaten")
    expect(article.locator("table td").first).to_have_text("Anna")
    image = article.locator("img[alt='Een rode stip']")
    expect(image).to_have_attribute("src", "/attachments/Verslag-werksessie-1.png")
    assert image.evaluate("img => img.complete && img.naturalWidth") == 1
    assert page.request.get(live_server.url + "/attachments/Verslag-werksessie-1.png"
                            ).body() == png()
    assert last_commit(live_server) == ["participant", "Verslag", "werksessie.md",
                                        "attachments/Verslag-werksessie-1.png"]

    page.goto(live_server.url + "/new")  # again: the page has text now, so it is refused
    page.set_input_files("#docx-file", str(document))
    page.click("form[action$='/import/docx'] button")
    expect(page.locator("#docx-error")).to_contain_text("already exists")
