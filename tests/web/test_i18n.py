"""Dutch and English interface: complete catalogs, compiled in the repo, chosen per request."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import Flask, render_template_string
from flask.testing import FlaskClient

from storage.errors import N_, TranslatableError
from tests.conftest import PASSWORDS, csrf, post_form
from wiki.errors import InvalidInput, PageNotFound
from wiki.views.i18n import error_text

ROOT = Path(__file__).resolve().parent.parent.parent
TRANSLATIONS = ROOT / "translations"
LANGUAGES = ("nl", "en")
DUTCH = {"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
FACILITATOR = ("facilitator", PASSWORDS["facilitator"])
PARTICIPANT = ("participant", PASSWORDS["participant"])
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}|<[^>]*>")


def extracted() -> dict[str | tuple[str, ...], str]:
    """Every text pybabel extracts with babel.cfg, with where it was found."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str | tuple[str, ...], str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map):
        key = message if isinstance(message, str) else tuple(message)
        found.setdefault(key, f"{filename}:{lineno}")
    return found


def catalog(language: str) -> Catalog:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=language)


def texts(message: object) -> list[str]:
    """The translation(s) of a catalog entry: one string, or one per plural form."""
    string = message.string  # type: ignore[attr-defined]
    return [string] if isinstance(string, str) else list(string)


def lang_of(html: str) -> str:
    match = re.search(r'<html lang="([^"]*)"', html)
    assert match, html[:200]
    return match.group(1)


# -- the catalogs ---------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_of_templates_and_views_is_in_the_catalog(language: str) -> None:
    entries = catalog(language)
    missing = [f"{where}: {text!r}" for text, where in extracted().items()
               if entries.get(text if isinstance(text, str) else text[0]) is None]
    assert missing == [], "run pybabel extract/update (README, Language):\n" + "\n".join(missing)


