"""`cowiki migrate-db` between SQLite and PostgreSQL, and backups that cross engines.

Every test runs on real engines: the data dir's SQLite file and databases in the
session's throwaway PostgreSQL cluster (tests/pgcluster.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import socket
import sqlite3
import tarfile
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import create_app
from tests.conftest import PASSWORDS, cli
from tests.pgcluster import Cluster
from wiki import sqlite_legacy
from wiki.backup import create_backup
from wiki.db import Database
from wiki.dbschema import comments, metadata

Rows = dict[str, list[tuple[object, ...]]]


def auth(role: str) -> tuple[str, str]:
    return role, PASSWORDS[role]


def fill(app: Flask) -> None:
    """A small workshop: pages, passage comments and replies, reactions, a report,
    notifications, a suggestion, a draft, a token and an invite, made through the app."""
    services = app.extensions["cowiki"]
    client = app.test_client()
    facilitator = services.accounts.by_name("facilitator")
    services.notifications.follow(facilitator.id, "Kievit")
    saved = client.put("/api/v1/pages/Kievit", auth=auth("participant"),
                       json={"markdown": "# Kievit\n\nDe kievit roept in het voorjaar.\n"})
    assert saved.status_code == 201, saved.text
    revision = saved.json["revision"]
    anchored = client.post("/api/v1/pages/Kievit/comments", auth=auth("participant"), json={
        "body": "Welk voorjaar, @facilitator?",
        "anchor": {"revision": revision, "quote": "voorjaar", "occurrence": 0}})
    assert anchored.status_code == 201, anchored.text
    first = anchored.json["id"]
    reply = client.post("/api/v1/pages/Kievit/comments", auth=auth("facilitator"),
                        json={"body": "Maart.", "parent": first})
    assert reply.status_code == 201, reply.text
    for url in (f"/api/v1/comments/{first}/reactions", "/api/v1/pages/Kievit/reactions"):
        assert client.post(url, auth=auth("facilitator"), json={"kind": "idea"}).status_code \
            in (200, 201)
    assert client.post(f"/api/v1/comments/{first}/report", auth=auth("facilitator"),
                       json={"reason": "off-topic"}).status_code in (200, 201)
    proposed = client.post("/api/v1/pages/Kievit/suggestions", auth=auth("participant"), json={
        "markdown": "# Kievit\n\nDe kievit roept in maart.\n", "base_revision": revision,
        "note": "preciezer"})
    assert proposed.status_code == 201, proposed.text
    drafted = client.put("/api/v1/pages/Kievit/draft", auth=auth("facilitator"),
                         json={"markdown": "# Kievit\n\nHalf af", "base_revision": revision})
    assert drafted.status_code in (200, 201, 204), drafted.text
    services.accounts.create_token(facilitator, "laptop")
    invited = client.post("/api/v1/invites", auth=auth("facilitator"),
                          json={"role": "participant", "expires_days": 7, "max_uses": 3})
    assert invited.status_code == 201, invited.text
    services.db.dispose()  # the wiki stops before its database moves


def table_rows(url: str) -> Rows:
    """Every row of every table, in a stable order, to compare two databases."""
    db = Database(url)
    try:
        conn = db.connect()
        return {table.name: sorted((tuple(row) for row in conn.execute(select(table))),
                                   key=repr) for table in metadata.sorted_tables}
    finally:
        db.dispose()


def empty_database(postgres: Cluster, name: str) -> str:
    """A PostgreSQL database with nothing in it, not even cowiki's tables."""
    with postgres.admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres.url(name)


def migrate(data_dir: Path, to: str, now: str) -> str:
    """`cowiki migrate-db --to` for a wiki whose database is at `now`; its stdout."""
    done = cli(data_dir, "migrate-db", "--to", to, env={"COWIKI_DATABASE_URL": now})
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def cluster(postgres: Cluster | None) -> Cluster:
    if postgres is None:
        pytest.skip("PostgreSQL is not installed here")
    return postgres


def new_comment_id(data_dir: Path, url: str) -> int:
    """Add a comment to the wiki running on `url`; its id."""
    app = create_app({"data_dir": str(data_dir), "database_url": url})
    made = app.test_client().post("/api/v1/pages/Kievit/comments", auth=auth("participant"),
                                  json={"body": "Nog een vraag."})
    app.extensions["cowiki"].db.dispose()
    assert made.status_code == 201, made.text
    return int(made.json["id"])


