"""The Dutch interface shows no English: every main screen, read in a real browser.

The visible text of each screen (its lines, its title, and the title, aria-label,
placeholder and alt attributes) is compared with the catalogs: a text that is an
English msgid, whose Dutch translation differs and which is no Dutch text itself,
is a leak. What people wrote (page text, comments, commit messages, diffs) is left
out, and so are the account names the test server starts with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po
from playwright.sync_api import Browser, Page

from tests.conftest import PASSWORDS, LiveServer
from tests.e2e.conftest import login

CATALOGS = Path(__file__).resolve().parent.parent.parent / "translations"
# What people wrote, not the interface: page text, previews, comments, diffs, messages.
WRITTEN = ("article.page", "#preview", ".comment-body", "textarea", "table.diff", ".blame .text",
           ".timeline .msg", ".snippet", "blockquote", "pre", "code", ".chapter-choice",
           "#outline-pages .name", "select#add", "select#ref")
ACCOUNT_NAMES = set(PASSWORDS)  # "participant" the account, not the role
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}|%[sd]")
VISIBLE_TEXT = """(written) => {
  const hidden = [...document.querySelectorAll(written.join(","))]
    .map(el => [el, el.style.getPropertyValue("display")]);
  hidden.forEach(([el]) => el.style.setProperty("display", "none"));
  const lines = document.body.innerText.split("\\n");
  hidden.forEach(([el, display]) => el.style.setProperty("display", display));
  const inside = (el) => written.some(sel => el.closest(sel));
  for (const el of document.querySelectorAll("[title],[aria-label],[placeholder],[alt]")) {
    if (inside(el)) continue;
    for (const name of ["title", "aria-label", "placeholder", "alt"]) {
      const value = el.getAttribute(name);
      if (value) lines.push(value);
    }
  }
  lines.push(document.title);
  return lines.map(l => l.replace(/\\s+/g, " ").trim()).filter(Boolean);
}"""


@dataclass(frozen=True)
class EnglishText:
    """A catalog text whose Dutch differs, as a pattern over one visible line."""

    msgid: str
    pattern: re.Pattern[str]
    whole_line: bool  # short texts only count when they are the whole line

    def found_in(self, line: str) -> bool:
        if self.whole_line:
            return self.pattern.fullmatch(line) is not None
        return self.pattern.search(line) is not None


def pattern_of(msgid: str) -> tuple[re.Pattern[str], int]:
    """A regex for the text as a screen shows it (tags gone, placeholders any text), and
    how many words it has besides the placeholders."""
    plain = " ".join(re.sub(r"<[^>]+>", "", msgid).split())
    literals = PLACEHOLDER.split(plain)
    regex = ".+?".join(r"\s*".join(re.escape(word) for word in part.split(" ")) if part.strip()
                       else "" for part in literals)
    words = sum(len(part.split()) for part in literals)
    return re.compile(regex), words


@cache
def english_texts() -> tuple[EnglishText, ...]:
    """Every English msgid whose Dutch translation differs and is not Dutch itself.

    The msgids come from the committed English catalog (the .pot is made anew by
    extraction and not committed; tests/web/test_i18n.py keeps both catalogs
    complete)."""
    with open(CATALOGS / "nl" / "LC_MESSAGES" / "messages.po", "rb") as f:
        dutch = {m.id: m.string for m in read_po(f) if m.id}
    with open(CATALOGS / "en" / "LC_MESSAGES" / "messages.po", "rb") as f:
        english = [m.id for m in read_po(f) if m.id]
    dutch_texts = {" ".join(str(s).split()) for value in dutch.values()
                   for s in (value if isinstance(value, tuple) else (value,)) if s}
    found = []
    for msgid in english:
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        translated = dutch.get(msgid)
        forms = translated if isinstance(translated, tuple) else (translated,) * len(ids)
        for text, dutch_form in zip(map(str, ids), forms, strict=False):
            plain = " ".join(text.split())
            if not plain or plain == " ".join(str(dutch_form or "").split()) \
                    or plain in dutch_texts:
                continue
            regex, words = pattern_of(text)
            has_placeholder = PLACEHOLDER.search(text) is not None
            if words == 0 or (has_placeholder and words < 2):
                continue  # "%(name)s" alone matches anything
            found.append(EnglishText(text, regex, whole_line=words < 3))
    return tuple(found)


def leaks_on(page: Page) -> list[tuple[str, str]]:
    """(visible line, English msgid) for each English text the page shows."""
    lines = page.evaluate(VISIBLE_TEXT, list(WRITTEN))
    return [(line, text.msgid) for line in lines if line not in ACCOUNT_NAMES
            for text in english_texts() if text.found_in(line)]


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
    assert {path: found for path, found in leaks.items() if found} == {}


def test_the_leak_finder_finds_english_on_an_english_screen(
        browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    login(page, live_server, "facilitator")
    page.goto(live_server.url + "/admin/room")
    found = {msgid for _, msgid in leaks_on(page)}
    assert {"Control room", "Nobody is editing right now.", "Recent changes"} <= found
    context.close()
