"""Moving one wiki from one root (node) to another: `cowiki --root DIR move-wiki SLUG ...`.

The steps, each reported in one line through `say`:

1. check: the wiki exists here, the other root has no wiki of that name, the
   node is known (or its address given). Nothing has changed if this fails.
2. freeze: ROOT/<slug>/moving.json makes the running server answer 503
   "moving" for the wiki (cowiki/multi.py); requests already under way get
   SETTLE_SECONDS to finish, and open live-editing rooms are saved to git.
3. backup (wiki/backup.py), taken again if a write still landed meanwhile.
4. restore into a hidden folder beside the other root's wikis, so its server
   never sees half a wiki; the search index is rebuilt there.
5. verify: head commit, page count, member count and the database equal on both
   sides.
6. the placement file names the new node; the restored folder takes its name.
7. retire: the old folder becomes ROOT/.moved-<slug>-<time> (nothing is deleted;
   its moved.json says where the wiki went) and the server there answers 404.

A failure in 2-5 undoes the freeze and sets the half-made copy aside as
.failed-move-<slug>-<time> in the other root, then raises. With a shared
PostgreSQL database (COWIKI_DATABASE_URL) the wiki's schema wiki_<slug> stays
where it is, with the accounts the wikis share: both nodes reach it under the
same name, so only the files move (repository, index), and every row stays the
row it was. A folder set aside then no longer names the schema (its
database-schema file goes; moved.json keeps the name), so no command run on an
old copy reaches the tables the other node serves.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from cowiki import placement as placements
from cowiki import root as wikiroot
from cowiki.multi import MOVING
from storage.names import page_name_from_file, validate_slug
from storage.repository import Person, Repository
from wiki.accounts import Accounts
from wiki.backup import (
    bundle_repository,
    create_backup,
    rebuild_index,
    restore_backup,
    restore_repository,
)
from wiki.config import Settings
from wiki.db import SCHEMA_FILE, open_database
from wiki.errors import InvalidInput, WikiError
from wiki.live import livesock
from wiki.live.journal import FOLDED, OPENED, UPDATE, journals, read_records

SETTLE_SECONDS = 1.0  # requests that passed the dispatcher before the freeze finish meanwhile
BACKUP_ATTEMPTS = 3
LIVE_SAVE_SECONDS = 30.0
CARRIED = ("secret_key", "audit.log")  # files the backup leaves out that belong to the wiki
MOVED = "moved.json"
Say = Callable[[str], None]


class MoveError(WikiError):
    """The move stopped; the message says where and why, and what state things are in."""


@dataclass(frozen=True)
class Facts:
    """What must be equal on both sides of a move."""

    head: str | None
    pages: int
    users: int  # the wiki's members
    schema: str | None  # the PostgreSQL schema a shared database keeps the wiki in

    def describe(self) -> str:
        """One line: head, pages, users (and the schema, in a shared database)."""
        where = f" in schema {self.schema}" if self.schema else ""
        return f"head {str(self.head)[:10]}, {self.pages} page(s), {self.users} user(s){where}"


@dataclass(frozen=True)
class Move:
    """One wiki's move, with everything checked before anything changes."""

    slug: str
    source: Path       # ROOT/<slug>
    target: Path       # OTHER_ROOT/<slug>
    node: str
    node_url: str | None
    placement: Path
    settings: Settings  # the wiki's settings on the other root

    @property
    def staging(self) -> Path:
        """Where the copy is made, beside the other root's wikis but never served."""
        return self.target.with_name(f".moving-{self.slug}")

    @property
    def shared_database(self) -> bool:
        """True when the wiki's database is a schema of a shared PostgreSQL database."""
        return bool(self.settings.database_url)