def test_every_dutch_text_is_translated_and_not_fuzzy() -> None:
    entries = catalog("nl")
    wanted = {text if isinstance(text, str) else text[0] for text in extracted()}
    untranslated = [m.id for m in entries if m.id and m.id in wanted
                    and (m.fuzzy or not all(s.strip() for s in texts(m)))]
    assert untranslated == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_placeholders_and_markup(language: str) -> None:
    for message in catalog(language):
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        for text in texts(message):
            if text:
                assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(source)), (
                    source, text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_committed_mo_file_is_what_compiling_the_po_gives(language: str) -> None:
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    compiled = BytesIO()
    write_mo(compiled, catalog(language))
    committed = (folder / "messages.mo").read_bytes()
    if committed != compiled.getvalue():  # allow another Babel's Generated-By header only
        def table(data: bytes) -> dict[object, object]:
            return {m.id: m.string for m in read_mo(BytesIO(data)) if m.id}
        assert table(committed) == table(compiled.getvalue()), (
            f"{folder}/messages.mo is stale: run pybabel compile -d translations")


def test_the_app_reads_the_catalogs_next_to_its_templates(app: Flask) -> None:
    # Found like templates/ (relative to app.py), so an editable install and a checkout
    # both ship them; MANIFEST.in grafts translations/ into the sdist.
    assert app.extensions["babel"].translation_directories == [str(TRANSLATIONS)]
    assert Path(app.root_path, app.template_folder or "") == ROOT / "templates"
    assert "graft translations" in (ROOT / "MANIFEST.in").read_text()


class TextOutsideGettext(HTMLParser):
    """Words a template shows (text and text attributes) that no gettext call wraps."""

    SKIPPED = ("script", "style", "pre", "code")
    ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
    WORD = re.compile(r"[^\W\d_]{2,}")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.words: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.depth += tag in self.SKIPPED
        self.words += [w for name, value in attrs if name in self.ATTRIBUTES and value
                       for w in self.WORD.findall(value)]

    def handle_endtag(self, tag: str) -> None:
        self.depth -= tag in self.SKIPPED

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.words += self.WORD.findall(data)


def template_words(source: str) -> list[str]:
    """Words of a template left once trans blocks, Jinja tags and CSS class blocks go."""
    source = re.sub(r"{%-?\s*trans\b.*?{%-?\s*endtrans\s*-?%}", " ", source, flags=re.S)
    source = re.sub(r"{%-?\s*block main_class\s*-?%}.*?{%-?\s*endblock\s*-?%}", " ", source,
                    flags=re.S)
    source = re.sub(r"{#.*?#}|{%.*?%}|{{.*?}}", " ", source, flags=re.S)
    parser = TextOutsideGettext()
    parser.feed(source)
    return parser.words


def templates() -> Iterator[Path]:
    yield from sorted((ROOT / "templates").rglob("*.html"))


@pytest.mark.parametrize("template", list(templates()), ids=lambda p: p.name)
def test_templates_show_no_text_outside_gettext(template: Path) -> None:
    # Language names are written in their own language; the rest are symbols or syntax.
    allowed = {"PDF", "EPUB", "UTC", "wiki", "English", "Nederlands"}
    words = [w for w in template_words(template.read_text()) if w not in allowed]
    assert words == [], f"wrap these in {{{{ _('...') }}}}: {words}"


def test_views_flash_only_translated_messages() -> None:
    plain = re.compile(r"""\b(flash|abort\(\d+, description=)\(?\s*f?["']""")
    offenders = [f"{path.name}:{n}" for path in (ROOT / "wiki" / "views").glob("*.py")
                 for n, line in enumerate(path.read_text().splitlines(), 1)
                 if plain.search(line)]
    assert offenders == []


# -- choosing the language ---------------------------------------------------------

def test_english_is_the_default_without_accept_language(client: FlaskClient) -> None:
    page = client.get("/login").text
    assert lang_of(page) == "en" and "Log in to" in page


def test_accept_language_nl_gives_a_dutch_page(client: FlaskClient,
                                               login_as: Callable[[str], FlaskClient]) -> None:
    login = client.get("/login", headers=DUTCH).text
    assert lang_of(login) == "nl" and "Inloggen bij" in login
    login_as("reader")
    page = client.get("/changes", headers=DUTCH).text
    assert lang_of(page) == "nl"
    assert "Recente wijzigingen" in page and "Bijdragers" in page and "Pagina's" in page


def test_an_unknown_language_falls_back_to_english(client: FlaskClient) -> None:
    assert lang_of(client.get("/login", headers={"Accept-Language": "fr, de;q=0.8"}).text) == "en"


def test_account_language_overrides_accept_language(app: Flask, client: FlaskClient,
                                                    login_as: Callable[[str], FlaskClient]
                                                    ) -> None:
    login_as("participant")
    response = post_form(client, "/account/language", language="nl")
    assert response.status_code == 302
    assert app.extensions["cowiki"].accounts.by_name("participant").language == "nl"
    account = client.get(response.location, headers=ENGLISH).text
    assert lang_of(account) == "nl" and "Taal opgeslagen." in account
    post_form(client, "/account/language", language="")  # follow the browser again
    assert lang_of(client.get("/pages", headers=ENGLISH).text) == "en"
    assert lang_of(client.get("/pages", headers=DUTCH).text) == "nl"


def test_account_language_applies_at_the_next_login(app: Flask, client: FlaskClient) -> None:
    accounts = app.extensions["cowiki"].accounts
    accounts.set_language(accounts.by_name("reader"), "nl")
    post_form(client, "/login", name="reader", password=PASSWORDS["reader"])
    assert lang_of(client.get("/pages").text) == "nl"


def test_account_language_must_be_one_we_have(client: FlaskClient,
                                              login_as: Callable[[str], FlaskClient]) -> None:
    login_as("reader")
    assert post_form(client, "/account/language", language="fr").status_code == 400


def test_switcher_changes_the_language_and_goes_back(client: FlaskClient) -> None:
    page = client.get("/login?next=/pages").text
    assert 'name="lang" value="nl"' in page and "Nederlands" in page
    response = post_form(client, "/language", lang="nl", next="/login?next=/pages")
    assert response.status_code == 302 and response.location == "/login?next=/pages"
    switched = client.get(response.location, headers=ENGLISH).text
    assert lang_of(switched) == "nl" and 'name="lang" value="en"' in switched


def test_switcher_needs_the_csrf_token(client: FlaskClient) -> None:
    csrf(client)
    response = client.post("/language", data={"lang": "nl"})
    assert response.status_code == 400
    assert lang_of(client.get("/login").text) == "en"


def test_switcher_refuses_unknown_languages_and_foreign_redirects(client: FlaskClient) -> None:
    assert post_form(client, "/language", lang="xx").status_code == 400
    response = post_form(client, "/language", lang="nl", next="https://evil.example/")
    assert response.location == "/"


def test_switcher_choice_beats_the_account_and_survives_login(
        app: Flask, client: FlaskClient) -> None:
    accounts = app.extensions["cowiki"].accounts
    accounts.set_language(accounts.by_name("reader"), "en")
    post_form(client, "/language", lang="nl")
    post_form(client, "/login", name="reader", password=PASSWORDS["reader"])
    assert lang_of(client.get("/pages").text) == "nl"


def test_flash_messages_and_errors_are_translated(client: FlaskClient,
                                                  login_as: Callable[[str], FlaskClient]
                                                  ) -> None:
    login_as("participant")
    post_form(client, "/language", lang="nl")
    saved = post_form(client, "/p/Nieuw/edit", markdown="# Nieuw\n\ntekst\n", base_revision="")
    assert "Opgeslagen." in client.get(saved.location).text
    missing = client.get("/p/Home/history?page=0")
    assert missing.status_code == 400 and "Dat lukte niet" in missing.text


def test_scripts_get_their_texts_in_the_page_language(client: FlaskClient,
                                                      login_as: Callable[[str], FlaskClient]
                                                      ) -> None:
    login_as("participant")
    page = client.get("/p/Home/edit", headers=DUTCH).text
    block = re.search(r'<script type="application/json" id="i18n-messages">(.*?)</script>',
                      page, re.S)
    assert block
    messages = json.loads(block.group(1))
    assert messages["Copied"] == "Gekopieerd"
    assert messages["Uploaded %(name)s."] == "%(name)s geüpload."


# -- domain errors -------------------------------------------------------------------

def marked_messages() -> dict[str, str]:
    """Every text storage/ and wiki/ mark with N_(...), with where it is."""
    found: dict[str, str] = {}
    for path in sorted([*(ROOT / "storage").rglob("*.py"), *(ROOT / "wiki").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "N_"):
                argument = node.args[0]
                assert isinstance(argument, ast.Constant) and isinstance(argument.value, str), (
                    f"{path}:{node.lineno}: N_ takes one literal text")
                found.setdefault(argument.value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_marked_error_messages_are_in_both_catalogs_and_extracted() -> None:
    marked = marked_messages()
    assert "page name is empty" in marked and "role must be one of {roles}" in marked
    assert set(marked) <= set(extracted()), "babel.cfg must cover storage/ and wiki/"
    for language in LANGUAGES:
        entries = catalog(language)
        missing = [f"{where}: {text!r}" for text, where in marked.items()
                   if entries.get(text) is None or not entries.get(text).string]
        assert missing == [], f"{language}: run pybabel extract/update (README, Language)"


# Errors nobody sees in the interface: the CLI (backups), git hooks and internal checks.
ENGLISH_ONLY = {("wiki/backup.py", "BackupError"), ("wiki/export/pandoc.py", "PandocFailed"),
                ("wiki/dbcopy.py", "CopyError"),
                ("storage/incoming.py", "StorageError"), ("storage/repository.py", "StorageError"),
                ("storage/treesplice.py", "StorageError")}


def translatable_errors() -> set[str]:
    """Names of the error classes whose message the views translate (own __init__ aside)."""
    found, todo = set(), [TranslatableError]
    while todo:
        kind = todo.pop()
        todo += kind.__subclasses__()
        if kind.__init__ is TranslatableError.__init__:
            found.add(kind.__name__)
    return found


def test_domain_errors_raise_marked_messages() -> None:
    # An f-string or a bare text here would reach Dutch users in English.
    kinds = translatable_errors() | {"InviteInvalid", "BackupError", "PandocFailed"}
    offenders = []
    for path in sorted([*(ROOT / "storage").rglob("*.py"), *(ROOT / "wiki").rglob("*.py")]):
        where = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(), where)):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                    and isinstance(node.exc.func, ast.Name) and node.exc.func.id in kinds):
                continue
            first = node.exc.args[0] if node.exc.args else None
            marked = (isinstance(first, ast.Call) and isinstance(first.func, ast.Name)
                      and first.func.id in ("N_", "gettext"))
            if not marked and (where, node.exc.func.id) not in ENGLISH_ONLY:
                offenders.append(f"{where}:{node.lineno}")
    assert offenders == [], "raise Error(N_(\"... {name}\"), name=...) instead"


