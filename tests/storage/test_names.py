"""The one name validator refuses hostile names and canonicalises good ones."""

from __future__ import annotations

import unicodedata

import pytest

from storage.errors import InvalidPageName, InvalidRevision
from storage.names import (
    normalize_attachment_name,
    normalize_page_name,
    page_file,
    page_name_from_file,
    validate_revision,
    whole_number,
)

HOSTILE = [
    "", " ", "/", "..", "../etc/passwd", "a/../b", "a/./b", ".git", ".git/config",
    "a/.git", "-rf", "--end-of-options", ".hidden", "a//b", "a/ b", "a /b",
    "x" * 201, "é" * 101, "a\x00b", "a\nb", "a\tb", "a\u202eb", "a\\b", "a:b", "a*b",
    "a?b", "<script>", "page.md", "api", "API/x", "attachments", "attachments/x",
    "static/x", "Page/edit", "a/history", "x/blame", "_underscore", "a/_b", "~user",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_page_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidPageName):
        normalize_page_name(name)


@pytest.mark.parametrize("name", ["Home", "Hoofdstuk 1/Inleiding", "café", "Klant-reis_2",
                                  "x" * 200, "history/Overview", "Edit notes"])
def test_good_page_names_are_kept(name: str) -> None:
    assert normalize_page_name(name) == name


def test_page_names_are_nfc_and_trimmed() -> None:
    decomposed = unicodedata.normalize("NFD", "Coördinatie")
    assert normalize_page_name(f"  /{decomposed}/ ") == "Coördinatie"


def test_page_file_round_trips() -> None:
    assert page_file("Hoofdstuk 1/Inleiding") == "Hoofdstuk 1/Inleiding.md"
    assert page_name_from_file("Hoofdstuk 1/Inleiding.md") == "Hoofdstuk 1/Inleiding"
    assert page_name_from_file("../x.md") is None
    assert page_name_from_file("notes.txt") is None


@pytest.mark.parametrize("name", ["x.svg", "x.html", "../x.png", "a/b.png", ".png", "x.png.exe",
                                  "", "x"])
def test_hostile_attachment_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidPageName):
        normalize_attachment_name(name)


def test_attachment_names_replace_spaces() -> None:
    assert normalize_attachment_name("my photo.PNG") == "my-photo.PNG"


@pytest.mark.parametrize("rev", ["HEAD", "main", "-n1", "--all", "abc", "g" * 40, "a" * 41,
                                 "HEAD~1", "abc123456^", None, 42, ""])
def test_revisions_must_be_hex(rev: object) -> None:
    with pytest.raises(InvalidRevision):
        validate_revision(rev)


def test_hex_revisions_are_lowercased() -> None:
    assert validate_revision("ABCDEF1") == "abcdef1"


@pytest.mark.parametrize("raw", ["", "-1", "1.5", " 7", "²", "1" * 19, "1" * 5000, True, None, 2.0])
def test_whole_numbers_refuse_anything_else(raw: object) -> None:
    assert whole_number(raw) is None


def test_whole_numbers_are_bounded() -> None:
    assert whole_number("12") == whole_number(12) == 12
    assert whole_number("0", 1, 10) is None and whole_number("11", 1, 10) is None
