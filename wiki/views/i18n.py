"""The interface language: Dutch or English, chosen per request.

The choice, first match wins: what the visitor picked with the switcher (kept
in the session), the language saved on their account, the browser's
Accept-Language, English. Templates and views translate with gettext; the
catalogs live in translations/ next to templates/ (see README, "Language").
"""

from __future__ import annotations

from typing import Any

from babel.support import NullTranslations
from flask import Blueprint, Flask, g, has_app_context, redirect, request, session
from flask_babel import Babel, get_locale, get_translations, gettext
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from storage.errors import N_, TranslatableError
from wiki.accounts import LANGUAGES
from wiki.errors import InvalidInput
from wiki.views.access import PUBLIC, allow, safe_next

bp = Blueprint("i18n", __name__)
DEFAULT = "en"
# Each language named in itself, so a visitor finds theirs whatever the page shows.
LANGUAGE_NAMES = {"en": "English", "nl": "Nederlands"}


def select_locale() -> str:
    """The language of this request: switcher, account, Accept-Language, English.

    A script that calls the API without Accept-Language gets English, whoever
    it logs in as (the README promises it), so its error texts are stable.
    """
    if request.path.startswith("/api/") and "Accept-Language" not in request.headers:
        return DEFAULT
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    # Only a user this request already loaded (flask-login caches it in g): loading
    # one here could fail again while the error page of that failure (a locked
    # database, say) is being rendered.
    login = g.get("_login_user")
    if login is not None and login.is_authenticated and login.user.language in LANGUAGES:
        return str(login.user.language)
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT) or DEFAULT


