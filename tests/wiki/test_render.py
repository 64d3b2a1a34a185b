"""Markdown renders to safe HTML: known XSS payloads come out inert, features still work."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from wiki.render import Renderer, page_title

DANGEROUS_TAGS = {"script", "iframe", "object", "embed", "style", "svg", "math", "form",
                  "base", "meta", "link", "frame", "frameset", "applet", "textarea",
                  "button", "select", "template", "noscript", "video", "audio", "source"}
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "background", "poster",
             "srcset", "data"}
SAFE_SCHEMES = ("http:", "https:", "mailto:")

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<img src=\"javascript:alert(1)\">",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<img src=`javascript:alert(1)`>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JAVASCRIPT:alert(1)\">x</a>",
    "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;:alert(1)\">x</a>",
    "<a href=\" javascript:alert(1)\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html,<script>alert(1)</script>)",
    "![img](javascript:alert(1))",
    "[x](vbscript:alert(1))",
    "<body onload=alert(1)>",
    "<div onmouseover=\"alert(1)\">hover</div>",
    "<p style=\"background:url(javascript:alert(1))\">x</p>",
    "<div style=\"width: expression(alert(1))\">x</div>",
    "<style>body{background:url('javascript:alert(1)')}</style>",
    "<link rel=stylesheet href=\"javascript:alert(1)\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<form action=\"javascript:alert(1)\"><input type=submit></form>",
    "<button formaction=\"javascript:alert(1)\">x</button>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=\"alert(1)\"></video>",
    "<audio src=x onerror=alert(1)>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<table background=\"javascript:alert(1)\"><tr><td>x</td></tr></table>",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    "<template><script>alert(1)</script></template>",
    "<a href=\"#\" onclick=\"alert(1)\">x</a>",
    "[[<script>alert(1)</script>]]",
    "[[Page|<img src=x onerror=alert(1)>]]",
    "```html\n<script>alert(1)</script>\n```",
    "`<script>alert(1)</script>`",
    "<scr<script>ipt>alert(1)</script>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<a href=\"https://ok.example\" target=\"_blank\" onclick=\"x()\">ok</a>",
    "- [ ] <img src=x onerror=alert(1)>",
    "<input type=\"text\" value=\"x\" onfocus=\"alert(1)\">",
    "Footnote[^1]\n\n[^1]: <script>alert(1)</script>",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    "<abbr title=\"x\" onmouseover=\"alert(1)\">a</abbr>",
    "<h1 id=\"x\" onclick=\"alert(1)\">x</h1>",
]


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def assert_inert(html: str) -> None:
    parser = Collector()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag not in DANGEROUS_TAGS, html
        for name, value in attrs:
            assert not name.startswith("on"), html
            assert name != "style" or "url(" not in (value or "") and "expression" not in (
                value or ""), html
            if name in URL_ATTRS and value and urlsplit(value.strip()).scheme:
                assert value.strip().lower().startswith(SAFE_SCHEMES), html
        if tag == "input":
            assert dict(attrs).get("type") == "checkbox", html


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def test_there_are_at_least_forty_payloads() -> None:
    assert len(PAYLOADS) >= 40


@pytest.mark.parametrize("payload", PAYLOADS)
def test_xss_payload_renders_inert(renderer: Renderer, payload: str) -> None:
    assert_inert(renderer.render(payload))
    assert_inert(renderer.render(f"# Title\n\nSome text {payload} more\n\n> {payload}\n"))


def test_headings_keep_their_ids(renderer: Renderer) -> None:
    assert '<h2 id="markt-en-klanten">Markt en klanten</h2>' in renderer.render(
        "## Markt en klanten")


def test_code_is_highlighted_with_classes(renderer: Renderer) -> None:
    html = renderer.render("```python\ndef f():\n    return 1\n```")
    assert 'class="highlight"' in html and '<span class="k">def</span>' in html


def test_tables_footnotes_and_tasks_render(renderer: Renderer) -> None:
    html = renderer.render("| a | b |\n|:--|--:|\n| 1 | 2 |\n\nNoot[^1]\n\n[^1]: uitleg\n\n"
                           "- [ ] open\n- [x] klaar\n")
    assert "<table>" in html and 'style="text-align:right"' in html
    assert 'href="#fn:1"' in html and "uitleg" in html
    boxes = re.findall(r"<input([^>]*)> (open|klaar)", html)
    assert [(label, "checked" in attrs) for attrs, label in boxes] == [("open", False),
                                                                      ("klaar", True)]
    assert all('type="checkbox"' in a and "disabled" in a for a, _ in boxes)


def test_wiki_links_point_to_pages(renderer: Renderer) -> None:
    html = renderer.render("Zie [[Hoofdstuk 1/Markt]] en [[Home|de start]].")
    assert 'href="/p/Hoofdstuk%201/Markt"' in html
    assert '>de start</a>' in html


def test_attachment_images_resolve_to_the_attachment_route(renderer: Renderer) -> None:
    html = renderer.render("![grafiek](attachments/grafiek.png)")
    assert 'src="/attachments/grafiek.png"' in html


def test_rendering_is_cached_by_blob_id(renderer: Renderer) -> None:
    first = renderer.render_blob("abc123", "# One")
    assert renderer.render_blob("abc123", "# Something else") == first


@pytest.mark.parametrize(("text", "title"), [
    ("# Markt *en* klanten\n\ntext", "Markt en klanten"),
    ("intro\n\n## Second level first\n", "Second level first"),
    ("no heading at all", "fallback"),
    ("# [[Link]] and [label](http://x)\n", "Link and label"),
])
def test_title_comes_from_first_heading(text: str, title: str) -> None:
    assert page_title(text, "fallback") == title
