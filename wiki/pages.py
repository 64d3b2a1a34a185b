"""Pages: read, save (with three-way merge), rename, delete and revert.

A page's revision is the commit it was read at. A save names that base; if
the page is unchanged on the current head the save is a plain commit,
otherwise base/theirs/ours are merged and overlaps raise EditConflict.
Nothing here overwrites another person's edit.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from storage.errors import InvalidPageName
from storage.history import History
from storage.loose import blob_id_of
from storage.merge import MergeResult, merge_texts
from storage.names import normalize_page_name, page_file, page_name_from_file
from storage.optimistic import commit_reading
from storage.repository import Person, Repository
from wiki import audit
from wiki.changes import SERVER, Change, ChangeDoor, Kind, Origin
from wiki.errors import N_, EditConflict, PageExists, PageNotFound, PageTooLarge
from wiki.pagelist import PageList, PageSummary
from wiki.pagemeta import PageMeta
from wiki.render import page_title
from wiki.wikilang import ENGLISH, WikiLanguage, moment

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
MAX_MESSAGE = 2000


@dataclass(frozen=True)
class Page:
    """A page as read at one commit."""

    name: str
    title: str
    markdown: str
    revision: str
    blob: str


@dataclass(frozen=True)
class SaveResult:
    """What a save did: its commit, and whose concurrent changes it merged."""

    name: str
    revision: str
    created: bool
    changed: bool
    merged_with: tuple[str, ...] = ()

    @property
    def merged(self) -> bool:
        """True when the save was merged with someone else's changes."""
        return bool(self.merged_with)


