"""The index on disk: generations, the commit they reflect, writing and searching.

The index directory is a cache of git. Its `indexed_commit` file names the
schema version, the commit the index reflects and the generation (a
subdirectory) that holds it. A full build writes a new generation beside the
current one and switches the file to it in one `os.replace`; until then, and
whenever the build fails (a full disk), readers keep the old generation. The
old one is deleted only after the switch. An index written before
generations (no third word) lives in the directory itself.

Writing is single-writer; the caller (`wiki.indexer`) holds the
inter-process lock.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.collectors import TopCollector
from whoosh.qparser import QueryParser
from whoosh.query import And, QueryError, Term

from wiki.errors import N_, InvalidInput
from wiki.pagetext import LANGUAGES, PageText
from wiki.search.analysis import build_schema, folders_of
from wiki.search.counting import count_matches
from wiki.search.merging import tidy_segments
from wiki.search.parsing import (
    MAX_QUERY,
    Authors,
    expand_fuzzy,
    make_parser,
    parse,
    stepped_unions,
)
from wiki.search.results import IndexUnavailable, SearchResults, matched_stems, to_hit
from wiki.search.spelling import suggest

SCHEMA_VERSION = "4"  # 3: Dutch lemmas, author emails; 4: pages' languages by lingua
COMMIT_FILE = "indexed_commit"
GENERATION_PREFIX = "gen-"
STALE = "-"  # the commit word of an index marked for rebuilding
AUTHOR_PAGES = 200  # pages read to learn which emails a git author name was used with


@dataclass(frozen=True)
class _Pointer:
    """The parsed `indexed_commit` file."""

    version: str
    commit: str | None
    generation: str  # "" for an index written before generations


class SearchIndex:
    """The Whoosh index in one directory, plus the commit it reflects."""

    def __init__(self, directory: Path, people: Authors | None = None) -> None:
        """`people` gives the emails of the account a text names (for `author:`)."""
        self.directory = directory
        self.schema = build_schema()
        self.people = people
        self._local = threading.local()

    # -- state ---------------------------------------------------------------

    def _pointer(self) -> _Pointer | None:
        try:
            words = (self.directory / COMMIT_FILE).read_text().split()
        except OSError:
            return None
        if len(words) < 2:
            return None
        commit = None if words[1] == STALE else words[1]
        return _Pointer(words[0], commit, words[2] if len(words) > 2 else "")

    def indexed_commit(self) -> str | None:
        """The commit the index reflects, or None when missing, stale or of an older schema."""
        pointer = self._pointer()
        if pointer is None or pointer.version != SCHEMA_VERSION:
            return None
        return pointer.commit

    def moved_at(self) -> float:
        """When the index last moved to another commit, by any process (Unix time; 0.0: never)."""
        try:
            return (self.directory / COMMIT_FILE).stat().st_mtime
        except OSError:
            return 0.0

    def current_directory(self) -> Path:
        """The directory of the generation readers use now."""
        pointer = self._pointer()
        return self.directory / pointer.generation if pointer else self.directory

    def forget(self) -> None:
        """Mark the index stale so the next catch-up rebuilds it; it stays readable meanwhile."""
        pointer = self._pointer()
        if pointer is not None:
            self._write_pointer(STALE, pointer.generation)

    def damage(self) -> str | None:
        """Why the current index cannot be read, or None when it can (or there is none yet)."""
        if self._pointer() is None:
            return None
        try:
            with self._searcher() as searcher:
                searcher.doc_count_all()
        except IndexUnavailable as exc:
            return str(exc) or type(exc.__cause__).__name__
        return None

    def paths(self) -> set[str]:
        """Every page path in the index (for a rebuild that reuses nothing)."""
        with self._searcher() as searcher:
            try:
                return {fields["path"] for fields in searcher.all_stored_fields()}
            except Exception as exc:
                raise IndexUnavailable(str(exc)) from exc

    # -- writing (the caller holds the inter-process writer lock) --------------

    @contextmanager
    def update(self, commit: str, fresh: bool = False) -> Iterator[IndexUpdate]:
        """A batch of changes, committed with `commit` as the indexed commit.

        With `fresh` the batch builds a new generation that replaces the
        whole index once complete; a failed build leaves the current one in
        place. Without it the batch changes the current generation; raises
        IndexUnavailable when there is none that can be read.
        """
        if fresh:
            generation = f"{GENERATION_PREFIX}{time.time_ns()}-{os.getpid()}"
            target = self.directory / generation
            target.mkdir(parents=True)
            try:
                ix = whoosh_index.create_in(str(target), self.schema)
                yield from self._write(ix, commit, generation, fresh=True)
            except BaseException:
                shutil.rmtree(target, ignore_errors=True)
                raise
            self._remove_all_but(generation)
        else:
            pointer = self._pointer()
            if pointer is None:
                raise IndexUnavailable("no index to update")
            try:
                ix = whoosh_index.open_dir(str(self.directory / pointer.generation))
            except Exception as exc:
                raise IndexUnavailable(str(exc)) from exc
            yield from self._write(ix, commit, pointer.generation, fresh=False)

    def _write(self, ix: Any, commit: str, generation: str,
               fresh: bool) -> Iterator[IndexUpdate]:
        writer = ix.writer(limitmb=128)
        try:
            yield IndexUpdate(writer, fresh)
        except BaseException:
            writer.cancel()
            raise
        try:
            writer.commit(mergetype=tidy_segments)
        except BaseException:
            with suppress(Exception):  # frees the write lock; the old segments stay as they were
                writer.cancel()
            raise
        self._write_pointer(commit, generation)

    def _write_pointer(self, commit: str, generation: str) -> None:
        target = self.directory / COMMIT_FILE
        spare = target.with_name(f"{COMMIT_FILE}.{os.getpid()}")
        spare.write_text(f"{SCHEMA_VERSION} {commit} {generation}\n".rstrip() + "\n")
        os.replace(spare, target)

    def _remove_all_but(self, generation: str) -> None:
        """Delete older generations and a pre-generation index (readers have theirs mapped)."""
        for child in self.directory.iterdir():
            if child.name == generation or child.name.startswith(COMMIT_FILE):
                continue
            with suppress(OSError):
                shutil.rmtree(child) if child.is_dir() else child.unlink()

    # -- reading -------------------------------------------------------------

    @contextmanager
    def _searcher(self) -> Iterator[Any]:
        """This thread's searcher, refreshed to the newest generation and segments."""
        current = self.current_directory()
        try:
            searcher = getattr(self._local, "searcher", None)
            stale = (getattr(self._local, "pid", None) != os.getpid()
                     or getattr(self._local, "source", None) != current)
            # Not Searcher.refresh(): it reuses segment readers and so misses new deletions.
            if searcher is None or stale or not searcher.up_to_date():
                if searcher is not None and getattr(self._local, "pid", None) == os.getpid():
                    searcher.close()
                self._local.searcher = None
                searcher = whoosh_index.open_dir(str(current)).searcher()
        except Exception as exc:
            self._local.searcher = None
            raise IndexUnavailable(str(exc)) from exc
        self._local.searcher, self._local.pid, self._local.source = searcher, os.getpid(), current
        yield searcher

    def search(self, text: str, lang: str | None = None, page: int = 1,
               per_page: int = 10) -> SearchResults:
        """Run a query in the wiki's query language.

        Raises InvalidInput for a query that cannot be read and
        IndexUnavailable when the index cannot be opened or read.
        """
        text = text.strip()[:MAX_QUERY]
        empty = SearchResults(query=text, total=0, page=page, per_page=per_page)
        if not text:
            return empty
        languages = (lang,) if lang in LANGUAGES else LANGUAGES
        parsed = parse(self._parser(languages), text)
        with self._searcher() as searcher:
            try:
                return self._run(searcher, parsed, text, languages, empty)
            except QueryError as exc:
                raise InvalidInput(N_("This search cannot be read: check its quotes, brackets"
                                      " and AND, OR, NOT.")) from exc
            except (InvalidInput, IndexUnavailable):
                raise
            except Exception as exc:  # damaged segment files fail in many ways
                self._local.searcher = None
                raise IndexUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def _run(self, searcher: Any, parsed: Any, text: str, languages: Sequence[str],
             empty: SearchResults) -> SearchResults:
        page, per_page = empty.page, empty.per_page
        query = stepped_unions(expand_fuzzy(parsed, searcher.reader()))
        total = count_matches(searcher, query)
        found = None
        if total is None:  # e.g. a phrase: rank and count in one walk that skips nothing
            # (without replace=0 Whoosh prunes sub-queries mid-walk and undercounts)
            collector = TopCollector(page * per_page, usequality=False, replace=0)
            searcher.search_with_collector(query, collector)
            found = collector.results()
            total = len(found)
        if total == 0:
            return replace(empty, suggestion=suggest(searcher, text, languages))
        if page < 1 or (page - 1) * per_page >= total:
            return replace(empty, total=total)
        if found is None:
            found = searcher.search(query, limit=page * per_page)
        wanted = matched_stems(query, searcher.reader())
        hits = tuple(to_hit(hit, wanted) for hit in found[(page - 1) * per_page:])
        return replace(empty, total=total, hits=hits)

    def _parser(self, languages: Sequence[str]) -> QueryParser:
        """This thread's parser for a set of languages (building one takes milliseconds)."""
        parsers: dict[tuple[str, ...], QueryParser] = self._local.__dict__.setdefault(
            "parsers", {})
        parser = parsers.get(tuple(languages))
        if parser is None:
            parser = parsers[tuple(languages)] = make_parser(self.schema, languages,
                                                             self._author_emails)
        return parser

    def _author_emails(self, who: str) -> list[str]:
        """Emails of the person `who` names: their account's, or those of the pages whose
        git author name has all of `who`'s words (so "B. de Vries" finds Bert's web saves).

        Asked at query time, so a new or renamed account counts at once, without re-indexing.
        """
        found = {who.strip().casefold()} if "@" in who else set()
        found.update(self.people(who) if self.people else ())
        words = [token.text for token in self.schema["author"].analyzer(who)]
        if words:
            with self._searcher() as searcher:
                hits = searcher.search(And([Term("author", word) for word in words]),
                                       limit=AUTHOR_PAGES)
                found.update(email for hit in hits if (email := hit.get("author_email")))
        return sorted(found)


class IndexUpdate:
    """Adds, replaces and deletes pages within one index commit."""

    def __init__(self, writer: Any, fresh: bool) -> None:
        self._writer = writer
        # A fresh batch fills an empty index, so it adds without looking up old copies.
        self._add = writer.add_document if fresh else writer.update_document

    def put(self, page: PageText) -> None:
        """Add the page, replacing any earlier version of the same path."""
        fields: dict[str, Any] = {
            "path": page.path, "folders": folders_of(page.path.lower()), "title": page.title,
            "author": page.author, "author_email": page.email.casefold(), "blob": page.blob,
            "languages": page.languages,
            "text": page.body,
            "date": page.date.timestamp() if page.date else None,
        }
        for lang in page.languages:
            fields[f"title_{lang}"] = page.title
            fields[f"head_{lang}"] = page.headings
            fields[f"body_{lang}"] = fields[f"phrase_{lang}"] = page.body
        self._add(**fields)

    def delete(self, path: str) -> None:
        """Remove a page from the index."""
        self._writer.delete_by_term("path", path)
