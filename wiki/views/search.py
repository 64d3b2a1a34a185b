"""Search: the results page at /search and the JSON answer at /api/v1/search."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import gettext

from wiki.errors import InvalidInput
from wiki.search import SearchResults
from wiki.views import services
from wiki.views.access import allow
from wiki.views.api import int_arg

bp = Blueprint("search", __name__)
LANGUAGES = ("nl", "en")
PER_PAGE = 10
MAX_PAGE = 1000


def lang_arg() -> str | None:
    """The optional `lang` argument: nl, en or nothing."""
    lang = request.args.get("lang", "").strip().lower()
    if lang and lang not in LANGUAGES:
        raise InvalidInput(gettext("'lang' must be nl or en"))
    return lang or None


def run_search(per_page: int) -> SearchResults:
    """The search the request asks for (q, lang, page)."""
    return services().indexer.search(
        request.args.get("q", ""), lang=lang_arg(), page=int_arg("page", 1, 1, MAX_PAGE),
        per_page=per_page,
    )


@bp.get("/search")
@allow("reader")
def results() -> str:
    found = run_search(PER_PAGE)
    return render_template("search/results.html", results=found, lang=lang_arg() or "")


@bp.get("/api/v1/search")
@allow("reader")
def api_search() -> Response:
    found = run_search(int_arg("limit", 10, 1, 100))
    return jsonify(
        total=found.total, page=found.page, pages=found.pages, fresh=found.fresh,
        suggestion=found.suggestion,
        results=[{"path": h.path, "title": h.title, "snippet": h.snippet, "score": h.score,
                  "author": h.author, "date": h.date.isoformat() if h.date else None}
                 for h in found.hits],
    )