def highest_comment(url: str) -> int:
    db = Database(url)
    try:
        return int(db.connect().execute(select(func.max(comments.c.id))).scalar_one())
    finally:
        db.dispose()


def test_round_trip_to_the_other_engine_and_back_keeps_every_row(
        app: Flask, data_dir: Path, database_url: str, cluster: Cluster,
        tmp_path: Path) -> None:
    fill(app)
    start = database_url or f"sqlite:///{data_dir / 'cowiki.db'}"
    before = table_rows(start)
    assert all(before[t] for t in ("users", "comments", "reactions", "comment_reports",
                                   "notifications", "suggestions", "drafts", "passage_places",
                                   "discussion_stamps", "tokens", "invites"))
    # SQLite → PostgreSQL → SQLite, or PostgreSQL → SQLite → a brand-new PostgreSQL database.
    if database_url:
        there, back = f"sqlite:///{tmp_path / 'there.db'}", empty_database(cluster, "back")
    else:
        there, back = cluster.fresh_database(), f"sqlite:///{tmp_path / 'back.db'}"
    report = migrate(data_dir, there, database_url)
    assert f"users {len(before['users'])} → {len(before['users'])}" in report
    assert f"comments {len(before['comments'])} → {len(before['comments'])}" in report
    assert "COWIKI_DATABASE_URL" in report
    assert table_rows(there) == before
    migrate(data_dir, back, there)
    assert table_rows(back) == before
    assert table_rows(start) == before  # the old database is left as it was

    again = cli(data_dir, "migrate-db", "--to", there, env={"COWIKI_DATABASE_URL": back})
    assert again.returncode == 2
    assert again.stderr.count("\n") == 1 and "already holds data" in again.stderr
    for url in (there, back):  # ids go on after the copied ones, on either engine
        assert new_comment_id(data_dir, url) == highest_comment(start) + 1


@pytest.mark.parametrize("url", ["mysql://cowiki@localhost/wiki", "no url at all",
                                 "postgresql+psycopg://cowiki@/missing?host=/nonexistent",
                                 "sqlite:////nonexistent/folder/cowiki.db"])
def test_a_bad_or_unreachable_target_is_refused_in_one_line(tmp_path: Path, url: str) -> None:
    data_dir = tmp_path / "wiki"
    create_app({"data_dir": str(data_dir)}).extensions["cowiki"].db.dispose()
    done = cli(data_dir, "migrate-db", "--to", url, env={"COWIKI_DATABASE_URL": ""})
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("cowiki: error: ")
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_a_folder_without_a_wiki_is_not_migrated(tmp_path: Path) -> None:
    done = cli(tmp_path / "nothing", "migrate-db", "--to", f"sqlite:///{tmp_path / 'x.db'}",
               env={"COWIKI_DATABASE_URL": ""})
    assert done.returncode == 2 and "no wiki" in done.stderr
    assert not (tmp_path / "nothing").exists() and not (tmp_path / "x.db").exists()


def test_backup_restores_onto_the_other_engine(
        app: Flask, data_dir: Path, database_url: str, cluster: Cluster,
        tmp_path: Path) -> None:
    fill(app)
    before = table_rows(database_url or f"sqlite:///{data_dir / 'cowiki.db'}")
    archive = tmp_path / "wiki.tar.gz"
    made = cli(data_dir, "backup", "--out", str(archive))
    assert made.returncode == 0, made.stderr
    restored = tmp_path / "restored"
    other = "" if database_url else empty_database(cluster, "restored")
    done = cli(restored, "restore", str(archive), env={"COWIKI_DATABASE_URL": other})
    assert done.returncode == 0, done.stderr
    assert (restored / "cowiki.db").exists() == (not other)
    assert table_rows(other or f"sqlite:///{restored / 'cowiki.db'}") == before
    assert new_comment_id(restored, other) == max(r[0] for r in before["comments"]) + 1


