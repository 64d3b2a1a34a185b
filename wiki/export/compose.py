"""The intermediate document as one HTML file: cover, contents, chapters, contributors.

The same markup feeds the PDF (with the print stylesheet), the single-file
HTML (with images inlined) and pandoc (without cover and contents, which
pandoc makes itself from the metadata).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from importlib.resources import files

from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped]

from wiki.export.credits import Credit
from wiki.export.document import Chapter, Document
from wiki.wikilang import N_, footnote_titles, translate

# The whitepaper's own words, in the outline's language from the same catalogs as the
# interface (the export runs in a worker process without flask: wiki/wikilang.py).
LABEL_TEXTS = {
    "contents": N_("Contents"), "credits": N_("Contributors"), "commits": N_("Edits"),
    "lines": N_("Lines"), "share": N_("Share"), "name": N_("Name"), "source": N_("Version"),
    "per_chapter": N_("Per chapter"), "made": N_("Made on"), "chapter": N_("Chapter"),
    "intro": N_("Everyone who wrote this text, ordered by how many lines of the final text"
                " are theirs."),
}


def labels_for(language: str) -> dict[str, str]:
    """The export's labels in `language` ('nl' or 'en')."""
    return {key: translate(language, text) for key, text in LABEL_TEXTS.items()}


def stylesheet(name: str) -> str:
    """A stylesheet shipped with the exporter ('print.css', 'screen.css')."""
    return files("wiki.export").joinpath(name).read_text("utf-8")


def source_line(doc: Document, labels: dict[str, str]) -> str:
    """The title page's plain-text line naming the version (or commit) and the date."""
    return f'{labels["source"]} {doc.reference} · {labels["made"]} {doc.date:%Y-%m-%d}'


def code_css() -> str:
    """Syntax highlighting rules for the `.highlight` blocks wiki.render produces."""
    rules: str = HtmlFormatter(style="friendly").get_style_defs(".highlight")
    return rules


def compose(doc: Document, css: str, image_src: Callable[[str], str],
            front_matter: bool = True) -> str:
    """The whole whitepaper as an HTML document.

    Args:
        doc: the intermediate document.
        css: stylesheet text placed in the head.
        image_src: maps an attachment name to the URL the output should use.
        front_matter: include the cover and table of contents (pandoc makes its own).
    """
    labels = labels_for(doc.outline.lang)
    parts = [cover(doc, labels), contents(doc, labels)] if front_matter else []
    parts += [footnote_titles(chapter(c, image_src), doc.outline.lang) for c in doc.chapters]
    parts.append(credits_section(doc, labels))
    return (f'<!doctype html>\n<html lang="{doc.outline.lang}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{escape(doc.outline.title)}</title>\n"
            f'<meta name="author" content="{escape(doc.outline.authors)}">\n'
            f'<meta name="generator" content="cowiki {escape(doc.reference)}">\n'
            f"<style>\n{css}\n{code_css()}\n</style>\n</head>\n<body>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")


def cover(doc: Document, labels: dict[str, str]) -> str:
    """The title page."""
    outline = doc.outline
    lines = [f'<section class="cover" id="cover">\n<h1 class="title">{escape(outline.title)}</h1>']
    if outline.subtitle:
        lines.append(f'<p class="subtitle">{escape(outline.subtitle)}</p>')
    if outline.authors:
        lines.append(f'<p class="authors">{escape(outline.authors)}</p>')
    lines.append(f'<p class="source">{labels["source"]} {escape(doc.reference)}<br>'
                 f'{labels["made"]} {doc.date:%Y-%m-%d}</p>\n</section>')
    return "\n".join(lines)


def contents(doc: Document, labels: dict[str, str]) -> str:
    """The table of contents; the print stylesheet adds page numbers."""
    items = [f'<li><a href="#{c.anchor}"><span class="num">{c.number}</span> '
             f"{escape(c.title)}</a></li>" for c in doc.chapters]
    items.append(f'<li class="back"><a href="#credits">{labels["credits"]}</a></li>')
    return (f'<nav class="toc" id="toc">\n<h1>{labels["contents"]}</h1>\n<ol>\n'
            + "\n".join(items) + "\n</ol>\n</nav>")


def chapter(c: Chapter, image_src: Callable[[str], str]) -> str:
    """One chapter with its number, title and body (image sources mapped)."""
    body = c.html
    for name in c.images:
        body = body.replace(f'src="attachments/{name}"', f'src="{escape(image_src(name))}"')
    return (f'<section class="chapter" id="{c.anchor}">\n'
            f'<h1 class="chapter-title"><span class="num">{c.number}</span> '
            f"{escape(c.title)}</h1>\n{body}\n</section>")


def credits_section(doc: Document, labels: dict[str, str]) -> str:
    """Every contributor with commits, lines and share, then who wrote which chapter."""
    rows = [f'<tr><td>{escape(p.name)}</td><td class="num">{p.commits}</td>'
            f'<td class="num">{p.lines}</td><td class="num">{p.share:.0%}</td></tr>'
            for p in doc.credits]
    table = (f'<table class="credits-table">\n<thead><tr><th>{labels["name"]}</th>'
             f'<th class="num">{labels["commits"]}</th><th class="num">{labels["lines"]}</th>'
             f'<th class="num">{labels["share"]}</th></tr></thead>\n<tbody>\n'
             + "\n".join(rows) + "\n</tbody>\n</table>")
    return (f'<section class="credits" id="credits">\n<h1>{labels["credits"]}</h1>\n'
            f'<p>{labels["intro"]}</p>\n{table}\n<h2>{labels["per_chapter"]}</h2>\n'
            f"{per_chapter(doc.chapters, doc.credits)}\n</section>")


def chapter_authors(chapters: tuple[Chapter, ...], people: tuple[Credit, ...]
                    ) -> list[tuple[Chapter, list[tuple[str, float]]]]:
    """Each chapter with its authors and their share of its lines, most lines first."""
    by_page: dict[str, list[tuple[str, int]]] = {}
    for person in people:
        for page, count in person.chapters:
            by_page.setdefault(page, []).append((person.name, count))
    result = []
    for c in chapters:
        authors = sorted(by_page.get(c.name, []), key=lambda a: -a[1])
        total = sum(n for _, n in authors) or 1
        result.append((c, [(name, n / total) for name, n in authors]))
    return result


def per_chapter(chapters: tuple[Chapter, ...], people: tuple[Credit, ...]) -> str:
    """A list of chapters, each with its authors and their share of its lines."""
    items = []
    for c, authors in chapter_authors(chapters, people):
        who = ", ".join(f"{escape(name)} ({share:.0%})" for name, share in authors)
        items.append(f'<li><span class="num">{c.number}</span> {escape(c.title)}: '
                     f'<span class="who">{who or "–"}</span></li>')
    return '<ul class="per-chapter">\n' + "\n".join(items) + "\n</ul>"
