"""Templates translate from the request's catalog as Jinja's new-style gettext would."""

from __future__ import annotations

from flask import Flask, render_template_string, session
from flask.testing import FlaskClient
from flask_babel import refresh

DUTCH = {"Accept-Language": "nl-NL,nl;q=0.9"}


def render(app: Flask, source: str, headers: dict[str, str] | None = None,
           **context: object) -> str:
    with app.test_request_context("/", headers=headers or {}):
        return render_template_string(source, **context)


def test_texts_come_from_the_catalog_of_the_request(app: Flask) -> None:
    assert render(app, "{{ _('Skip to content') }}", DUTCH) == "Naar de inhoud"
    assert render(app, "{{ _('Skip to content') }}") == "Skip to content"
    assert render(app, "{{ gettext('Skip to content') }}", DUTCH) == "Naar de inhoud"
    assert render(app, "{% trans %}Skip to content{% endtrans %}", DUTCH) == "Naar de inhoud"


def test_values_are_escaped_and_may_be_named_like_the_parameters(app: Flask) -> None:
    html = render(app, "{{ _('Change “%(name)s”', name=who) }}", DUTCH, who="<b>Bert</b>")
    assert "&lt;b&gt;Bert&lt;/b&gt;" in html and "<b>" not in html
    assert render(app, "{{ _('%(text)s and %(context)s', text='a', context='b') }}") == \
        "a and b"
    assert render(app, "{{ _('50%% done') }}") == "50% done"


def test_plurals_have_their_number(app: Flask) -> None:
    source = "{{ ngettext('%(num)s report waiting', '%(num)s reports waiting', n) }}"
    assert render(app, source, DUTCH, n=1) == "1 melding wacht"
    assert render(app, source, n=3) == "3 reports waiting"


def test_a_language_switch_within_a_request_is_followed(app: Flask) -> None:
    with app.test_request_context("/", headers=DUTCH):
        assert render_template_string("{{ _('Skip to content') }}") == "Naar de inhoud"
        session["lang"] = "en"
        refresh()  # as a login that brings the account's language does
        assert render_template_string("{{ _('Skip to content') }}") == "Skip to content"


def test_a_dutch_page_reads_dutch(client: FlaskClient) -> None:
    page = client.get("/login", headers=DUTCH).get_data(as_text=True)
    assert "Naar de inhoud" in page and "Skip to content" not in page
