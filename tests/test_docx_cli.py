"""`cowiki import FILE.docx`: a Word document as a page from the command line, errors in one
line with exit status 2."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import cli
from tests.docx_support import docx


def wiki_with_anna(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    done = cli(data, "adduser", "anna", "--email", "anna@example.org", "--role", "participant",
               "--password-stdin", stdin="anna-pass-123\n")
    assert done.returncode == 0, done.stderr
    return data


def test_a_word_document_becomes_a_page_credited_to_the_author(tmp_path: Path) -> None:
    data = wiki_with_anna(tmp_path)
    source = tmp_path / "Ons verslag.docx"
    source.write_bytes(docx())
    done = cli(data, "import", str(source), "--author", "anna")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Imported Ons verslag with 1 image(s) in commit ")
    log = subprocess.run(["git", "--git-dir", str(data / "repo.git"), "log", "-1",
                          "--format=%an", "--name-only"], capture_output=True, text=True,
                         check=True).stdout
    assert log.split() == ["anna", "Ons", "verslag.md", "attachments/Ons-verslag-1.png"]
    again = cli(data, "import", str(source), "--author", "anna", "--page", "Ons verslag")
    assert again.returncode == 2 and again.stderr.count("\n") == 1
    assert "already exists" in again.stderr


def test_a_file_that_is_not_word_is_one_line_and_exit_2(tmp_path: Path) -> None:
    data = wiki_with_anna(tmp_path)
    source = tmp_path / "notes.docx"
    source.write_text("gewoon tekst")
    done = cli(data, "import", str(source), "--author", "anna")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "not a Word document (.docx)" in done.stderr
    folder = cli(data, "import", str(tmp_path), "--author", "anna", "--page", "X")
    assert folder.returncode == 2 and "--page is for a Word document" in folder.stderr
