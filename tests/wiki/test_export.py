"""The exported whitepaper in every format, checked as a reader would: text, order, credits."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.wiki.export_sample import ANNA, BRAM, CHLOE, SECRET, make_sample
from wiki.export.build import export, resolve
from wiki.export.credits import credits
from wiki.export.pdf import write_pdf

CHAPTERS = ["Inleiding", "Methode", "Resultaten", "Vijandige pagina"]
FORMATS = ("pdf", "html", "docx", "epub", "md")


@pytest.fixture(scope="module")
def paper(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("paper")
    secret = root / "secret.txt"
    secret.write_text(SECRET)
    services = make_sample(root / "data", secret)
    source = resolve(services.repo, None)
    outputs: dict[str, object] = {"services": services, "commit": source.commit}
    for fmt in FORMATS:
        outputs[fmt] = export(services.repo, services.history, source, fmt)
    pdf = root / "paper.pdf"
    pdf.write_bytes(outputs["pdf"])  # type: ignore[arg-type]
    outputs["pdf_path"] = pdf
    outputs["pdf_text"] = subprocess.run(["pdftotext", "-layout", str(pdf), "-"],
                                         capture_output=True, text=True, check=True).stdout
    return outputs


def positions(text: str, words: list[str], start: int = 0) -> list[int]:
    return [text.index(w, start) for w in words]


def zip_text(data: bytes, suffix: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = sorted(n for n in archive.namelist() if n.endswith(suffix))
        return "".join(archive.read(n).decode("utf-8") for n in names)


def test_pdf_has_title_page_then_contents_then_chapters_in_outline_order(paper):
    text = paper["pdf_text"]
    title, contents = text.index("Samen sterker"), text.index("Inhoud")
    assert title < contents
    in_toc = positions(text, CHAPTERS, contents)
    assert in_toc == sorted(in_toc)
    after_toc = text.index("Bijdragers", contents)  # the contents end with the credits entry
    bodies = positions(text, CHAPTERS, after_toc)
    assert bodies == sorted(bodies)


def test_pdf_contents_list_page_numbers(paper):
    toc = paper["pdf_text"].split("Inhoud", 1)[1].split("\f", 1)[0]
    assert [line.split()[-1] for line in toc.splitlines() if "..." in line] == [
        "3", "4", "5", "6", "7"]


def test_pdf_keeps_dutch_accented_words(paper):
    text = paper["pdf_text"].replace("\u2010\n", "").replace("-\n", "")
    for word in ("coördinatie", "één", "café", "Coördinatie tussen gemeenten"):
        assert word in text


def test_pdf_names_every_contributor_and_the_commit(paper):
    text = paper["pdf_text"]
    credits_part = text[text.rindex("Bijdragers"):]
    for person in (ANNA, BRAM, CHLOE):
        assert person.name in credits_part
    assert paper["commit"][:10] in text
    assert "cowiki@localhost" not in text


def test_credits_rank_authors_by_lines_in_the_final_text(paper):
    services = paper["services"]
    people = credits(services.history, paper["commit"],
                     ["Inleiding", "Methode", "Resultaten"], exclude=("cowiki@localhost",))
    assert [p.name for p in people] == [BRAM.name, ANNA.name, CHLOE.name]
    bram = people[0]
    assert bram.commits == 2 and dict(bram.chapters)["Methode"] > 10
    assert abs(sum(p.share for p in people) - 1.0) < 1e-9


def test_pdf_shows_the_attachment_image(paper, tmp_path):
    listing = subprocess.run(["pdfimages", "-list", str(paper["pdf_path"])],
                             capture_output=True, text=True, check=True).stdout
    assert "120    60" in listing


def test_wiki_links_become_references_inside_the_document(paper):
    html = paper["html"].decode("utf-8")
    assert '<a class="wikilink" href="#ch-2">Methode</a>' in html
    assert "/p/" not in html
    assert "Methode (p. 4)" in paper["pdf_text"]


def test_html_is_one_self_contained_file(paper):
    html = paper["html"].decode("utf-8")
    assert '<html lang="nl">' in html
    assert 'src="data:image/png;base64,' in html
    assert "<link" not in html and "src=\"http" not in html and "attachments/" not in html
    assert "“kernvragen” – zonder haast…" in html


def test_docx_is_a_zip_with_the_chapters_in_order(paper):
    text = zip_text(paper["docx"], "word/document.xml")
    found = positions(text, CHAPTERS)
    assert found == sorted(found)
    assert "coördinatie" in text


def test_epub_is_a_zip_with_one_file_per_chapter_in_order(paper):
    with zipfile.ZipFile(io.BytesIO(paper["epub"])) as archive:
        assert archive.read("mimetype") == b"application/epub+zip"
    text = zip_text(paper["epub"], ".xhtml")
    found = positions(text, CHAPTERS)
    assert found == sorted(found)


def test_markdown_zip_holds_pages_outline_and_attachments(paper):
    with zipfile.ZipFile(io.BytesIO(paper["md"])) as archive:
        names = archive.namelist()
        root = names[0].split("/")[0]
        outline = json.loads(archive.read(f"{root}/outline.json"))
        assert archive.read(f"{root}/Inleiding.md").startswith(b"# Inleiding")
    assert outline["pages"] == ["Inleiding", "Methode", "Resultaten", "Vijandig"]
    assert outline["commit"] == paper["commit"]
    assert f"{root}/attachments/schema.png" in names


def test_markdown_zip_ends_with_the_contributors_section_like_the_other_formats(paper):
    with zipfile.ZipFile(io.BytesIO(paper["md"])) as archive:
        root = archive.namelist()[0].split("/")[0]
        text = archive.read(f"{root}/_contributors.md").decode("utf-8")
    assert text.startswith("# Bijdragers\n")
    assert f"Versie {paper['commit'][:10]}" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[0] == "| Naam | Bijdragen | Regels | Aandeel |"
    assert [row.split(" | ")[0][2:] for row in rows[1:]] == [
        BRAM.name, ANNA.name, CHLOE.name]  # the same order as the PDF's table
    assert "## Per hoofdstuk" in text and "- 2 Methode: Bram Öztürk (" in text
    assert "cowiki@localhost" not in text


def test_markdown_credits_escape_names_that_look_like_markup() -> None:
    from wiki.export.bundle import _plain

    assert _plain("Eva | *de* [Boer]") == "Eva \\| \\*de\\* \\[Boer\\]"


def test_docx_and_epub_title_pages_name_the_commit(paper):
    line = f"Versie {paper['commit'][:10]} · Gemaakt op "
    assert line in zip_text(paper["docx"], "word/document.xml")
    assert line in zip_text(paper["epub"], "title_page.xhtml")
    with zipfile.ZipFile(io.BytesIO(paper["epub"])) as archive:
        opf = archive.read("EPUB/content.opf").decode("utf-8")
    assert '<dc:date id="epub-date">20' in opf  # the machine-readable date stays a date


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_page_leaks_no_server_file_into_any_format(paper, fmt):
    data: bytes = paper[fmt]
    hostname = Path("/etc/hostname").read_text().strip()
    texts = [data]
    if fmt in ("docx", "epub", "md"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            texts += [archive.read(n) for n in archive.namelist()]
    if fmt == "pdf":
        texts.append(paper["pdf_text"].encode())
    for blob in texts:
        assert SECRET.encode() not in blob.replace(b"http://127.0.0.1:9/" + SECRET.encode(), b"")
        if len(hostname) >= 6:
            assert hostname.encode() not in blob


def test_pdf_fetcher_refuses_files_network_and_stylesheets(paper, tmp_path):
    services, secret = paper["services"], str(Path(paper["pdf_path"]).parent / "secret.txt")
    hostile = f"""<html><head>
    <link rel="stylesheet" href="file://{secret}"><link rel="attachment" href="file://{secret}">
    <style>@import url("file://{secret}"); @import "/etc/hostname";
    p {{ background: url(http://127.0.0.1:9/x.png) }}</style></head><body>
    <p>Schoon</p><img src="file://{secret}"><img src="{secret}"><img src="/etc/hostname">
    <img src="attachments/schema.png"><object data="file://{secret}"></object></body></html>"""
    pdf, fetcher = write_pdf(hostile, services.repo, paper["commit"])
    assert fetcher.served == ["schema.png"]
    assert any(u.startswith("file://") for u in fetcher.refused)
    assert any("hostname" in u for u in fetcher.refused)
    assert SECRET.encode() not in pdf
    path = tmp_path / "hostile.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(["pdfdetach", "-list", str(path)], capture_output=True, text=True)
    assert listing.stdout.startswith("0 embedded files")
