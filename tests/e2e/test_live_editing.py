"""Live co-editing in real browsers: several people type into one page at once.

Each person is a separate browser context logged in as a separate account. They
type with the keyboard (Dutch letters and an emoji), into the same paragraph and
into different ones; every screen and git end with the same text, and git holds
commits per person with only that person's lines, which blame credits to them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.conftest import LiveServer, cli, start_server
from tests.e2e.conftest import login, shot
from tests.web.git_client import GitClient
from wiki.live.journal import journal_path

PAGE = "Plan"
START = "# Plan\n\nEerste alinea.\n\nTweede alinea.\n\nDerde alinea.\n"
PEOPLE = ("Anna", "Bert", "Chris")
LIVE = "Live: everyone editing this page sees your changes as you type."
LIVE_NL = "Live: iedereen die deze pagina bewerkt, ziet je wijzigingen terwijl je typt."
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAE"
       "lFTkSuQmCC")
WAIT = 20_000  # ms: a keystroke reaches the other screens in well under a second


def password(name: str) -> str:
    return f"{name.lower()}-live-pass-1"


def email(name: str) -> str:
    return f"{name.lower()}@example.org"


def add_participant(server: LiveServer, name: str) -> None:
    done = cli(server.data_dir, "adduser", name, "--email", email(name), "--role",
               "participant", "--password-stdin", stdin=password(name) + "\n")
    assert done.returncode == 0, done.stderr


def context(browser: Browser, width: int = 1280, height: int = 860) -> BrowserContext:
    return browser.new_context(locale="en-US", viewport={"width": width, "height": height})


def log_in(page: Page, server: LiveServer, name: str) -> None:
    page.goto(server.url + "/login")
    page.fill("#name", name)
    page.fill("#password", password(name))
    page.click("form.stack button")
    page.wait_for_url(server.url + "/p/Home")


def open_live(page: Page, server: LiveServer) -> None:
    """Open the page's editor and wait for the live editor in place of the textarea."""
    page.goto(f"{server.url}/p/{PAGE}/edit")
    expect(page.locator("#live-editor")).to_be_visible(timeout=WAIT)
    status = LIVE_NL if page.evaluate("document.documentElement.lang") == "nl" else LIVE
    expect(page.locator("#live-status")).to_have_text(status, timeout=WAIT)
    expect(page.locator("#markdown")).to_be_hidden()
    expect(page.locator("#suggest")).to_be_hidden()  # live typing is shared, not suggested


def text_of(page: Page) -> str:
    """The text on this screen (the hidden textarea follows the live editor)."""
    return str(page.evaluate("document.getElementById('markdown').value"))


def go_to_line(page: Page, line: int, end: bool) -> None:
    page.locator("#live-editor .cm-content").click()
    page.keyboard.press("Control+Home")
    for _ in range(line):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("End" if end else "Home")


def type_together(typing: list[tuple[Page, str]], chunk: int = 4) -> None:
    """Everyone types their text at the same time, a few keys each in turn."""
    longest = max(len(text) for _page, text in typing)
    for at in range(0, longest, chunk):
        for page, text in typing:
            if text[at:at + chunk]:
                page.keyboard.type(text[at:at + chunk])


def same_everywhere(pages: list[Page], *parts: str) -> str:
    """Wait until every screen shows one text containing all `parts`; that text."""
    deadline = time.monotonic() + WAIT / 1000
    while True:
        texts = [text_of(p) for p in pages]
        if len(set(texts)) == 1 and all(part in texts[0] for part in parts):
            return texts[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"screens differ or miss {parts}: {texts}")
        time.sleep(0.1)


def save_version(page: Page) -> None:
    page.click("#live-save")
    expect(page.locator("#live-saved")).to_have_text("Saved as a version.", timeout=WAIT)


def git(server: LiveServer, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(server.data_dir / "repo.git"), *args],
                          capture_output=True, text=True, check=True).stdout


def saved_text(server: LiveServer) -> str:
    return str(server.session("facilitator").get(
        f"{server.url}/api/v1/pages/{PAGE}", timeout=10).json()["markdown"])


def live_pid(server: LiveServer) -> int:
    """The live process `cowiki serve` started (a child of the gunicorn master)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            command = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == server.process.pid and b"cowiki.live" in command:
            return int(proc.name)
    raise AssertionError("no live process beside the server")


@pytest.fixture(autouse=True)
def classic_editor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Live editing on (tests/e2e/conftest.py switches it off for the other browser tests)."""
    monkeypatch.delenv("COWIKI_LIVE", raising=False)