def plan(root: Path, slug: str, to_root: Path, node: str, node_url: str | None,
         placement: Path, settings: Settings) -> Move:
    """Check everything a move needs; InvalidInput (nothing changed) when something is off."""
    slug = validate_slug(slug)
    root, to_root = Path(root).absolute(), Path(to_root).absolute()
    source, target = wikiroot.wiki_dir(root, slug), wikiroot.wiki_dir(to_root, slug)
    if not (source / wikiroot.REPOSITORY).is_dir():
        raise InvalidInput(f"no wiki called {slug!r} in {root}")
    if not to_root.is_dir():
        raise InvalidInput(f"{to_root} is not a folder; make it first (the other node's --root)")
    if to_root.resolve() == root.resolve():
        raise InvalidInput("--to-root is this root; give the other node's root")
    if os.path.lexists(target):
        raise InvalidInput(f"a wiki called {slug!r} exists already in {to_root}; nothing was"
                           " changed")
    if os.path.lexists(source / MOVING):
        raise InvalidInput(f"{slug!r} is being moved already ({source / MOVING} exists; remove"
                           " it only if no move runs)")
    placements.load(placement).placed(slug, node, node_url)  # the node is known, the file sound
    move = Move(slug, source, target, node, node_url, placement,
                wikiroot.wiki_settings(to_root, slug, settings))
    if os.path.lexists(move.staging):
        raise InvalidInput(f"{move.staging} is left from a move that stopped; look into it and"
                           " set it aside, then move again")
    return move


def move_wiki(move: Move, say: Say) -> Facts:
    """Carry out a planned move, reporting each step; the facts both sides agree on."""
    freeze(move)
    say(f"froze {move.slug} in {move.source.parent}: it answers 503 \"moving\" meanwhile")
    try:
        time.sleep(SETTLE_SECONDS)
        say(f"saved the live edits of {save_live_rooms(move.source)} open page(s)")
        facts = copy_over(move, say)
        os.rename(move.staging, move.target)  # one step; refuses a wiki that appeared there
    except BaseException as exc:
        failed = set_aside(move.staging, move.target.parent, "failed-move", move.slug)
        if failed is not None:
            forget_schema(failed)
        (move.source / MOVING).unlink(missing_ok=True)
        if isinstance(exc, Exception):
            raise MoveError(f"{exc}; the move was undone: {move.slug} stays in"
                            f" {move.source.parent} and is open again") from exc
        raise
    say(f"{move.slug} is in {move.target}")
    placements.place(move.placement, move.slug, move.node, move.node_url)
    say(f"placement: {move.slug} is on node {move.node} in {move.placement}")
    retired = retire(move)
    say(f"retired the old folder as {retired} (the server there answers 404 for"
        f" {move.slug})")
    return facts


def freeze(move: Move) -> None:
    """Write the marker that makes the server answer 503 "moving" (only one move at a time)."""
    note = {"slug": move.slug, "to": str(move.target), "node": move.node,
            "since": datetime.now(UTC).isoformat(timespec="seconds")}
    try:
        with open(move.source / MOVING, "x", encoding="utf-8") as out:
            json.dump(note, out)
    except FileExistsError:
        raise InvalidInput(f"{move.slug!r} is being moved already") from None


def copy_over(move: Move, say: Say) -> Facts:
    """Back up, restore into the staging folder and verify; the facts of both sides."""
    settings = replace(move.settings, data_dir=move.staging)
    with tempfile.TemporaryDirectory(dir=move.target.parent,
                                     prefix=f".cowiki-move-{move.slug}-") as tmp:
        archive = Path(tmp) / ("repo.bundle" if move.shared_database else "backup.tar")
        for _attempt in range(BACKUP_ATTEMPTS):
            before = facts_of(move.source, move.settings)
            archive.unlink(missing_ok=True)
            backup(move, archive)
            if facts_of(move.source, move.settings) == before:
                break  # no write landed while it was taken
        else:
            raise MoveError(f"{move.slug} kept changing during the backup")
        say(f"backed up {move.source} ({before.describe()})")
        restore(move, archive, settings)
    for name in CARRIED:
        if (move.source / name).is_file():
            shutil.copy2(move.source / name, move.staging / name)
    after = facts_of(move.staging, settings)
    say(f"restored into {move.staging} and rebuilt its search index")
    unsaved = unsaved_live_pages(move.source)
    if unsaved:
        raise MoveError(f"live edits of {', '.join(unsaved)} are not saved to git (is the"
                        f" server of {move.source.parent} running?)")
    if after != before:
        raise MoveError(f"the copy differs from the wiki ({after.describe()} against"
                        f" {before.describe()})")
    say(f"verified: {after.describe()} on both sides")
    return after


