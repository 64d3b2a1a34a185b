"""The cowiki command: init, adduser, token, import; bad arguments exit 2 in one line."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from app import create_app
from tests.conftest import cli, post_form


def test_init_creates_the_data_dir_with_a_bare_repo(tmp_path: Path) -> None:
    data = tmp_path / "d"
    done = cli(data, "init")
    assert done.returncode == 0, done.stderr
    assert "adduser" in done.stdout  # tells how to create the first facilitator
    assert (data / "repo.git" / "HEAD").exists() and (data / "cowiki.db").exists()
    bare = subprocess.run(["git", "-C", str(data / "repo.git"), "rev-parse",
                           "--is-bare-repository"], capture_output=True, text=True)
    assert bare.stdout.strip() == "true"


def test_adduser_and_token(tmp_path: Path, database_url: str) -> None:
    data = tmp_path / "d"
    done = cli(data, "adduser", "Anna", "--email", "anna@example.org", "--role", "facilitator",
               "--password-stdin", stdin="lang-wachtwoord\n")
    assert done.returncode == 0, done.stderr
    again = cli(data, "adduser", "anna", "--email", "other@example.org", "--role", "reader",
                "--password-stdin", stdin="lang-wachtwoord\n")
    assert again.returncode == 2 and "already in use" in again.stderr, again.stderr
    token = cli(data, "token", "Anna")
    assert token.returncode == 0 and token.stdout.strip().startswith("cw_")


@pytest.mark.parametrize("args", [
    ["bogus"],
    ["adduser", "Anna", "--email", "x@example.org", "--role", "king", "--password-stdin"],
    ["adduser", "Anna", "--email", "not-an-email", "--role", "reader", "--password-stdin"],
    ["token", "nobody"],
    ["passwd", "nobody"],
    ["import", "/nonexistent-folder", "--author", "nobody"],
    ["serve", "--port", "0"],
    ["serve", "--port", "abc"],
])
def test_bad_arguments_exit_2_with_one_line(tmp_path: Path, args: list[str]) -> None:
    done = cli(tmp_path / "d", *args, stdin="short\n")
    assert done.returncode == 2, done
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_passwd_sets_a_new_password_or_prints_a_one_time_link(
        tmp_path: Path, database_url: str) -> None:
    data = tmp_path / "d"
    cli(data, "adduser", "Anna", "--email", "anna@example.org", "--role", "participant",
        "--password-stdin", stdin="lang-wachtwoord\n")
    done = cli(data, "passwd", "anna", stdin="tulpen in de lente\n")
    assert done.returncode == 0, done.stderr
    accounts = create_app({"data_dir": str(data)}).extensions["cowiki"].accounts
    assert accounts.authenticate("Anna", "tulpen in de lente") is not None
    assert accounts.authenticate("Anna", "lang-wachtwoord") is None
    for args, stdin, message in ((["passwd", "Anna"], "short\n", "8 characters"),
                                 (["passwd", "Bert"], "tulpen in de lente\n", "no user")):
        refused = cli(data, *args, stdin=stdin)
        assert refused.returncode == 2 and message in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    linked = cli(data, "passwd", "Anna", "--reset-link")
    assert linked.returncode == 0, linked.stderr
    path = linked.stdout.strip()
    assert re.fullmatch(r"/reset/[\w-]{40,}", path), linked.stdout
    browser = create_app({"data_dir": str(data)}).test_client()
    assert post_form(browser, path, new="krokussen in maart").status_code == 302
    assert accounts.authenticate("Anna", "krokussen in maart") is not None
    with_base = cli(data, "passwd", "Anna", "--reset-link",
                    env={"COWIKI_BASE_URL": "https://wiki.example.org/"})
    assert with_base.stdout.startswith("https://wiki.example.org/reset/"), with_base


def test_short_password_is_refused(tmp_path: Path) -> None:
    done = cli(tmp_path / "d", "adduser", "Anna", "--email", "a@example.org", "--role",
               "reader", "--password-stdin", stdin="short\n")
    assert done.returncode == 2 and "8 characters" in done.stderr


def test_import_commits_pages_by_the_author_and_skips_bad_files(tmp_path: Path) -> None:
    data, source = tmp_path / "d", tmp_path / "src"
    (source / "Hoofdstuk 1").mkdir(parents=True)
    (source / "Hoofdstuk 1" / "Markt.md").write_text("# Markt\n\nKlanten.\n")
    (source / "Visie.md").write_text("# Visie\n")
    (source / "notes.txt").write_text("not a page")
    (source / ".hidden.md").write_text("x")
    (source / "link.md").symlink_to("/etc/hostname")
    cli(data, "adduser", "Anna", "--email", "anna@example.org", "--role", "participant",
        "--password-stdin", stdin="lang-wachtwoord\n")
    done = cli(data, "import", str(source), "--author", "Anna")
    assert done.returncode == 0, done.stderr
    assert "Imported 2 page(s)" in done.stdout
    assert "notes.txt" in done.stderr and ".hidden.md" in done.stderr
    log = subprocess.run(["git", "-C", str(data / "repo.git"), "log", "-1", "--format=%an",
                          "--name-only", "main"], capture_output=True, text=True).stdout
    assert log.split() == ["Anna", "Hoofdstuk", "1/Markt.md", "Visie.md"]


def damage_every_packed_object(data: Path) -> None:
    """Pack the repository, then overwrite every object in the pack with garbage."""
    subprocess.run(["git", "--git-dir", str(data / "repo.git"), "gc", "--quiet"], check=True)
    for pack in (data / "repo.git" / "objects" / "pack").glob("*.pack"):
        pack.chmod(0o644)
        raw = pack.read_bytes()
        pack.write_bytes(raw[:12] + b"\xff" * (len(raw) - 32) + raw[-20:])


def test_check_on_a_damaged_pack_says_so_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "d"
    assert cli(data, "init").returncode == 0
    assert cli(data, "reindex").returncode == 0
    damage_every_packed_object(data)
    done = cli(data, "check")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("cowiki: error: the repository could not be read")
