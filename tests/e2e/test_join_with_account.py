"""A Dutch person with an account in one workshop joins a second one on the same server.

A real `cowiki --root DIR serve` (gunicorn) hosts workshops alpha and beta on one
PostgreSQL database, so they share accounts. Lotte (Sanne at desktop width) has an
account in alpha only. In real Chromium, with a Dutch browser, she is refused on beta's
login page, opens beta's invite link, mistypes her password in "Inloggen en meedoen",
then joins with the right one and lands on beta's welcome page; alpha still works for
her in another tab. Once at phone width (390 x 844) and once at desktop width, with a
screenshot of the invite page's two forms at each.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from tests.conftest import ROOT, free_port
from tests.e2e.conftest import SHOTS
from tests.e2e.dutch_support import assert_dutch, leaks_on
from tests.pgcluster import Cluster
from tests.web.test_multi_wiki import (
    PASSWORD,
    Root,
    _up,
    create_wiki,
    empty_database,
    wait_until,
)

# What the Dutch screens say (translations/nl; the English msgids are in
# wiki/accounts.py, wiki/invites.py and templates/join/register.html).
NOT_A_MEMBER = ("Je account hoort nog niet bij deze wiki. Open de uitnodigingslink die je van "
                "een begeleider van deze wiki kreeg en log daar in.")
NO_MATCH = "Die naam en dat wachtwoord horen niet bij een account hier."
HAVE_ACCOUNT = "Heb je al een account op deze server?"
LOG_IN_AND_JOIN = "Inloggen en meedoen"
WIDTHS: dict[str, ViewportSize] = {"phone": {"width": 390, "height": 844},
                                   "desktop": {"width": 1280, "height": 860}}
PEOPLE = {"phone": "Lotte de Vries", "desktop": "Sanne Bakker"}
HER_PASSWORD = "lotte-long-secret-4"


@pytest.fixture(scope="module")
def root(postgres: Cluster | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Root]:
    """Workshops alpha (Ann facilitates) and beta (Bob) sharing one new PostgreSQL database,
    served by a real `cowiki --root DIR serve`."""
    if postgres is None:
        pytest.skip("PostgreSQL is not installed here")
    folder = tmp_path_factory.mktemp("root")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COWIKI_DATABASE_URL", empty_database(postgres))
        for slug, name in (("alpha", "Ann"), ("beta", "Bob")):
            done = create_wiki(folder, slug, name)
            assert done.returncode == 0, done.stderr
        port = free_port()
        with open(folder / "server.log", "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "cowiki", "--root", str(folder), "serve",
                 "--port", str(port), "--workers", "2"],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
            url = f"http://127.0.0.1:{port}"
            try:
                wait_until(lambda: _up(url + "/healthz"), 60)
                yield Root(url, folder)
            finally:
                process.terminate()
                process.wait(timeout=20)
    server_log = (folder / "server.log").read_text(errors="replace")
    assert "Traceback" not in server_log, server_log


def facilitator(name: str) -> requests.Session:
    """The API as the facilitator `name` (HTTP Basic)."""
    session = requests.Session()
    session.trust_env = False
    session.auth = (name, PASSWORD)
    return session


def invite(root: Root, slug: str, name: str) -> tuple[str, str]:
    """A new one-use participant invite of wiki `slug`, made by its facilitator `name`:
    (its code, its link)."""
    made = facilitator(name).post(
        root.wiki(slug) + "/api/v1/invites", json={"role": "participant", "max_uses": 1},
        timeout=10)
    assert made.status_code == 201, made.text
    return str(made.json()["code"]), str(made.json()["url"])


def uses(root: Root, code: str) -> int:
    """How often beta's invite `code` was used, as its facilitator sees it."""
    listed = facilitator("Bob").get(root.wiki("beta") + "/api/v1/invites", timeout=10).json()
    return int(next(i["uses"] for i in listed if i["code"] == code))


def account_in_alpha(root: Root, name: str) -> None:
    """`name` joins alpha (only) through an invite of Ann's."""
    code, _ = invite(root, "alpha", "Ann")
    answer = requests.post(root.wiki("alpha") + "/api/v1/register", timeout=10, json={
        "invite": code, "name": name, "email": f"{name.split()[0].lower()}@example.org",
        "password": HER_PASSWORD})
    assert answer.status_code == 201, answer.text


def within_width(element: Locator, page: Page) -> bool:
    """The element is shown whole across the viewport (nothing cut off at the right)."""
    box = element.bounding_box()
    viewport = page.viewport_size
    assert box is not None and viewport is not None
    return box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]


