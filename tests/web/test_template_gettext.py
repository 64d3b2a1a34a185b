"""Templates translate from the request's catalog as Jinja's new-style gettext would."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Flask, render_template_string, session
from flask.testing import FlaskClient
from flask_babel import format_date, format_time, refresh

from wiki.views.templating import reader_zone, when

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


def test_a_kept_date_is_the_one_of_the_language_and_zone_asked(app: Flask) -> None:
    moment = datetime(2026, 12, 3, 13, 7, tzinfo=UTC)
    asked = [{}, DUTCH, {"Cookie": "tz=America/New_York"}, {**DUTCH, "Cookie": "tz=Asia/Tokyo"}]
    shown: list[str] = []
    for _round in range(2):  # the second time from what was kept
        for number, headers in enumerate(asked):
            with app.test_request_context("/", headers=headers):
                if _round == 0:  # formatted afresh, as before anything was kept
                    shown.append(fresh_when(moment))
                assert when(moment) == shown[number]
                assert when(moment.timestamp()) == shown[number]
                assert when(moment.replace(tzinfo=None)) == shown[number]  # naive: UTC
    assert len(set(shown)) == len(asked), shown
    assert shown[1].startswith("3 dec 2026, 14:07") and shown[3].endswith("22:07 JST")


def fresh_when(moment: datetime) -> str:
    name = moment.astimezone(ZoneInfo(reader_zone())).tzname() or ""
    return f"{format_date(moment, 'medium')}, {format_time(moment, 'short')} {name}"