def test_restore_refuses_a_database_that_holds_rows(cluster: Cluster, tmp_path: Path) -> None:
    source = tmp_path / "source"
    create_app({"data_dir": str(source), "database_url": ""}).extensions["cowiki"].db.dispose()
    create_backup(source, tmp_path / "b.tar")
    busy = cluster.fresh_database()
    other = create_app({"data_dir": str(tmp_path / "other"), "database_url": busy})
    other.extensions["cowiki"].accounts.add_user("anna", "anna@example.org", "participant",
                                                 "anna-pass-123")
    other.extensions["cowiki"].db.dispose()
    target = tmp_path / "target"
    done = cli(target, "restore", str(tmp_path / "b.tar"), env={"COWIKI_DATABASE_URL": busy})
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "already holds data" in done.stderr
    assert not target.exists() or list(target.iterdir()) == []
    assert [row[1] for row in table_rows(busy)["users"]] == ["anna"]


def swap_database(archive: Path, database: Path, out: Path, **manifest: object) -> None:
    """A copy of `archive` whose cowiki.db is `database` (its checksum and `manifest`
    fields updated), as an older or newer cowiki would have written it."""
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    members["cowiki.db"] = database.read_bytes()
    info = json.loads(members["cowiki-backup.json"])
    info.update(manifest)
    info["sha256"]["cowiki.db"] = hashlib.sha256(members["cowiki.db"]).hexdigest()
    members["cowiki-backup.json"] = json.dumps(info).encode()
    with tarfile.open(out, "w") as tar:
        for name, data in members.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))


def test_an_archive_from_before_alembic_restores_onto_either_engine(
        tmp_path: Path, database_url: str) -> None:
    source = tmp_path / "source"
    create_app({"data_dir": str(source), "database_url": ""}).extensions["cowiki"].db.dispose()
    create_backup(source, tmp_path / "new.tar")
    legacy = tmp_path / "legacy.db"
    conn = sqlite3.connect(legacy)
    conn.row_factory = sqlite3.Row
    sqlite_legacy.apply(conn)
    conn.execute("INSERT INTO users (name, email, role, password_hash, created, name_key)"
                 " VALUES ('anna', 'anna@example.org', 'participant', 'x', 1.0, 'anna')")
    conn.commit()
    conn.close()
    swap_database(tmp_path / "new.tar", legacy, tmp_path / "old.tar", format=1,
                  schema=len(sqlite_legacy.MIGRATIONS))
    restored = tmp_path / "restored"
    done = cli(restored, "restore", str(tmp_path / "old.tar"))
    assert done.returncode == 0, done.stderr
    users = table_rows(database_url or f"sqlite:///{restored / 'cowiki.db'}")["users"]
    assert [(row[1], row[2]) for row in users] == [("anna", "anna@example.org")]


def test_an_archive_from_a_newer_cowiki_is_refused_in_one_line(tmp_path: Path) -> None:
    source = tmp_path / "source"
    create_app({"data_dir": str(source), "database_url": ""}).extensions["cowiki"].db.dispose()
    create_backup(source, tmp_path / "b.tar")
    newer = tmp_path / "newer.db"
    with tarfile.open(tmp_path / "b.tar") as tar:
        tar.extract("cowiki.db", tmp_path / "x", filter="data")
    (tmp_path / "x" / "cowiki.db").rename(newer)
    conn = sqlite3.connect(newer)
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    swap_database(tmp_path / "b.tar", newer, tmp_path / "newer.tar")
    target = tmp_path / "target"
    done = cli(target, "restore", str(tmp_path / "newer.tar"), env={"COWIKI_DATABASE_URL": ""})
    assert done.returncode == 2, done.stderr
    assert done.stderr == ("cowiki: error: the backup comes from a newer cowiki (schema 9999);"
                           " upgrade first\n")
    assert not target.exists() or list(target.iterdir()) == []


def test_a_running_wiki_is_not_migrated(tmp_path: Path) -> None:
    data_dir = tmp_path / "wiki"
    create_app({"data_dir": str(data_dir), "database_url": ""}).extensions["cowiki"].db.dispose()
    (data_dir / "run").mkdir(exist_ok=True)
    with socket.socket(socket.AF_UNIX) as live:  # where the running wiki's live process listens
        live.bind(str(data_dir / "run" / "live.sock"))
        live.listen()
        done = cli(data_dir, "migrate-db", "--to", f"sqlite:///{tmp_path / 'x.db'}",
                   env={"COWIKI_DATABASE_URL": ""})
    assert done.returncode == 2
    assert done.stderr == f"cowiki: error: the wiki in {data_dir} is running; stop it, then" \
        " copy its database\n"
    assert not (tmp_path / "x.db").exists()