@pytest.fixture
def room(browser: Browser, live_server: LiveServer) -> Iterator[dict[str, Page]]:
    """Anna, Bert and Chris, each in their own browser, in the live editor of Plan."""
    answer = live_server.session("facilitator").put(
        f"{live_server.url}/api/v1/pages/{PAGE}", json={"markdown": START}, timeout=10)
    assert answer.status_code == 201, answer.text
    contexts, pages = [], {}
    for name in PEOPLE:
        add_participant(live_server, name)
        contexts.append(context(browser))
        pages[name] = contexts[-1].new_page()
        log_in(pages[name], live_server, name)
        open_live(pages[name], live_server)
    yield pages
    for each in contexts:
        each.close()


def test_three_people_type_at_once_and_git_credits_each_line(
        room: dict[str, Page], live_server: LiveServer) -> None:
    anna, bert, chris = (room[name] for name in PEOPLE)
    start = git(live_server, "rev-parse", "refs/heads/main").strip()
    lines = {
        "Anna": "Anna: één café met crème brûlée 😀",   # same paragraph as Bert, below
        "Bert": "Bert: het idee wordt steeds beter, zeë",  # same paragraph, above
        "Chris": "Chris: tot slot nog één punt 🎉",         # another paragraph
    }
    go_to_line(anna, 2, end=True)
    go_to_line(bert, 2, end=False)
    go_to_line(chris, 6, end=True)
    type_together([(anna, "\n" + lines["Anna"]), (bert, lines["Bert"] + "\n"),
                   (chris, "\n" + lines["Chris"])])
    text = same_everywhere(list(room.values()), *lines.values())
    assert text == ("# Plan\n\n" + lines["Bert"] + "\nEerste alinea.\n" + lines["Anna"]
                    + "\n\nTweede alinea.\n\nDerde alinea.\n" + lines["Chris"] + "\n")
    expect(chris.locator("#preview")).to_contain_text(lines["Chris"], timeout=WAIT)
    expect(chris.locator(".cm-ySelectionInfo", has_text="Anna")).to_be_visible()
    expect(chris.locator(".cm-ySelectionInfo", has_text="Bert")).to_be_visible()
    shot(chris, "live-editing")

    save_version(anna)
    assert saved_text(live_server) == text
    # Every commit since is one person's, adding only that person's line.
    commits = git(live_server, "log", "--format=%H %ae", f"{start}..refs/heads/main").split("\n")
    authors = {}
    for entry in filter(None, commits):
        sha, author = entry.split()
        added = [line[1:] for line in git(live_server, "show", "--format=", "--unified=0",
                                          sha, "--", f"{PAGE}.md").splitlines()
                 if line.startswith("+") and not line.startswith("+++")]
        name = author.split("@")[0].capitalize()
        authors.setdefault(name, 0)
        authors[name] += 1
        assert all(part == "" or part.startswith(name + ":") for part in added), (name, added)
    assert set(authors) == set(PEOPLE), authors
    blame = git(live_server, "blame", "--line-porcelain", "refs/heads/main", "--", f"{PAGE}.md")
    credited = {}
    mail = ""
    for line in blame.splitlines():
        if line.startswith("author-mail "):
            mail = line.split()[1].strip("<>")
        elif line.startswith("\t") and ":" in line:
            credited[line[1:].split(":")[0]] = mail
    assert credited == {name: email(name) for name in PEOPLE}


def test_a_push_during_the_session_shows_up_live_and_loses_nothing(
        room: dict[str, Page], live_server: LiveServer, tmp_path: Path) -> None:
    anna, bert = room["Anna"], room["Bert"]
    git_client = GitClient.in_folder(tmp_path)
    work = git_client.clone(live_server, "facilitator", "work")
    go_to_line(anna, 2, end=True)
    anna.keyboard.type(" Anna typt door terwijl er gepusht wordt.")
    pushed = START.replace("Derde alinea.", "Derde alinea, via git.")
    git_client.commit_file(work, f"{PAGE}.md", pushed.encode(), "Via git")
    git_client.run("push", "-q", "origin", "HEAD:main", cwd=work)
    anna.keyboard.type(" Nog één zin ë.")
    text = same_everywhere(list(room.values()), "via git",
                           "Anna typt door terwijl er gepusht wordt. Nog één zin ë.")
    save_version(bert)
    assert saved_text(live_server) == text
    assert "Via git" in git(live_server, "log", "--format=%s", "-n", "5", "refs/heads/main")


