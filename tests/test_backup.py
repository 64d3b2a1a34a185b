"""`cowiki backup` while the wiki saves, and `cowiki restore` into an empty folder."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import insert

from app import create_app
from storage.gitcmd import run_git
from tests.conftest import LiveServer, cli
from tests.ops_support import Saver, assert_fsck_clean, token_session
from wiki.backup import create_backup
from wiki.db import Database
from wiki.dbschema import login_failures

ACCOUNT_QUERIES = {
    "users": "SELECT name, email, role, password_hash, active, created FROM users"
             " JOIN members ON members.user_id = users.id ORDER BY 1",
    "tokens": "SELECT user_id, token_hash, label, created FROM tokens ORDER BY 2",
}


def rows(data_dir: Path, table: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(data_dir / "cowiki.db")
    try:
        return conn.execute(ACCOUNT_QUERIES[table]).fetchall()
    finally:
        conn.close()


def git(data_dir: Path, *args: str) -> str:
    """The real git on the data dir's repository; a failure (GitFailed) quotes git's stderr."""
    return run_git(*args, git_dir=data_dir / "repo.git", timeout=60).text


def tree_at(data_dir: Path, revision: str) -> str:
    return git(data_dir, "ls-tree", "-r", "--full-tree", revision)


@pytest.fixture
def unlimited_saves(monkeypatch: pytest.MonkeyPatch) -> None:
    """The savers below share one account; the per-person save limit is not under test."""
    monkeypatch.setenv("COWIKI_RATE_SAVES", "0")


def test_backup_while_saving_restores_the_same_pages_history_and_users(
        unlimited_saves: None, live_server: LiveServer, tmp_path: Path) -> None:
    data = live_server.data_dir
    git(data, "tag", "-a", "-m", "first draft", "whitepaper-v0", "refs/heads/main")
    git(data, "notes", "add", "-m", "reviewed", "refs/heads/main")
    stop = threading.Event()
    session = token_session(live_server, "participant")
    savers = [Saver(live_server, session, f"Backup/saver-{i}", stop) for i in range(4)]
    for saver in savers:
        saver.start()
    time.sleep(1.0)
    archive = tmp_path / "wiki-backup.tar"
    done = cli(data, "backup", "--out", str(archive))
    time.sleep(0.5)
    stop.set()
    for saver in savers:
        saver.join()
    assert done.returncode == 0, done.stderr
    assert sum(len(s.acknowledged) for s in savers) > 5
    assert [f for s in savers for f in s.failures] == []

    restored = tmp_path / "restored"
    again = cli(restored, "restore", str(archive))
    assert again.returncode == 0, again.stderr
    head = git(restored, "rev-parse", "refs/heads/main").strip()
    assert git(data, "merge-base", "--is-ancestor", head, "refs/heads/main") == ""
    assert tree_at(restored, head) == tree_at(data, head)
    assert git(restored, "rev-list", head) == git(data, "rev-list", head)
    for refs in ("refs/tags", "refs/notes"):
        assert git(restored, "for-each-ref", refs) == git(data, "for-each-ref", refs)
    assert rows(restored, "users") == rows(data, "users")
    assert rows(restored, "tokens") == rows(data, "tokens")
    assert_fsck_clean(restored)
    assert_saves_were_audited(data, savers)


def assert_saves_were_audited(data: Path, savers: list[Saver]) -> None:
    """The server logged one JSON line per acknowledged save (cowiki.audit)."""
    events = [json.loads(line) for line in (data / "server.log").read_text().splitlines()
              if line.startswith("{")]
    saved = {e["revision"] for e in events if e.get("event") == "save" and e["via"] == "api"}
    acknowledged = {revision for s in savers for revision, _ in s.acknowledged}
    assert acknowledged <= saved


def test_restored_wiki_logs_in_with_old_tokens_and_finds_pages(tmp_path: Path) -> None:
    source = tmp_path / "source"
    app = create_app({"data_dir": str(source)})
    accounts = app.extensions["cowiki"].accounts
    user = accounts.add_user("anna", "anna@example.org", "participant", "anna-pass-123")
    token = accounts.create_token(user, "laptop")
    saved = app.test_client().put("/api/v1/pages/Kievit", auth=("anna", token),
                                  json={"markdown": "# Kievit\n\nDe kievit roept.\n"})
    assert saved.status_code == 201
    create_backup(source, tmp_path / "b.tar.gz")
    done = cli(tmp_path / "restored", "restore", str(tmp_path / "b.tar.gz"))
    assert done.returncode == 0, done.stderr
    restored = create_app({"data_dir": str(tmp_path / "restored")}).test_client()
    assert restored.get("/api/v1/pages/Kievit", auth=("anna", token)).status_code == 200
    found = restored.get("/api/v1/search?q=kievit", auth=("anna", token))
    assert [hit["path"] for hit in found.json["results"]] == ["Kievit"]
    assert found.json["fresh"]


def test_restore_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    source = tmp_path / "source"
    create_app({"data_dir": str(source)})
    create_backup(source, tmp_path / "b.tar")
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    done = cli(target, "restore", str(tmp_path / "b.tar"))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "not empty" in done.stderr
    assert [p.name for p in target.iterdir()] == ["notes.txt"]


def test_restore_refuses_a_damaged_archive_and_leaves_the_folder_empty(tmp_path: Path) -> None:
    source = tmp_path / "source"
    create_app({"data_dir": str(source)})
    create_backup(source, tmp_path / "b.tar")
    with tarfile.open(tmp_path / "b.tar") as tar, tarfile.open(tmp_path / "bad.tar", "w") as bad:
        for member in tar.getmembers():
            content = tar.extractfile(member)
            assert content is not None
            data = content.read()
            if member.name == "repo.bundle":
                data = data[:-40] + b"\0" * 40
            bad.addfile(member, fileobj=io.BytesIO(data))
    target = tmp_path / "target"
    target.mkdir()
    for archive in ("bad.tar", "missing.tar"):
        done = cli(target, "restore", str(tmp_path / archive))
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert list(target.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".cowiki")] == []


def test_backup_of_a_folder_without_a_wiki_is_refused(tmp_path: Path) -> None:
    done = cli(tmp_path / "nothing", "backup", "--out", str(tmp_path / "b.tar"))
    assert done.returncode == 2 and "no wiki" in done.stderr
    assert not (tmp_path / "nothing").exists() and not (tmp_path / "b.tar").exists()


def test_database_copies_are_consistent_while_accounts_are_written(
        tmp_path: Path, database_url: str) -> None:
    source = tmp_path / "source"
    create_app({"data_dir": str(source)})
    db = Database(database_url or source / "cowiki.db")
    stop = threading.Event()

    def write_rows() -> None:
        while not stop.is_set():
            with db.transaction() as conn:
                conn.execute(insert(login_failures).values(key="x", at=0.0))
                conn.execute(insert(login_failures).values(key="y", at=0.0))

    writer = threading.Thread(target=write_rows)
    writer.start()
    try:
        counts = []
        for number in range(5):
            create_backup(source, tmp_path / f"b{number}.tar", database_url)
            with tarfile.open(tmp_path / f"b{number}.tar") as tar:
                tar.extract("cowiki.db", tmp_path / f"copy{number}", filter="data")
            copy = sqlite3.connect(tmp_path / f"copy{number}" / "cowiki.db")
            assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            counts.append(copy.execute("SELECT count(*) FROM login_failures").fetchone()[0])
            copy.close()
    finally:
        stop.set()
        writer.join()
        db.dispose()
    assert all(count % 2 == 0 for count in counts)  # never half a transaction
    assert counts == sorted(counts) and counts[-1] > 0


def test_backup_holds_every_ref_in_one_bundle(tmp_path: Path) -> None:
    source = tmp_path / "source"
    create_app({"data_dir": str(source)})
    git(source, "tag", "whitepaper-v1", "refs/heads/main")
    info = create_backup(source, tmp_path / "b.tar")
    assert info.refs == 2 and info.head == git(source, "rev-parse", "refs/heads/main").strip()
    with tarfile.open(tmp_path / "b.tar") as tar:
        assert sorted(tar.getnames()) == ["cowiki-backup.json", "cowiki.db", "repo.bundle"]


@pytest.mark.parametrize("short_by", ["half", "one byte"])
def test_restore_of_a_truncated_compressed_archive_is_refused_in_one_line(
        tmp_path: Path, short_by: str) -> None:
    source = tmp_path / "source"
    create_app({"data_dir": str(source)})
    create_backup(source, tmp_path / "b.tar.gz")
    whole = (tmp_path / "b.tar.gz").read_bytes()
    cut = len(whole) // 2 if short_by == "half" else len(whole) - 1  # one: the gzip trailer
    (tmp_path / "cut.tar.gz").write_bytes(whole[:cut])
    target = tmp_path / "target"
    done = cli(target, "restore", str(tmp_path / "cut.tar.gz"))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"cowiki: error: {tmp_path / 'cut.tar.gz'} is cut short or damaged: its compressed "
        "data ends early or does not decompress"]
    assert not target.exists() or list(target.iterdir()) == []


def test_restore_of_a_file_that_is_no_archive_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.tar").write_text("just some notes\n")
    done = cli(tmp_path / "target", "restore", str(tmp_path / "notes.tar"))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"cowiki: error: {tmp_path / 'notes.tar'} is not a cowiki backup: not a .tar or "
        ".tar.gz archive"]
