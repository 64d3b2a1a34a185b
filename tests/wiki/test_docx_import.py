"""A Word document becomes a page: headings, tables and images come through, in one commit by
the importer; documents that are not Word, too large or zip bombs are refused before pandoc."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from storage.repository import Person
from tests.docx_support import docx, png, with_media_renamed, zip_of
from wiki.changes import Origin
from wiki.config import Settings
from wiki.datadir import Services, open_data_dir
from wiki.docx_import import import_docx
from wiki.errors import InvalidInput, PageExists, PageTooLarge
from wiki.export.pandoc import PandocFailed, run

ANNA = Person("Anna de Vries", "anna@example.org")
WEB = Origin(None, "web")


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return open_data_dir(Settings.load({"data_dir": str(tmp_path / "data"),
                                        "max_attachment_bytes": 200_000}))


def git(services: Services, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(services.repo.path), *args], check=True,
                          capture_output=True, text=True).stdout


def commits(services: Services) -> int:
    return int(git(services, "rev-list", "--count", "main"))


def test_headings_table_and_image_come_through_in_one_commit_by_the_importer(
        services: Services) -> None:
    before = commits(services)
    done = import_docx(services.pages, services.attachments, "Hoofdstuk 2/Aanpak", docx(),
                       ANNA, WEB, "verslag.docx")
    text = services.pages.get("Hoofdstuk 2/Aanpak").markdown
    assert text.startswith("# Aanpak van het probleem\n")
    assert "\n## Resultaten\n" in text and "café ☕" in text
    assert "| Naam | Score |" in text and "| Anna |" in text  # a pipe table
    assert done.attachments == ("Aanpak-1.png",)
    assert "![Een rode stip](attachments/Aanpak-1.png)" in text
    assert services.attachments.get("Aanpak-1.png").data == png()
    assert commits(services) == before + 1
    last = git(services, "log", "-1", "--format=%an <%ae>%n%s", "--name-only")
    assert last.splitlines()[:2] == ["Anna de Vries <anna@example.org>",
                                     "Hoofdstuk 2/Aanpak geïmporteerd uit het Word-document"
                                     " verslag.docx"]  # in the wiki's language
    assert set(last.split("\n\n", 1)[1].split()) == {"Hoofdstuk", "2/Aanpak.md",
                                                    "attachments/Aanpak-1.png"}
    html = services.renderer.render(text)
    assert "<table>" in html and '<h2 id="u-resultaten">' in html
    assert 'src="/attachments/Aanpak-1.png"' in html


def test_text_that_looks_like_html_stays_text(services: Services) -> None:
    document = docx("# Kop\n\nZie \\<script\\>alert(1)\\</script\\> hier.\n")
    import_docx(services.pages, services.attachments, "Kop", document, ANNA, WEB)
    html = services.renderer.render(services.pages.get("Kop").markdown)
    assert "<script" not in html and "&lt;script&gt;" in html


def test_an_image_of_another_document_keeps_its_own_name(services: Services) -> None:
    import_docx(services.pages, services.attachments, "Een", docx(), ANNA, WEB)
    services.attachments.add("Twee-1.png", png(red=1), ANNA)  # taken by another image
    done = import_docx(services.pages, services.attachments, "Twee", docx(), ANNA, WEB)
    assert done.attachments == ("Twee-1-2.png",)
    assert services.attachments.get("Twee-1.png").data == png(red=1)
    assert "attachments/Twee-1-2.png" in services.pages.get("Twee").markdown


def test_an_image_type_the_wiki_does_not_keep_is_left_out_with_its_description(
        services: Services) -> None:
    document = with_media_renamed(docx(), "rId9.png", "rId9.tiff")
    done = import_docx(services.pages, services.attachments, "Tiff", document, ANNA, WEB)
    assert done.attachments == () and done.left_out == ("media/rId9.tiff",)
    text = services.pages.get("Tiff").markdown
    assert "[Een rode stip]" in text and "media/" not in text
    assert services.attachments.names() == []


def test_a_page_with_text_is_never_overwritten(services: Services) -> None:
    services.pages.save("Plan", "# Plan\n\nOns plan.\n", None, ANNA)
    head = services.repo.head()
    with pytest.raises(PageExists):
        import_docx(services.pages, services.attachments, "Plan", docx(), ANNA, WEB)
    with pytest.raises(PageExists):  # nor a page whose name differs only in case
        import_docx(services.pages, services.attachments, "plan", docx(), ANNA, WEB)
    assert services.repo.head() == head


def test_an_empty_page_takes_the_import(services: Services) -> None:
    services.pages.save("Leeg", "", None, ANNA)
    done = import_docx(services.pages, services.attachments, "Leeg", docx(), ANNA, WEB)
    assert not done.created
    assert services.pages.get("Leeg").markdown.startswith("# Aanpak van het probleem")


@pytest.mark.parametrize("data", [
    png(),
    b"Gewoon een tekstbestand.\n",
    zip_of({"word/styles.xml": b"<w:styles/>"}),  # a zip, but no Word body
    b"",
])
def test_a_file_that_is_not_a_word_document_is_refused_clearly(services: Services,
                                                              data: bytes) -> None:
    with pytest.raises(InvalidInput, match=r"not a Word document \(\.docx\)"):
        import_docx(services.pages, services.attachments, "Niet", data, ANNA, WEB)
    assert services.pages.find("Niet") is None


def test_a_document_pandoc_cannot_read_is_refused_clearly(services: Services) -> None:
    broken = zip_of({"word/document.xml": b"<not really word", "[Content_Types].xml": b"<"})
    with pytest.raises(InvalidInput, match="could not be read"):
        import_docx(services.pages, services.attachments, "Kapot", broken, ANNA, WEB)


def test_a_zip_bomb_is_refused_before_it_is_unpacked_whole(services: Services) -> None:
    limit = services.attachments.max_bytes
    bomb = zip_of({"word/document.xml": b"<w:document/>", "word/media/big.png": bytes(
        20 * limit)})
    assert len(bomb) < limit  # small on the way in
    with pytest.raises(PageTooLarge, match="unpacks to more than"):
        import_docx(services.pages, services.attachments, "Bom", bomb, ANNA, WEB)


def test_a_document_over_the_upload_limit_is_refused(services: Services) -> None:
    with pytest.raises(PageTooLarge):
        import_docx(services.pages, services.attachments, "Groot",
                    bytes(services.attachments.max_bytes + 1), ANNA, WEB)


def test_a_table_markdown_cannot_hold_stays_a_table_and_is_sanitised(
        services: Services) -> None:
    grid = ("+------+-------------+\n| Kop  | Inhoud      |\n+======+=============+\n"
            "| A    | - een       |\n|      | - twee      |\n+------+-------------+\n")
    import_docx(services.pages, services.attachments, "Raster", docx(f"# Raster\n\n{grid}"),
                ANNA, WEB)
    text = services.pages.get("Raster").markdown
    assert "<table" in text and "style=" in text  # pandoc's HTML, as it wrote it
    html = services.renderer.render(text)
    assert "<table>" in html and "<li>twee</li>" in html and "style=" not in html


def test_pandoc_that_takes_too_long_is_stopped(tmp_path: Path) -> None:
    with pytest.raises(PandocFailed, match="no answer within"):
        run(["--from=markdown", "--to=html"], b"# Kop\n" * 200_000, tmp_path, timeout=0.01)
    assert run(["--from=markdown", "--to=html"], b"# Kop\n", tmp_path, timeout=60,
               memory="256m").strip() == b'<h1 id="kop">Kop</h1>'