def current_language() -> str:
    """The language code this request renders in ('en' or 'nl')."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT


def language_arg(raw: str, allow_automatic: bool = False) -> str:
    """A language code from a form; InvalidInput for anything else."""
    language = raw.strip().lower()
    if language in LANGUAGES or (allow_automatic and language == ""):
        return language
    raise InvalidInput(gettext("Choose English or Nederlands."))


def clear_session_keeping_language() -> None:
    """session.clear() for a new login, without forgetting the language picked before."""
    language = session.get("lang")
    session.clear()
    if language in LANGUAGES:
        session["lang"] = language


@bp.post("/language")
@allow(PUBLIC)
def switch() -> Response:
    session["lang"] = language_arg(request.form.get("lang", ""))
    return redirect(safe_next(request.form.get("next")))


ROLE_NAMES = {"reader": N_("reader"), "participant": N_("participant"),
              "facilitator": N_("facilitator")}
CHANGE_KINDS = {"created": N_("created"), "edited": N_("edited"), "deleted": N_("deleted"),
                "renamed": N_("renamed"), "copied": N_("copied")}


def error_text(exc: BaseException) -> str:
    """A domain error's message in the interface language, for pages, flashes and JSON.

    Domain errors carry an English template marked with N_ and its params
    (storage/errors.py); this translates the template, then fills it in. A
    message without a catalog entry, or a translation that does not fit the
    params, shows as the English str(exc).
    """
    if not isinstance(exc, TranslatableError) or not exc.template:
        return str(exc)
    translated = str(gettext(exc.template))
    if not exc.params:
        return translated
    try:
        return translated.format(**exc.params)
    except (KeyError, IndexError, ValueError):
        return str(exc)


def role_name(role: str) -> str:
    """A role as the interface shows it."""
    return str(gettext(ROLE_NAMES[role])) if role in ROLE_NAMES else role


# What a commit did to a page, as whole sentences: the word order differs ("Bert heeft
# Kladblok aangemaakt"). `_from` when the old name is known.
CHANGE_SENTENCES = {
    "created": N_("%(person)s created %(page)s"), "edited": N_("%(person)s edited %(page)s"),
    "deleted": N_("%(person)s deleted %(page)s"),
    "renamed": N_("%(person)s renamed a page to %(page)s"),
    "renamed_from": N_("%(person)s renamed %(old)s to %(page)s"),
    "copied": N_("%(person)s copied a page to %(page)s"),
    "copied_from": N_("%(person)s copied %(old)s to %(page)s"),
}
# The same without the person: on a person's own page, and for a commit's further pages.
CHANGE_PHRASES = {
    "created": N_("created %(page)s"), "edited": N_("edited %(page)s"),
    "deleted": N_("deleted %(page)s"), "renamed": N_("renamed a page to %(page)s"),
    "renamed_from": N_("renamed %(old)s to %(page)s"),
    "copied": N_("copied a page to %(page)s"), "copied_from": N_("copied %(old)s to %(page)s"),
}


def change_sentence(kind: str, page: str, person: str | None = None,
                    old: str | None = None) -> Markup:
    """'Bert created Kladblok' in the interface language; without `person`, 'created Kladblok'.

    `page` and `person` may be Markup (a link, a bold name); plain text is escaped.
    """
    key = f"{kind}_from" if old and kind in ("renamed", "copied") else kind
    texts = CHANGE_SENTENCES if person is not None else CHANGE_PHRASES
    english = texts.get(key, texts["edited"])
    values = {"person": person or "", "page": page, "old": old or ""}
    try:  # escape(): the catalog's text is plain; Markup's % escapes plain values
        return escape(str(gettext(english))) % values
    except (KeyError, ValueError, TypeError):
        return escape(english) % values


def change_kind(kind: str) -> str:
    """What a commit did to a page ('created', 'edited', ...), as the interface shows it."""
    return str(gettext(CHANGE_KINDS[kind])) if kind in CHANGE_KINDS else kind


# Texts the scripts in static/ show, by their English source text.
SCRIPT_TEXTS = (
    N_("Copied"), N_("Press Ctrl+C"),
    N_("Replace your manual edits with the versions you picked?"),
    N_("Uploading %(name)s…"), N_("image"), N_("Upload failed: %(reason)s"),
    N_("Uploaded %(name)s."), N_("Upload failed (offline?)."),
    N_("Preview unavailable (%(status)s)."), N_("Preview unavailable (offline?)."),
    N_("bold text"), N_("italic text"), N_("link text"), N_("Page name"), N_("code"),
    N_("Column"), N_("Text"), N_(" (unsaved changes)"), N_(" is editing this page right now."),
    N_(" are editing this page right now."),
    N_(" They have unsaved changes: agree who edits what; overlapping saves will conflict."),
    N_("Restore your unsaved draft from %(when)s? "), N_("Restore draft"), N_("Discard it"),
    N_("Your draft is in the shared text, beside what the others typed."),
    N_("Your draft is in the shared text. Where you and others changed the same words, both"
       " versions are there now: tidy them up together."),
    N_("Your draft could not be added to the shared text just now. It is kept: try again. "),
    N_("Saving…"),
    N_("Not saved: the wiki could not be reached. Your text is still here; try again."),
    N_("Not saved (%(status)s). Your text is still here; try again."),
    N_("Are you sure?"),
)


def catalog() -> NullTranslations:
    """This request's catalog.

    Flask-Babel finds it again on every gettext call, through several lookups of
    the request's globals; a page view translates some fifty texts. The catalog is
    kept beside the locale Flask-Babel chose, so a `refresh()` (a login that
    switches the language) is followed.
    """
    translations: NullTranslations
    if not has_app_context():
        translations = get_translations()
        return translations
    babel = g.get("_flask_babel")
    known = getattr(babel, "cowiki_catalog", None)
    if known is not None and known[0] is getattr(babel, "babel_locale", None):
        translations = known[1]
        return translations
    translations = get_translations()
    babel = g.get("_flask_babel")
    if babel is not None:
        babel.cowiki_catalog = (getattr(babel, "babel_locale", None), translations)
    return translations


@pass_context
def template_gettext(context: Context, text: str, /, **variables: Any) -> str:
    """Templates' `_()` and `gettext()`: Jinja's new-style gettext on this request's catalog
    (Jinja's own calls through two more wrappers, Flask-Babel's through its lookups).
    Positional-only, so that a template may name a value `text` or `context`."""
    translated = catalog().ugettext(text)
    if context.eval_ctx.autoescape:
        translated = Markup(translated)  # noqa: S704 (our catalog; values are escaped by %)
    return translated % variables


@pass_context
def template_ngettext(context: Context, singular: str, plural: str, num: int, /,
                      **variables: Any) -> str:
    """Templates' `ngettext()`, like template_gettext; `num` is there for the text too."""
    variables.setdefault("num", num)
    translated = catalog().ungettext(singular, plural, num)
    if context.eval_ctx.autoescape:
        translated = Markup(translated)  # noqa: S704 (our catalog; values are escaped by %)
    return translated % variables


_SCRIPT_MESSAGES: dict[int, tuple[NullTranslations, dict[str, str]]] = {}


def script_messages() -> dict[str, str]:
    """SCRIPT_TEXTS in the interface language, keyed by the English text (made once per
    catalog).

    base.html renders them as JSON; a script looks its text up and falls back to
    the key, so it still reads well where a text is missing.
    """
    translations = catalog()
    known = _SCRIPT_MESSAGES.get(id(translations))
    if known is None or known[0] is not translations:
        known = _SCRIPT_MESSAGES[id(translations)] = (
            translations, {text: translations.ugettext(text) for text in SCRIPT_TEXTS})
    return known[1]


def install(app: Flask) -> None:
    """Wire Flask-Babel (gettext in templates) and the language helpers templates use."""
    from wiki.views.templating import reader_zone  # templating builds on this module

    Babel(app, locale_selector=select_locale, timezone_selector=reader_zone)
    app.jinja_env.globals.update(
        _=template_gettext, gettext=template_gettext, ngettext=template_ngettext,
        current_language=current_language, LANGUAGE_NAMES=LANGUAGE_NAMES,
        role_name=role_name, change_sentence=change_sentence,
        script_messages=script_messages)

    @app.context_processor
    def languages() -> dict[str, Any]:
        return {"LANGUAGES": LANGUAGES}
