"""The workshop around the text in a real browser: invites, comments, presence, drafts."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.conftest import LiveServer, cli
from tests.e2e.conftest import login, shot

# workshop.js beats every 10 s, so seeing a change of the other editor can take two beats.
BEATS = 30_000


def new_context(browser: Browser) -> BrowserContext:
    return browser.new_context(locale="en-US", viewport={"width": 1280, "height": 860})


def add_participant(server: LiveServer, name: str, email: str, password: str) -> None:
    done = cli(server.data_dir, "adduser", name, "--email", email, "--role", "participant",
               "--password-stdin", stdin=password + "\n")
    assert done.returncode == 0, done.stderr


def log_in_as(page: Page, server: LiveServer, name: str, password: str) -> None:
    page.goto(server.url + "/login")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("form.stack button")
    page.wait_for_url(server.url + "/p/Home")


def test_invited_person_edits_and_comments_and_facilitator_hides_the_comment(
        browser: Browser, live_server: LiveServer) -> None:
    host, guest = new_context(browser), new_context(browser)
    facilitator, dana = host.new_page(), guest.new_page()
    login(facilitator, live_server, "facilitator")
    facilitator.goto(live_server.url + "/admin/users")
    invite_form = facilitator.locator('form[action$="/admin/invites"]')
    invite_form.locator("select[name=role]").select_option("participant")
    invite_form.locator("button").click()
    link = facilitator.locator("#invite-url")  # the invite page, with its QR code
    expect(link).to_have_value(re.compile(r"/invite/\S+$"))
    expect(facilitator.locator("figure.qr-code svg")).to_be_visible()
    shot(facilitator, "invite")

    dana.goto(link.input_value())
    join = dana.locator('form[action*="/invite/"]')
    join.locator("input[name=name]").fill("Dana de Vries")
    join.locator("input[name=email]").fill("dana@example.org")
    join.locator("input[name=password]").fill("dana-pass-123")
    join.locator("button").click()
    dana.wait_for_url(live_server.url + "/welcome")
    expect(dana.locator("header .who")).to_contain_text("Dana de Vries")

    dana.goto(live_server.url + "/p/Home/edit")
    area = dana.locator("#markdown")
    area.fill(area.input_value() + "\nDana vult de inleiding aan.\n")
    dana.fill("#message", "Inleiding aangevuld")
    dana.click(".save-row button")
    dana.wait_for_url(live_server.url + "/p/Home")
    expect(dana.locator("article.page")).to_contain_text("Dana vult de inleiding aan.")
    dana.goto(live_server.url + "/p/Home/history")
    latest = dana.locator(".timeline li").first
    expect(latest.locator("strong")).to_have_text("Dana de Vries")
    expect(latest).to_contain_text("Inleiding aangevuld")

    dana.goto(live_server.url + "/p/Home")
    dana.fill("#new-comment", "Moeten we **de enquête** niet eerder noemen?")
    dana.locator("form.new-comment button").click()
    comment = dana.locator("#comments article.comment", has_text="niet eerder noemen")
    expect(comment.locator(".comment-body strong")).to_have_text("de enquête")
    expect(comment.locator(".author")).to_have_text("Dana de Vries")
    selector = "#" + str(comment.get_attribute("id"))

    facilitator.goto(live_server.url + "/p/Home")
    theirs = facilitator.locator(selector)
    hide = theirs.locator('form[action$="/hide"]')
    theirs.locator('details:has(form[action$="/hide"]) > summary').click()
    hide.locator("input[name=reason]").fill("Dubbel met de inleiding")
    hide.locator("button").click()
    theirs = facilitator.locator(selector)
    expect(theirs).to_have_class(re.compile(r"\bis-hidden\b"))
    expect(theirs.locator("header .tag.warn")).to_contain_text("Dubbel met de inleiding")
    expect(theirs.locator(".comment-body")).to_contain_text("niet eerder noemen")
    expect(theirs.locator('form[action$="/unhide"]')).to_have_count(1)
    facilitator.locator("#reactions").evaluate("bar => bar.scrollIntoView()")
    shot(facilitator, "comments")

    for url in ("/p/Home", "/p/Home/comments"):
        dana.goto(live_server.url + url)
        expect(dana.locator("#comments")).to_be_visible()
        expect(dana.locator(selector)).to_have_count(0)
        expect(dana.locator("#comments")).not_to_contain_text("niet eerder noemen")
    host.close()
    guest.close()


def test_two_editors_of_one_page_see_each_other_and_unsaved_changes(
        browser: Browser, live_server: LiveServer) -> None:
    add_participant(live_server, "Anna Jansen", "anna@example.org", "anna-pass-123")
    first, second = new_context(browser), new_context(browser)
    anna, bert = first.new_page(), second.new_page()
    log_in_as(anna, live_server, "Anna Jansen", "anna-pass-123")
    login(bert, live_server, "participant")
    with anna.expect_response(lambda r: r.url.endswith("/presence")
                              and r.request.method == "POST"):
        anna.goto(live_server.url + "/p/Home/edit")
    expect(anna.locator("#presence")).to_be_hidden()
    bert.goto(live_server.url + "/p/Home/edit")

    expect(bert.locator("#presence strong")).to_have_text(["Anna Jansen"])
    expect(anna.locator("#presence strong")).to_have_text(["participant"], timeout=BEATS)
    expect(anna.locator("#presence")).not_to_have_class(re.compile(r"\bwarn\b"))

    bert.locator("#markdown").press("Control+End")
    bert.locator("#markdown").type("\nBert schrijft iets dat nog niet bewaard is.\n")
    warning = anna.locator("#presence")
    expect(warning).to_have_class(re.compile(r"\bwarn\b"), timeout=BEATS)
    expect(warning).to_contain_text("unsaved changes")
    expect(warning.locator("strong")).to_have_text(["participant"])
    expect(bert.locator("#presence")).not_to_have_class(re.compile(r"\bwarn\b"))
    first.close()
    second.close()


def test_autosaved_draft_comes_back_after_closing_the_editor_and_goes_after_saving(
        browser: Browser, live_server: LiveServer) -> None:
    context = new_context(browser)
    page = context.new_page()
    login(page, live_server, "participant")
    page_api = live_server.url + "/api/v1/pages/Home"
    before = context.request.get(page_api).json()
    page.goto(live_server.url + "/p/Home/edit")
    typed = before["markdown"] + "\nEen halve gedachte die nog niet af is.\n"
    with page.expect_response(lambda r: r.url == page_api + "/draft"
                              and r.request.method == "PUT", timeout=15_000) as put:
        page.fill("#markdown", typed)
    assert put.value.ok, put.value.text()
    draft = context.request.get(page_api + "/draft")
    assert draft.status == 200
    assert draft.json()["markdown"] == typed
    assert draft.json()["base_revision"] == before["revision"]
    page.close()

    page = context.new_page()
    page.goto(live_server.url + "/p/Home/edit")
    offer = page.locator(".draft-offer")
    expect(offer).to_be_visible()
    expect(page.locator("#markdown")).to_have_value(before["markdown"])
    after_close = context.request.get(page_api).json()
    assert (after_close["revision"], after_close["markdown"]) == (before["revision"],
                                                                   before["markdown"])
    offer.locator("button").first.click()
    expect(offer).to_have_count(0)
    expect(page.locator("#markdown")).to_have_value(typed)

    page.click(".save-row button")
    page.wait_for_url(live_server.url + "/p/Home")
    expect(page.locator("article.page")).to_contain_text("Een halve gedachte")
    saved = context.request.get(page_api).json()
    assert saved["markdown"] == typed and saved["revision"] != before["revision"]
    assert context.request.get(page_api + "/draft").status == 204
    page.goto(live_server.url + "/p/Home/edit")
    expect(page.locator("#markdown")).to_have_value(typed)
    expect(page.locator(".draft-offer")).to_have_count(0)
    context.close()