def backup(move: Move, archive: Path) -> None:
    """The backup the copy is made from (only the repository with a shared database)."""
    if move.shared_database:
        bundle_repository(move.source / wikiroot.REPOSITORY, archive)
    else:
        create_backup(move.source, archive)


def restore(move: Move, archive: Path, settings: Settings) -> None:
    """Restore `archive` into the (new) data dir of `settings` and build its index."""
    if not move.shared_database:
        restore_backup(archive, settings)
        return
    settings.data_dir.mkdir()
    committer = Person(settings.committer_name, settings.committer_email)
    restore_repository(archive, settings.data_dir / wikiroot.REPOSITORY, committer)
    rebuild_index(settings, lambda done, total: None)


def facts_of(data_dir: Path, settings: Settings) -> Facts:
    """Head, page count (at the head), member count and schema of the wiki in `data_dir`."""
    repo = Repository(data_dir / wikiroot.REPOSITORY, Person(settings.committer_name,
                                                             settings.committer_email))
    head = repo.head()
    pages = sum(1 for entry in repo.files(head) if page_name_from_file(entry.path))
    db = open_database(replace(settings, data_dir=data_dir))
    try:
        users = Accounts(db).count()
    finally:
        db.dispose()
    return Facts(head, pages, users, db.schema)


def save_live_rooms(data_dir: Path) -> int:
    """Ask the wiki's live process to commit every open room; how many rooms it saved."""
    saved = 0
    for page in live_pages(data_dir):
        try:
            status, _answer = livesock.ask(data_dir, "POST",
                                           livesock.page_url("/rooms", page, "/save"),
                                           timeout=LIVE_SAVE_SECONDS)
        except livesock.LiveUnavailable:
            continue  # not running: unsaved_live_pages tells whether edits wait in the journal
        saved += status == 200
    return saved


def live_pages(data_dir: Path) -> list[str]:
    """The pages that have a live room (a journal) in `data_dir`."""
    pages = []
    for path in journals(data_dir):
        first = next(read_records(path), None)
        if first is not None and first.kind == OPENED and first.head.get("page"):
            pages.append(str(first.head["page"]))
    return pages


def unsaved_live_pages(data_dir: Path) -> list[str]:
    """Pages whose live journal holds typing after its last save to git."""
    unsaved = []
    for path in journals(data_dir):
        page, pending = "", False
        for record in read_records(path):
            if record.kind == OPENED:
                page = str(record.head.get("page", path.name))
            pending = record.kind == UPDATE or (pending and record.kind != FOLDED)
        if pending:
            unsaved.append(page or path.name)
    return unsaved


def retire(move: Move) -> Path:
    """Rename the old folder aside, noting in it where the wiki went; the new name."""
    retired = set_aside(move.source, move.source.parent, "moved", move.slug)
    assert retired is not None
    note = {"slug": move.slug, "to": str(move.target), "node": move.node,
            "at": datetime.now(UTC).isoformat(timespec="seconds")}
    schema = forget_schema(retired)
    if schema:
        note["schema"] = schema  # where its database still is, served by the other node
    (retired / MOVED).write_text(json.dumps(note, indent=2) + "\n", encoding="utf-8")
    (retired / MOVING).unlink(missing_ok=True)
    return retired


def forget_schema(folder: Path) -> str | None:
    """Make a folder set aside forget its schema in the shared database; the schema's name.

    The schema now belongs to the wiki on the other node: a command run on an old copy
    (`cowiki --data ROOT/.moved-...`) must not reach it (open_database finds a wiki's
    schema through this file).
    """
    marker = folder / SCHEMA_FILE
    try:
        schema = marker.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    marker.unlink()
    return schema or None


def set_aside(folder: Path, into: Path, label: str, slug: str) -> Path | None:
    """Rename `folder` (if it exists) to into/.<label>-<slug>-<UTC time>; the new path."""
    if not os.path.lexists(folder):
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    aside = into / f".{label}-{slug}-{stamp}"
    os.rename(folder, aside)
    return aside
