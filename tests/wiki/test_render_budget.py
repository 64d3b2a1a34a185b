"""Hostile Markdown formats in linear time, or within its budget as plain text, never blocking.

Each input below took the old renderer many seconds (measured: 5-80 s); the
bounds here leave a slow CI machine several times the time it takes now.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from tests.conftest import PASSWORDS, csrf
from wiki.render import Budget, Renderer, format_html, is_plain
from wiki.renderer import INLINE_CHARS

HOSTILE = {
    # 13.9 s before: each `[` read to the end of the paragraph looking for its `]`.
    "8,000 open brackets": "[" * 8000,
    # 11.7 s: the same, paragraph by paragraph (below the dense-text limit).
    "15 paragraphs of 1,900 brackets": ("[" * 1900 + "\n\n") * 15,
    # 15.5 s: a 10,000-character comment of `[[`.
    "a comment of 5,000 [[": "[[" * 5000,
    # 4.5 s: 10,000 headings without blank lines; the table test read the whole rest each time.
    "10,000 headings in one block": "# h\n" * 10000,
    # 7.3 s: 10,000 setext headings; the heading search read the whole rest each time.
    "10,000 setext headings": "h\n=\n" * 10000,
    # 5.0 s: 10,000 rules.
    "10,000 rules in one block": "---\n" * 10000,
    # ~30 s: 6,000 references to one footnote; each probed all earlier ids.
    "6,000 references to one footnote": ("x[^1] " * 300 + "\n\n") * 20 + "[^1]: a\n",
    # 7.1 s: the raw-HTML scanner read each `<a` as a tag to the end of the text.
    "10,000 unclosed <a": "<a " * 10000,
    # 4.5 s: each inline match rebuilt the whole paragraph.
    "30,000 escapes in one paragraph": "\\[" * 30000,
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_markdown_formats_in_linear_time(text: str) -> None:
    start = time.perf_counter()
    html = format_html((text, "/", False))  # in this thread: no budget to hide behind
    assert time.perf_counter() - start < 2.0
    assert not is_plain(html) and html.strip()


def test_footnote_references_keep_their_numbering() -> None:
    html = format_html(("a[^1] b[^1] c[^1]\n\n[^1]: noot\n", "/", False))
    assert 'id="u-fnref:1"' in html and 'id="u-fnref2:1"' in html and 'id="u-fnref3:1"' in html
    assert html.count('class="footnote-backref"') == 3


def test_a_dense_paragraph_stays_readable_text() -> None:
    html = format_html(("\\[" * 30000, "/", False))
    assert html.startswith("<p>") and html.count("[") >= 30000


SLOW = "# h\n\n" * 60_000  # 300 KB that take several seconds even now: linear, but long
NORMAL = "# Plan\n\nEen *gewone* pagina met een [[Home|link]].\n"


def test_a_text_over_the_budget_is_shown_as_is_within_it() -> None:
    renderer = Renderer(budget=Budget(seconds=0.5, workers=1))
    start = time.perf_counter()
    html = renderer.render(SLOW + "<script>x</script>")
    assert time.perf_counter() - start < 2.0
    assert is_plain(html) and "&lt;script&gt;" in html and "<script>" not in html
    start = time.perf_counter()
    assert renderer.render(SLOW + "<script>x</script>") == html  # kept, not tried again
    assert time.perf_counter() - start < 0.1


def test_a_hostile_render_does_not_block_a_normal_one() -> None:
    renderer = Renderer(budget=Budget(seconds=1.5, workers=1))
    hostile = threading.Thread(target=renderer.render, args=(SLOW,))
    hostile.start()
    time.sleep(0.2)
    times = []
    for n in range(5):
        start = time.perf_counter()
        html = renderer.render(NORMAL + f"\n{n}\n")
        times.append(time.perf_counter() - start)
        assert "<em>gewone</em>" in html
    hostile.join()
    assert max(times) < 0.3, times


def test_readers_of_one_page_share_one_render() -> None:
    # One worker: four separate renders would queue past the wait and fall back to plain.
    text = "# h\n\n" * 12_000 + "slot"
    assert len(text) > INLINE_CHARS
    renderer = Renderer(budget=Budget(seconds=1.5, workers=1))
    results: list[str] = []
    readers = [threading.Thread(target=lambda: results.append(renderer.render_blob("b1", text)))
               for _ in range(4)]
    start = time.perf_counter()
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    assert time.perf_counter() - start < 2.0
    assert len(results) == 4 and len(set(results)) == 1 and not is_plain(results[0])


def test_a_comment_is_formatted_once(app: Flask) -> None:
    services = app.extensions["cowiki"]
    user = services.accounts.by_name("participant")
    comment = services.comments.add("Home", user, "[[" * 5000)
    before = services.renderer.stats()["entries"]
    start = time.perf_counter()
    for _ in range(20):
        assert services.comments.get(comment.id).html == comment.html
    assert time.perf_counter() - start < 1.0
    assert services.renderer.stats()["entries"] == before


def test_the_index_formats_with_the_app_renderer(app: Flask) -> None:
    services = app.extensions["cowiki"]
    assert services.indexer.renderer is services.renderer


@pytest.fixture
def slow_app(tmp_path: Path) -> Flask:
    app = create_app({"data_dir": str(tmp_path / "data"), "render_seconds": 0.3})
    app.config["TESTING"] = True
    app.extensions["cowiki"].accounts.add_user("participant", "p@example.org", "participant",
                                               PASSWORDS["participant"])
    return app


def test_a_page_over_the_budget_shows_its_text_with_a_notice(slow_app: Flask) -> None:
    services = slow_app.extensions["cowiki"]
    services.pages.save("Zwaar", SLOW + "<b>vet</b>", None, services.server, "zwaar")
    client = slow_app.test_client()
    client.post("/login", data={"name": "participant", "password": PASSWORDS["participant"],
                                "csrf_token": csrf(client)})
    for language, notice in (("en", "This page is too complex to format"),
                             ("nl", "Deze pagina is te ingewikkeld om op te maken")):
        start = time.perf_counter()
        page = client.get("/p/Zwaar", headers={"Accept-Language": language})
        assert time.perf_counter() - start < 2.0
        assert page.status_code == 200 and notice in page.text
        assert "&lt;b&gt;vet&lt;/b&gt;" in page.text