def test_error_text_translates_templates_and_falls_back_to_english(app: Flask) -> None:
    short = InvalidInput(N_("passwords have at least {count} characters"), count=8)
    assert str(short) == "passwords have at least 8 characters"
    assert short.template == "passwords have at least {count} characters"
    assert short.params == {"count": 8}
    plain = PageNotFound("user {id} of %(x)s")  # a plain message is kept as given
    with app.test_request_context("/", headers=DUTCH):
        assert error_text(short) == "een wachtwoord heeft minstens 8 tekens"
        assert error_text(plain) == "user {id} of %(x)s"
        assert error_text(InvalidInput(N_("role must be one of {roles}"))) == (
            "de rol moet een van deze zijn: {roles}")  # no params: the template as it is
        assert error_text(InvalidInput(N_("page “{name}”"), other=1)) == "page “{name}”"
        assert error_text(ValueError("kapot")) == "kapot"
    with app.test_request_context("/"):
        assert error_text(short) == "passwords have at least 8 characters"


def test_a_dutch_user_gets_a_dutch_error_for_a_bad_page_name(
        client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    login_as("participant")
    post_form(client, "/language", lang="nl")
    empty = post_form(client, "/new", name="/")
    assert empty.status_code == 200
    assert "de paginanaam is leeg" in empty.text and "page name is empty" not in empty.text
    reserved = post_form(client, "/p/Home/rename", to="api/x")
    assert "&#39;api&#39; is gereserveerd" in reserved.text


def test_a_dutch_user_gets_a_dutch_error_for_a_too_large_page(
        client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    login_as("participant")
    post_form(client, "/language", lang="nl")
    refused = post_form(client, "/p/Groot/edit", markdown="x" * 1_000_001, base_revision="")
    assert refused.status_code == 413
    assert "de pagina is groter dan 1000000 bytes" in refused.text


def test_a_dutch_visitor_gets_a_dutch_error_for_a_wrong_invite(
        client: FlaskClient) -> None:
    unknown = client.get("/invite/bestaat-niet", headers=DUTCH)
    assert unknown.status_code == 404
    assert "Deze uitnodigingslink is onbekend, verlopen of opgebruikt." in unknown.text
    code = client.post("/api/v1/invites", json={"role": "participant", "expires_days": 7,
                                                "max_uses": 1}, auth=FACILITATOR).json["code"]
    post_form(client, "/language", lang="nl")
    short = post_form(client, f"/invite/{code}", name="Anna", email="anna@example.org",
                      password="kort")
    assert short.status_code == 400 and "een wachtwoord heeft minstens 8 tekens" in short.text


def test_a_dutch_user_gets_a_dutch_error_for_a_frozen_page(
        client: FlaskClient, login_as: Callable[[str], FlaskClient]) -> None:
    assert client.put("/api/v1/freeze", json={"scope": "Home", "frozen": True},
                      auth=FACILITATOR).status_code == 200
    base = client.get("/api/v1/pages/Home", auth=FACILITATOR).json["revision"]
    login_as("participant")
    refused = client.post("/p/Home/edit", headers=DUTCH, data={
        "csrf_token": csrf(client), "markdown": "# Y\n", "base_revision": base})
    assert refused.status_code == 423
    assert "Een facilitator heeft “Home” bevroren: je kunt het voorlopig alleen lezen." in (
        refused.text)


def test_api_errors_are_english_unless_the_client_asks_for_dutch(client: FlaskClient) -> None:
    assert client.put("/api/v1/freeze", json={"scope": "wiki", "frozen": True},
                      auth=FACILITATOR).status_code == 200
    body = {"markdown": "# X\n", "base_revision": ""}
    english = client.put("/api/v1/pages/Nieuw", json=body, auth=PARTICIPANT)
    dutch = client.put("/api/v1/pages/Nieuw", json=body, auth=PARTICIPANT, headers=DUTCH)
    assert english.status_code == dutch.status_code == 423
    assert english.json == {"error": "frozen", "message": "The whole wiki is frozen by a"
                            " facilitator: it is read-only for now."}
    assert dutch.json == {"error": "frozen", "message": "Een facilitator heeft de hele wiki"
                          " bevroren: je kunt hem voorlopig alleen lezen."}


# -- dates and numbers ---------------------------------------------------------------

def test_dates_and_numbers_follow_the_language(app: Flask) -> None:
    moment = datetime(2024, 3, 5, 14, 7, tzinfo=UTC)
    template = "{{ moment|when }} | {{ 1234567|number }}"
    with app.test_request_context("/", headers=DUTCH):
        dutch = render_template_string(template, moment=moment)
        assert dutch == "5 mrt 2024, 15:07 CET | 1.234.567"
    with app.test_request_context("/"):
        english = render_template_string(template, moment=moment)
    assert english.startswith("Mar 5, 2024, 2:07") and english.endswith("1,234,567")


def test_a_dutch_page_shows_dates_with_dutch_month_names(app: Flask, client: FlaskClient,
                                                         login_as: Callable[[str], FlaskClient]
                                                         ) -> None:
    accounts = app.extensions["cowiki"].accounts
    accounts.create_token(accounts.by_name("reader"), "laptop")
    login_as("reader")
    dutch_months = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt",
                    "nov", "dec"]
    now = datetime.now(ZoneInfo("Europe/Amsterdam"))  # a Dutch reader's zone by default
    page = client.get("/account", headers=DUTCH).text
    assert f"<td>{now.day} {dutch_months[now.month - 1]} {now.year}, " in page


def test_api_errors_stay_english_for_an_account_that_chose_dutch(app: Flask,
                                                                 client: FlaskClient) -> None:
    accounts = app.extensions["cowiki"].accounts
    accounts.set_language(accounts.by_name("participant"), "nl")
    refused = client.put("/api/v1/pages/..", json={"markdown": "x"}, auth=PARTICIPANT)
    assert refused.status_code == 400
    dutch = client.put("/api/v1/pages/..", json={"markdown": "x"}, auth=PARTICIPANT,
                       headers=DUTCH)
    assert refused.json["message"] != dutch.json["message"]  # English unless asked for Dutch
