"""The wiki's language: what the wiki writes into git and into the whitepaper, from the catalogs."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import pytest

from storage.repository import Person
from tests.conftest import cli
from wiki.changes import SERVER
from wiki.config import Settings
from wiki.datadir import Services, open_data_dir
from wiki.export import outline as outlines
from wiki.export.build import Source, export
from wiki.importer import import_tree
from wiki.wikilang import footnote_titles

BERT = Person("Bert Jansen", "bert@example.org")


def wiki(tmp_path: Path, language: str) -> Services:
    settings = Settings.load({"data_dir": str(tmp_path / language), "language": language})
    return open_data_dir(settings)


def subjects(services: Services) -> list[str]:
    done = subprocess.run(["git", "--git-dir", str(services.repo.path), "log", "--format=%s"],
                          capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def contributors_md(services: Services, default_lang: str) -> str:
    head = services.repo.head()
    assert head is not None
    data = export(services.repo, services.history, Source(head, None), "md",
                  default_lang=default_lang)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        name = next(n for n in archive.namelist() if n.endswith("/_contributors.md"))
        return archive.read(name).decode("utf-8")


def test_follow_up_commits_of_a_dutch_wiki_are_dutch(tmp_path: Path) -> None:
    services = wiki(tmp_path, "nl")
    services.pages.save("Klantreis", "# Klantreis\n", None, BERT)
    outlines.save(services.repo, outlines.Outline("Whitepaper", pages=("Klantreis",)), BERT,
                  services.changes, SERVER, services.language)
    services.pages.save("Kladblok", "# Kladblok\n", None, BERT)
    services.pages.rename("Klantreis", "Hoofdstuk 2/Klantreis", BERT)
    log = subjects(services)
    assert "Inhoudsopgave bijgewerkt" in log
    assert "Kladblok aan de inhoudsopgave toegevoegd" in log
    assert ("Hernoemen van Klantreis naar Hoofdstuk 2/Klantreis bijgewerkt in links en"
            " inhoudsopgave") in log


def test_an_import_into_a_dutch_wiki_says_so_in_dutch(tmp_path: Path) -> None:
    services = wiki(tmp_path, "nl")
    folder = tmp_path / "map"
    folder.mkdir()
    (folder / "Notities.md").write_text("# Notities\n", encoding="utf-8")
    import_tree(services, folder, BERT)
    assert subjects(services)[0] == "Eén pagina geïmporteerd uit map"
    (folder / "Notities.md").write_text("# Notities, opnieuw\n", encoding="utf-8")
    (folder / "Plan.md").write_text("# Plan\n", encoding="utf-8")
    import_tree(services, folder, BERT)
    assert subjects(services)[0] == "2 pagina's geïmporteerd uit map"


def test_a_dutch_outline_gets_a_dutch_contributors_heading(tmp_path: Path) -> None:
    services = wiki(tmp_path, "en")
    services.pages.save("Klantreis", "# Klantreis\n\nTekst.\n", None, BERT)
    outlines.save(services.repo, outlines.Outline("Whitepaper", pages=("Klantreis",), lang="nl"),
                  BERT, services.changes, SERVER)
    text = contributors_md(services, "en")
    assert text.startswith("# Bijdragers\n") and "| Naam | Bijdragen | Regels | Aandeel |" in text
    assert "git blame" not in text and "volgens git" not in text


def test_an_outline_without_a_language_follows_the_wiki(tmp_path: Path) -> None:
    services = wiki(tmp_path, "en")
    services.pages.save("Journey", "# Journey\n\nText.\n", None, BERT)
    assert contributors_md(services, "en").startswith("# Contributors\n")
    assert contributors_md(services, "nl").startswith("# Bijdragers\n")


def test_footnote_backlinks_get_a_dutch_tooltip() -> None:
    html = ('<a class="footnote-backref" href="#fnref:1"'
            ' title="Jump back to footnote 1 in the text">')
    assert 'title="Terug naar voetnoot 1 in de tekst"' in footnote_titles(html, "nl")
    assert 'title="Back to footnote 1 in the text"' in footnote_titles(html, "en")


def test_cowiki_init_writes_the_welcome_page_in_the_wiki_language(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COWIKI_LANGUAGE", "nl")
    assert cli(tmp_path / "data", "init").returncode == 0
    services = open_data_dir(Settings.load({"data_dir": str(tmp_path / "data")}))
    home = services.pages.get("Home").markdown
    assert home.startswith("# Welkom bij cowiki") and "[[Inleiding]]" in home
    assert subjects(services) == ["Wiki aangemaakt"]