@pytest.mark.parametrize("width", WIDTHS)
def test_a_dutch_person_joins_a_second_workshop_with_the_account_she_has(
        browser: Browser, root: Root, width: str) -> None:
    name = PEOPLE[width]
    account_in_alpha(root, name)
    code, link = invite(root, "beta", "Bob")
    assert link.startswith(root.wiki("beta") + "/invite/")
    context = browser.new_context(locale="nl-NL", viewport=WIDTHS[width])
    beta = context.new_page()
    leaks: dict[str, list[tuple[str, str]]] = {}

    # Beta's login page does not let her in yet, and says why in Dutch.
    beta.goto(root.wiki("beta") + "/login")
    beta.fill("#name", name)
    beta.fill("#password", HER_PASSWORD)
    with beta.expect_response(root.wiki("beta") + "/login") as refused:
        beta.locator("form.stack button").click()
    assert refused.value.status == 403
    expect(beta.get_by_role("alert")).to_have_text(NOT_A_MEMBER)
    leaks["login, refused"] = leaks_on(beta)

    # The invite page: the Dutch join form, and below it, set apart, the one for her.
    beta.goto(link)
    assert beta.evaluate("document.documentElement.lang") == "nl"
    have = beta.get_by_role("heading", name=HAVE_ACCOUNT)
    expect(have).to_be_visible()
    name_of_shot = "phone-join-with-account-nl" if width == "phone" else "join-with-account-nl"
    beta.screenshot(path=str(SHOTS / f"{name_of_shot}.png"), full_page=True)  # both forms
    join = beta.get_by_role("button", name=LOG_IN_AND_JOIN)
    first = beta.locator("form.stack").first
    first_box, have_box = first.bounding_box(), have.bounding_box()
    assert first_box is not None and have_box is not None
    assert have_box["y"] - (first_box["y"] + first_box["height"]) >= 24, "forms run together"
    for button in beta.locator(".login button").all():
        assert within_width(button, beta), button.inner_text()
    leaks["invite"] = leaks_on(beta)
    beta.get_by_role("link", name=HAVE_ACCOUNT).click()  # on a phone it is below the fold
    expect(join).to_be_in_viewport()

    # A wrong password: a Dutch error by the form she used, her name still there, and
    # the one-use invite still good.
    beta.fill("#existing-name", name)
    beta.fill("#existing-password", "not-her-password")
    with beta.expect_response(link) as wrong:
        join.click()
    assert wrong.value.status == 400
    error = beta.get_by_role("alert")
    expect(error).to_have_text(NO_MATCH)
    expect(beta.locator("#with-account").get_by_role("alert")).to_be_in_viewport()
    expect(beta.locator("#existing-password")).to_be_focused()
    expect(beta.locator("#existing-name")).to_have_value(name)
    expect(beta.locator("#name")).to_have_value("")  # the other form is not filled with it
    assert uses(root, code) == 0
    leaks["invite, wrong password"] = leaks_on(beta)

    # The right one: she lands on beta's welcome page, logged in, a participant.
    beta.fill("#existing-password", HER_PASSWORD)
    join.click()
    beta.wait_for_url(root.wiki("beta") + "/welcome")
    expect(beta.get_by_role("heading", level=1)).to_have_text(f"Welkom, {name}")
    expect(beta.locator(".who").get_by_role("link", name=name)).to_be_visible()
    expect(beta.get_by_role("button", name="Uitloggen")).to_be_attached()
    expect(beta.get_by_role("link", name="Nieuwe pagina")).to_be_visible()  # a participant
    assert uses(root, code) == 1
    leaks["welcome"] = leaks_on(beta)

    # Alpha, in another tab, with the same account: both stay logged in side by side.
    alpha = context.new_page()
    alpha.goto(root.wiki("alpha") + "/login")
    alpha.fill("#name", name)
    alpha.fill("#password", HER_PASSWORD)
    alpha.locator("form.stack button").click()
    alpha.wait_for_url(root.wiki("alpha") + "/p/Home")
    expect(alpha.locator(".who").get_by_role("link", name=name)).to_be_visible()
    leaks["alpha"] = leaks_on(alpha)
    beta.bring_to_front()
    beta.goto(root.wiki("beta") + "/p/Home")
    assert beta.url == root.wiki("beta") + "/p/Home"
    expect(beta.locator(".who").get_by_role("link", name=name)).to_be_visible()
    context.close()
    assert_dutch(leaks)