def clean_text(text: str) -> str:
    """Normalise page text: LF line ends, no NUL or control bytes, final newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = _CONTROL.sub("", text.replace("\t", "    "))
    return text if text.endswith("\n") or not text else text + "\n"


def clean_message(message: str, default: str) -> str:
    """A commit message without control characters, length-capped."""
    text = _CONTROL.sub("", (message or "").replace("\r", "")).strip()[:MAX_MESSAGE]
    return text or default


class PageStore:
    """All page operations on one repository."""

    def __init__(self, repo: Repository, history: History, max_page_bytes: int,
                 door: ChangeDoor | None = None, language: WikiLanguage = ENGLISH) -> None:
        self.repo = repo
        self.language = language  # commit messages are written in the wiki's language
        self.history = history
        self.max_page_bytes = max_page_bytes
        # Every write is checked and published here (wiki/wiring.py lists who listens).
        self.door = door or ChangeDoor()
        self._titles: dict[tuple[str, str], str] = {}
        self._list = PageList(repo, self._every_page, self._title_of,
                              history.files_changed if isinstance(history, PageMeta) else None)
        self._lock = threading.Lock()

    # -- reading -------------------------------------------------------------

    def head(self) -> str | None:
        """The current commit of the wiki."""
        return self.repo.head()

    def get(self, name: str, revision: str | None = None) -> Page:
        """The page at `revision` (a hex id) or at the head; PageNotFound if absent."""
        name = normalize_page_name(name)
        commit = self.repo.resolve(revision) if revision else self.repo.head()
        blob = self.repo.blob_id(commit, page_file(name))
        if blob is None or commit is None:
            raise PageNotFound(N_("page “{name}”"), name=name)
        text = self.repo.read_blob(blob).decode("utf-8", errors="replace")
        return Page(name, self._title(blob, text, name), text, commit, blob)

    def all_pages(self) -> list[PageSummary]:
        """Every page at the head, sorted by name (kept per head, moved along with it:
        wiki/pagelist.py)."""
        return self._list.at(self.repo.head()).pages

    def _every_page(self, head: str) -> list[PageSummary]:
        # The page cache holds every title: reading 10,000 blobs for them cost a worker
        # 140 MB of memory (pack pages, libgit2's caches) and seconds on its first view.
        cached_titles = (self.history.page_titles() if isinstance(self.history, PageMeta)
                         else None)
        if cached_titles is not None:
            return [PageSummary(name, title, blob)
                    for name, (title, blob) in cached_titles.items()]
        return [PageSummary(name, self._title_of(entry.blob, name), entry.blob)
                for entry in self.repo.files(head)
                if (name := page_name_from_file(entry.path)) is not None]

    def find(self, name: str) -> str | None:
        """The existing page whose name equals `name` ignoring case, if any."""
        try:
            wanted = normalize_page_name(name)
        except InvalidPageName:
            return None
        if self.repo.blob_id(self.repo.head(), page_file(wanted)) is not None:
            return wanted
        found = self.by_folded_name().get(wanted.casefold())
        return None if found is None else found.name

    def by_folded_name(self) -> dict[str, PageSummary]:
        """Every page at the head by its case-folded name (cached per head commit, so a
        page view does not go through all 10,000 pages to tell which links are missing)."""
        return self._list.at(self.repo.head()).by_folded

    def titles(self) -> dict[str, str]:
        """Every page's title by its name at the head (cached per head commit)."""
        return self._list.at(self.repo.head()).titles

    def _title_of(self, blob: str, name: str) -> str:
        title = self._titles.get((blob, name.rsplit("/", 1)[-1]))
        if title is None:
            text = self.repo.read_blob(blob).decode("utf-8", errors="replace")
            title = self._title(blob, text, name)
        return title

    def _title(self, blob: str, text: str, name: str) -> str:
        # By blob and name: a page without a heading is titled by its name.
        key = (blob, name.rsplit("/", 1)[-1])
        title = self._titles.get(key)
        if title is None:
            title = page_title(text, key[1])
            with self._lock:
                if len(self._titles) > 50000:
                    self._titles.clear()
                self._titles[key] = title
        return title

    # -- writing -------------------------------------------------------------

    def save(self, name: str, text: str, base_revision: str | None, author: Person,
             message: str = "", origin: Origin = SERVER,
             committer: Person | None = None) -> SaveResult:
        """Save `text` as page `name`, edited from `base_revision` (None: a new page).

        Raises EditConflict when someone else changed the same lines since the base.
        `committer` (default: the server) is who put someone else's text in: the
        accepter of a suggestion.
        """
        return self._save(name, text, base_revision, author, message, origin, None, committer)

    def _save(self, name: str, text: str, base_revision: str | None, author: Person,
              message: str, origin: Origin, kind: Kind | None,
              committer: Person | None = None) -> SaveResult:
        name = normalize_page_name(name)
        text = clean_text(text)
        self.check_size(text)
        base = self.repo.resolve(base_revision) if base_revision else None
        path = page_file(name)
        base_blob = self.repo.blob_id(base, path)
        # Without a blob at its path the base text follows renames: an edit begun
        # before a rename still merges.
        base_text = self.text_at(name, base) if base and base_blob is None else None
        existed = base_blob is not None or base_text is not None
        kind = kind or (Kind.SAVED if existed else Kind.CREATED)
        change = Change(kind, (name,), author, origin.account, via=origin.via)
        self.door.check(change)
        outcome: dict[str, Any] = {}

        def build(head: str | None) -> dict[str, bytes | None] | None:
            head_blob = self.repo.blob_id(head, path)
            outcome.update(head=head, created=head_blob is None, merged_with=())
            # The usual save: the page is as the person read it, and no text is read.
            content = text if base_blob is not None and head_blob == base_blob else None
            if content is None:
                merged = self._merge(name, text, (base_blob, base_text), head_blob, head)
                if merged is not None:
                    outcome["merged_with"] = self._authors_between(base, head, path)
                    self.check_size(merged)
                content = text if merged is None else merged
            data = content.encode("utf-8")
            if head_blob is not None and head_blob == blob_id_of(data):
                return None
            return {path: data}

        # The wiki's words only when the person gave none: they take a database read.
        message = clean_message(message, message if kind is Kind.REVERTED else "") or \
            self.language.commit_message("update" if existed else "create", name=name)
        try:
            # The merge and the look-up of whose edits it merged run outside the writer
            # lock; under it only the commit on the head and the swap of the ref.
            commit = commit_reading(self.repo, build, (path,), author, message, committer)
        except EditConflict as conflict:
            audit.save_conflict(author.name, name, base, conflict.head, via=origin.via)
            raise
        result = SaveResult(
            name=name,
            revision=commit or str(outcome.get("head") or ""),
            created=bool(outcome.get("created")) and commit is not None,
            changed=commit is not None,
            merged_with=tuple(outcome.get("merged_with") or ()),
        )
        self.door.publish(change.committed(result.revision, base=base, created=result.created,
                                           changed=result.changed,
                                           merged_with=list(result.merged_with)))
        return result

    def delete(self, name: str, base_revision: str, author: Person, message: str = "",
               origin: Origin = SERVER) -> str:
        """Delete a page unchanged since `base_revision`; EditConflict otherwise."""
        name = normalize_page_name(name)
        change = Change(Kind.DELETED, (name,), author, origin.account, via=origin.via)
        self.door.check(change)
        base = self.repo.resolve(base_revision)
        path = page_file(name)
        base_blob = self.repo.blob_id(base, path)

        def build(head: str | None) -> dict[str, bytes | None]:
            head_blob = self.repo.blob_id(head, path)
            if head_blob is None:
                raise PageNotFound(N_("page “{name}”"), name=name)
            if head_blob != base_blob:
                theirs = self._text(head_blob)
                raise EditConflict(name, "", theirs, MergeResult(theirs), head)
            return {path: None}

        commit = self.repo.commit(build, author, clean_message(
            message, self.language.commit_message("delete", name=name)))
        if commit:
            self.door.publish(change.committed(commit, base=base))
        return commit or ""

    def rename(self, name: str, to: str, author: Person, message: str = "",
               base_revision: str | None = None, origin: Origin = SERVER) -> str:
        """Move a page (its current text) to a new name in one commit.

        With `base_revision`, EditConflict when the page changed since that revision.
        """
        name, to = normalize_page_name(name), normalize_page_name(to)
        old, new = page_file(name), page_file(to)
        if old == new:
            return self.repo.head() or ""
        if self.find(to) not in (None, name):
            raise PageExists(N_("a page called “{name}” already exists"), name=to)
        change = Change(Kind.RENAMED, (name, to), author, origin.account, via=origin.via)
        self.door.check(change)
        base_blob = (self.repo.blob_id(self.repo.resolve(base_revision), old)
                     if base_revision else None)

        def build(head: str | None) -> dict[str, bytes | None]:
            data = self.repo.read(head, old)
            if data is None:
                raise PageNotFound(N_("page “{name}”"), name=name)
            if base_revision and self.repo.blob_id(head, old) != base_blob:
                theirs = data.decode("utf-8", "replace")
                raise EditConflict(name, "", theirs, MergeResult(theirs), head)
            if self.repo.read(head, new) is not None:
                raise PageExists(N_("a page called “{name}” already exists"), name=to)
            return {old: None, new: data}

        default = self.language.commit_message("rename", name=name, to=to)
        commit = self.repo.commit(build, author, clean_message(message, default))
        if commit:
            self.door.publish(change.committed(commit))
        return commit or ""

    def revert(self, name: str, revision: str, author: Person,
               origin: Origin = SERVER) -> SaveResult:
        """Restore the page's text as it was at `revision`, as a new commit."""
        name = normalize_page_name(name)
        commit = self.repo.resolve(revision)
        old = self.text_at(name, commit)
        if old is None:
            raise PageNotFound(N_("page “{name}” at revision {revision}"), name=name,
                               revision=revision)
        head = self.repo.head()
        base = head if self.repo.blob_id(head, page_file(name)) else None
        info = self.repo.commit_info(commit)
        message = self.language.commit_message(
            "revert", name=name, author=info.author.name, date=moment(info.author.time),
            revision=commit[:10])
        return self._save(name, old, base, author, message, origin, Kind.REVERTED)

    def import_files(self, files: Mapping[str, bytes], author: Person, message: str,
                     origin: Origin = SERVER) -> str | None:
        """Commit files brought in from outside (pages and attachments) as one import.

        The checks see every page at once, so two pages whose names differ only
        in case, or one that twins an existing page, refuse the whole import.
        """
        pages = tuple(name for path in files if (name := page_name_from_file(path)))
        change = Change(Kind.IMPORTED, pages, author, origin.account, via=origin.via)
        self.door.check(change)
        commit = self.repo.commit(lambda _head: dict(files), author, message)
        if commit:
            self.door.publish(change.committed(commit))
        return commit

    # -- helpers -------------------------------------------------------------

    def text_at(self, name: str, commit: str) -> str | None:
        """Text of page `name` at `commit`, following renames back in its history."""
        blob = self.repo.blob_id(commit, page_file(name))
        if blob is None:
            for entry in self.history.log(page_file(name), limit=1000):
                for change in entry.changes:
                    for path in (change.path, change.old_path):
                        if path and blob is None:
                            blob = self.repo.blob_id(commit, path)
        return None if blob is None else self._text(blob)

    def _text(self, blob: str | None) -> str:
        return "" if blob is None else self.repo.read_blob(blob).decode("utf-8", "replace")

    def check_size(self, text: str) -> None:
        """Raise PageTooLarge when `text` is over the page size limit."""
        if len(text.encode("utf-8")) > self.max_page_bytes:
            raise PageTooLarge(N_("page is larger than {limit} bytes"), limit=self.max_page_bytes)

    def refuse_case_twin(self, name: str) -> None:
        """PageExists when another page has this name in different case."""
        twin = self.find(name)
        if twin is not None and twin != name:
            raise PageExists(N_("a page called “{name}” already exists"), name=twin)

    def _merge(self, name: str, text: str, base: tuple[str | None, str | None],
               head_blob: str | None, head: str | None) -> str | None:
        """`text` merged with what others saved since its base (the base's blob, or its
        text when the page had another name then); None when the page's text is as it
        was. Raises EditConflict when their edits and `text` overlap."""
        base_blob, base_text = base
        if base_blob is not None and head_blob is not None:
            # Most merges in a room are clean: made in process (storage/merge.py) from
            # blobs, so the person's text is written as one. When the merge differs from
            # it, that blob stays unreferenced until `git gc` prunes it.
            ours = str(self.repo.write_blob(text.encode("utf-8")))
            merged = self.repo.merge_blobs(base_blob, ours, head_blob)
            if merged is not None:
                return merged
        theirs = None if head_blob is None else self._text(head_blob)
        base_at = base_text if base_blob is None else self._text(base_blob)
        if theirs == base_at:
            return None
        result = merge_texts(base_at or "", text, theirs or "")
        if not result.clean:
            raise EditConflict(name, text, theirs or "", result, head)
        return result.text

    def _authors_between(self, base: str | None, head: str | None, path: str) -> tuple[str, ...]:
        if head is None:
            return ()
        # From the page-metadata cache when it knows the span (wiki/pagemeta.py), else git.
        span = head if base is None else f"{base}..{head}"
        entries = self.history.log(path, limit=50, rev=span)
        return tuple(dict.fromkeys(e.author for e in entries))