def test_killing_the_live_process_loses_nothing_acknowledged_and_browsers_reconnect(
        room: dict[str, Page], live_server: LiveServer) -> None:
    anna, bert = room["Anna"], room["Bert"]
    go_to_line(anna, 4, end=True)
    anna.keyboard.type(" Voor de crash: één.")
    same_everywhere(list(room.values()), "Voor de crash: één.")  # acknowledged: others have it
    os.kill(live_pid(live_server), signal.SIGKILL)
    expect(anna.locator("#live-status")).not_to_have_text(LIVE, timeout=WAIT)
    anna.keyboard.type(" Tijdens het wachten.")
    for page in room.values():
        expect(page.locator("#live-status")).to_have_text(LIVE, timeout=WAIT)
    go_to_line(bert, 6, end=True)
    bert.keyboard.type(" Na de crash: café.")
    text = same_everywhere(list(room.values()), "Voor de crash: één. Tijdens het wachten.",
                           "Na de crash: café.")
    save_version(bert)
    assert saved_text(live_server) == text


def test_a_lost_room_saves_the_browsers_text_by_the_three_way_merge(
        browser: Browser, live_server: LiveServer) -> None:
    """The live process dies with its journal and the page moves on meanwhile: the
    browser's text cannot join the new room, so it is saved the classic way, merged."""
    facilitator = live_server.session("facilitator")
    url = f"{live_server.url}/api/v1/pages/{PAGE}"
    assert facilitator.put(url, json={"markdown": START}, timeout=10).status_code == 201
    add_participant(live_server, "Anna")
    anna = context(browser).new_page()
    log_in(anna, live_server, "Anna")
    open_live(anna, live_server)
    go_to_line(anna, 2, end=True)
    anna.keyboard.type(" Anna's zin met één ë.")
    expect(anna.locator("#preview")).to_contain_text("Anna's zin met één ë.", timeout=WAIT)
    os.kill(live_pid(live_server), signal.SIGKILL)
    journal_path(live_server.data_dir, PAGE).unlink()
    head = facilitator.get(url, timeout=10).json()
    moved = head["markdown"].replace("Derde alinea.", "Derde alinea, intussen opgeslagen.")
    assert facilitator.put(url, json={"markdown": moved, "base_revision": head["revision"]},
                           timeout=10).ok
    anna.wait_for_url(f"{live_server.url}/p/{PAGE}", timeout=WAIT)  # saved, merged
    text = saved_text(live_server)
    assert "Eerste alinea. Anna's zin met één ë." in text
    assert "Derde alinea, intussen opgeslagen." in text
    assert git(live_server, "log", "-1", "--format=%ae", "refs/heads/main").strip() == email(
        "Anna")
    anna.context.close()


def test_a_reader_and_a_frozen_page_get_a_read_only_editor(
        browser: Browser, live_server: LiveServer) -> None:
    answer = live_server.session("facilitator").put(
        f"{live_server.url}/api/v1/pages/{PAGE}", json={"markdown": START}, timeout=10)
    assert answer.status_code == 201, answer.text
    reader = context(browser).new_page()
    login(reader, live_server, "reader")
    reader.goto(f"{live_server.url}/p/{PAGE}/edit")
    expect(reader.locator("#live-status")).to_have_text(
        "Read only: you can watch this page, not edit it.", timeout=WAIT)
    expect(reader.locator("#live-editor .cm-content")).to_have_attribute(
        "contenteditable", "false")
    expect(reader.locator("#toolbar")).to_be_hidden()
    expect(reader.locator("#live-save")).to_be_hidden()
    expect(reader.locator("#live-editor")).to_contain_text("Eerste alinea.")
    reader.context.close()

    facilitator = live_server.session("facilitator")
    assert facilitator.put(f"{live_server.url}/api/v1/freeze",
                           json={"scope": PAGE, "frozen": True}, timeout=10).ok
    writer = context(browser).new_page()
    login(writer, live_server, "participant")
    writer.goto(f"{live_server.url}/p/{PAGE}/edit")
    expect(writer.locator("#live-status")).to_have_text("Read only: this page is frozen.",
                                                        timeout=WAIT)
    expect(writer.locator("#live-editor .cm-content")).to_have_attribute(
        "contenteditable", "false")
    writer.locator("#live-editor .cm-content").click()
    writer.keyboard.type("Mag niet.")
    expect(writer.locator("#live-editor")).not_to_contain_text("Mag niet.")
    writer.context.close()


def test_the_live_editor_on_a_390px_phone_stacks_editor_and_preview(
        browser: Browser, live_server: LiveServer) -> None:
    answer = live_server.session("facilitator").put(
        f"{live_server.url}/api/v1/pages/{PAGE}", json={"markdown": START}, timeout=10)
    assert answer.status_code == 201, answer.text
    add_participant(live_server, "Anna")
    phone = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844},
                                is_mobile=True, has_touch=True).new_page()
    log_in(phone, live_server, "Anna")
    open_live(phone, live_server)
    go_to_line(phone, 2, end=True)
    phone.keyboard.type(" Op de telefoon: één 😀")
    expect(phone.locator("#preview")).to_contain_text("Op de telefoon: één", timeout=WAIT)
    editor = phone.locator("#live-editor").bounding_box()
    preview = phone.locator("#preview").bounding_box()
    assert editor and preview
    assert editor["x"] >= 0 and editor["x"] + editor["width"] <= 390
    assert preview["y"] >= editor["y"] + editor["height"] - 1  # stacked, not side by side
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "phone-live-editing")
    phone.context.close()


def test_toolbar_completion_and_a_pasted_image_work_in_the_live_editor(
        room: dict[str, Page]) -> None:
    anna, bert = room["Anna"], room["Bert"]
    go_to_line(bert, 2, end=True)
    bert.keyboard.type(" Bert blijft.")
    go_to_line(anna, 6, end=True)
    anna.keyboard.type("\n\n")
    anna.click("[data-action=bold]")
    anna.keyboard.type("kern")
    anna.keyboard.press("End")
    anna.keyboard.type(" Zie [[Ho")
    expect(anna.locator(".cm-tooltip-autocomplete")).to_contain_text("Home")
    anna.wait_for_timeout(200)  # the list takes keys 75 ms after it opens, as a person would
    anna.keyboard.press("Enter")
    anna.evaluate(
        """async (b64) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const file = new File([bytes], "schets.png", {type: "image/png"});
            const data = new DataTransfer(); data.items.add(file);
            document.querySelector("#live-editor .cm-content").dispatchEvent(
                new ClipboardEvent("paste", {clipboardData: data, bubbles: true}));
        }""", PNG)
    expect(anna.locator("#editor-status")).to_contain_text("Uploaded schets.png", timeout=WAIT)
    text = same_everywhere(list(room.values()), "**kern** Zie [[Home]]", "schets.png")
    expect(bert.locator("#preview img")).to_have_attribute("src", "/attachments/schets.png")
    assert text.count("**kern**") == 1
    anna.keyboard.press("Control+z")  # undo takes back Anna's own typing, not Bert's
    expect(bert.locator("#preview img")).to_have_count(0, timeout=WAIT)
    assert same_everywhere(list(room.values()), "Bert blijft.") == START.replace(
        "Eerste alinea.", "Eerste alinea. Bert blijft.")


def test_the_live_editor_has_no_serious_accessibility_violations(
        room: dict[str, Page], browser: Browser, live_server: LiveServer) -> None:
    # axe is injected as an inline script, which the wiki's CSP rightly refuses.
    watcher = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 860},
                                  bypass_csp=True).new_page()
    log_in(watcher, live_server, "Anna")
    open_live(watcher, live_server)
    for name in ("Bert", "Chris"):
        go_to_line(room[name], 2 * PEOPLE.index(name), end=True)
        room[name].keyboard.type(f" {name} was hier.")
    expect(watcher.locator(".cm-ySelectionInfo")).to_have_count(2, timeout=WAIT)
    watcher.add_script_tag(path=str(Path(__file__).resolve().parent / "vendor" / "axe.min.js"))
    result = watcher.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == []
    watcher.context.close()


@pytest.fixture
def classic_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """A wiki with live editing switched off."""
    monkeypatch.setenv("COWIKI_LIVE", "off")
    data = tmp_path / "classic-data"
    data.mkdir()
    server = start_server(data)
    yield server
    server.process.terminate()
    server.process.wait(timeout=15)


def test_without_live_editing_the_classic_editor_saves_as_before(
        browser: Browser, classic_server: LiveServer) -> None:
    page = context(browser).new_page()
    login(page, classic_server, "participant")
    page.goto(f"{classic_server.url}/p/Home/edit")
    area = page.locator("#markdown")
    expect(area).to_be_visible()
    page.wait_for_timeout(1000)  # the live editor would have asked for its ticket by now
    expect(page.locator("#live-editor")).to_have_count(0)
    expect(page.locator("#live-save")).to_be_hidden()
    expect(page.locator("#suggest")).to_be_visible()
    area.fill("# Home\n\nGewoon opgeslagen, zonder live: één.\n")
    page.click(".save-row button.button:not([type])")
    page.wait_for_url(f"{classic_server.url}/p/Home")
    expect(page.locator(".page")).to_contain_text("Gewoon opgeslagen, zonder live: één.")
    page.context.close()

