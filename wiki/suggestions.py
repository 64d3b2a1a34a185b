"""Suggested changes (track changes): a page text proposed without saving it.

The text is a commit on `refs/suggestions/<id>` (storage/suggestions.py) made
on the revision it was written against, by the suggester; the database holds who,
why and what became of it. Its discussion is a page comment (wiki/comments.py)
that the suggestion points to, so replies, reactions and moderation work as
for any comment. The page's recent authors (of its last RECENT_CHANGES
changes) or a facilitator accept or reject it; the suggester alone may not,
unless a facilitator. Accepting is a save through the change front door
(wiki/pages.py) authored by the suggester and committed by the accepter; a
stale suggestion merges three-way like a stale save, and one that no longer
applies becomes a conflict the suggester redoes on the current text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, RowMapping, bindparam, func, insert, select, update

from storage.merge import merge_texts
from storage.names import normalize_page_name, page_file
from storage.suggestions import delete_suggestion, suggestion_commit, write_suggestion
from wiki import audit
from wiki.accounts import Accounts, User
from wiki.changes import Change, Kind, Origin
from wiki.comments import Comments, clean_reason
from wiki.db import Database
from wiki.dbschema import MAX_ID, members, users
from wiki.dbschema import suggestions as rows
from wiki.errors import N_, EditConflict, InvalidInput, PageNotFound, PermissionDenied
from wiki.pages import PageStore, SaveResult, clean_message, clean_text
from wiki.wikilang import WikiLanguage

STATES = ("open", "accepted", "rejected", "conflict")
UNDECIDED = ("open", "conflict")
# Built once (every page view asks): building costs more than SQLite's answer.
_UNDECIDED_COUNT = select(func.count()).select_from(rows).where(
    rows.c.page == bindparam("page"), rows.c.state.in_(UNDECIDED))
RECENT_CHANGES = 10  # authors of this many of a page's last changes may decide
VIA = "suggestion"
# notify(recipients, kind, page, actor, summary, link): wiki/notifications.py
Notify = Callable[..., None]
_DECIDER = users.alias("decider")
_SELECT = select(rows, users.c.name.label("suggester"), _DECIDER.c.name.label("decider")) \
    .select_from(rows.join(users, users.c.id == rows.c.user_id)
                 .outerjoin(_DECIDER, _DECIDER.c.id == rows.c.decided_by))


@dataclass(frozen=True)
class Suggestion:
    """A suggested change as shown: its page, base, commit, people and state."""

    id: int
    page: str
    base: str
    commit: str
    suggester: str
    suggester_id: int
    note: str
    state: str
    comment_id: int | None
    decided_by: str
    reason: str
    revision: str  # the commit that accepted it
    created: float
    decided: float | None

    @property
    def undecided(self) -> bool:
        """True while it waits for a decision (open, or a conflict to redo)."""
        return self.state in UNDECIDED


@dataclass(frozen=True)
class Texts:
    """A suggestion's page text at its base, as suggested, and on the current head."""

    base: str
    suggested: str
    current: str | None  # None when the page is gone

    @property
    def applies(self) -> bool:
        """True when the suggestion still merges cleanly into the current text."""
        if self.current is None:
            return False
        return merge_texts(self.base, self.suggested, self.current).clean

    @property
    def redone(self) -> str:
        """The suggestion carried onto the current text, the suggester's words in overlaps."""
        return merge_texts(self.base, self.suggested, self.current or "").resolve()


class Suggestions:
    """Suggestions of one wiki: refs in its repository, metadata in its database."""

    def __init__(self, db: Database, pages: PageStore, comments: Comments, accounts: Accounts,
                 language: WikiLanguage, notify: Notify | None = None) -> None:
        self.db = db
        self.pages = pages
        self.repo = pages.repo
        self.comments = comments
        self.accounts = accounts
        self.language = language
        self.notify = notify

    # -- reading -------------------------------------------------------------

    def get(self, number: int) -> Suggestion:
        """One suggestion; PageNotFound when there is none."""
        row = None
        if 0 < number <= MAX_ID:
            row = self.db.connect().execute(_SELECT.where(rows.c.id == number)).mappings().first()
        if row is None:
            raise PageNotFound(N_("suggestion {id}"), id=number)
        return _suggestion(row)

    def for_page(self, page: str, undecided_only: bool = True) -> list[Suggestion]:
        """The page's suggestions, newest first (by default only those waiting)."""
        states = UNDECIDED if undecided_only else STATES
        found = self.db.connect().execute(_SELECT.where(
            rows.c.page == normalize_page_name(page), rows.c.state.in_(states),
        ).order_by(rows.c.id.desc())).mappings()
        return [_suggestion(r) for r in found]

    def count(self, page: str) -> int:
        """How many of the page's suggestions wait for a decision."""
        return int(self.db.connect().execute(
            _UNDECIDED_COUNT, {"page": normalize_page_name(page)}).scalar_one())

    def texts(self, suggestion: Suggestion) -> Texts:
        """The three texts a suggestion's diff and merge need."""
        base = self.pages.text_at(suggestion.page, suggestion.base) or ""
        # The ref is where git users see it; the row keeps the commit should the ref go.
        commit = suggestion_commit(self.repo, suggestion.id) or suggestion.commit
        suggested = self.pages.text_at(suggestion.page, commit)  # (follows a rename)
        if suggested is None:
            raise PageNotFound(N_("suggestion {id}"), id=suggestion.id)
        head = self.repo.head()
        current = self.repo.read(head, page_file(suggestion.page)) if head else None
        return Texts(base, suggested,
                     None if current is None else current.decode("utf-8", "replace"))

    def recent_authors(self, page: str) -> set[int]:
        """Accounts that authored one of the page's last RECENT_CHANGES changes."""
        entries = self.pages.history.log(page_file(normalize_page_name(page)),
                                         limit=RECENT_CHANGES)
        emails = sorted({e.email.casefold() for e in entries})
        if not emails:
            return set()
        ids = self.db.connect().execute(
            select(users.c.id).join(members, members.c.user_id == users.c.id)
            .where(users.c.email.in_(emails), members.c.active == 1)).scalars()
        return {int(i) for i in ids}

    def may_decide(self, suggestion: Suggestion, user: User | None) -> bool:
        """A facilitator, or a recent author of the page other than the suggester."""
        if user is None or not user.can("participant"):
            return False
        if user.can("facilitator"):
            return True
        return user.id != suggestion.suggester_id and user.id in self.recent_authors(
            suggestion.page)

    # -- writing -------------------------------------------------------------

    def propose(self, page: str, markdown: object, base_revision: str | None,
                suggester: User, note: object = "",
                link: Callable[[Suggestion], str] | None = None) -> Suggestion:
        """A new suggestion to change `page` (which must exist) from `base_revision`.

        `link(suggestion)` is its address, for the comment that opens its discussion
        and for the notifications. Frozen pages refuse it like a save.
        """
        name, base, text = self._checked(page, markdown, base_revision, suggester)
        summary = _note(note)
        number = 0
        try:
            with self.db.transaction() as conn:
                now = time.time()
                number = int(conn.execute(insert(rows).values(
                    page=name, base=base, user_id=suggester.id, note=summary, created=now,
                    updated=now).returning(rows.c.id)).scalar_one())
                self._write(conn, number, name, base, text, suggester, summary)
        except BaseException:
            if number:  # the row was not kept: neither is its ref (ids are reused then)
                delete_suggestion(self.repo, number)
            raise
        made = self.get(number)
        address = link(made) if link else ""
        opener = summary or self.language.text(N_("Suggested a change."))
        label = self.language.text(N_("See suggestion #{number}"), number=number)
        thread = self.comments.add(name, suggester, f"{opener}\n\n[{label}]({address})"
                                   if address else opener)
        self.db.connect().execute(update(rows).where(rows.c.id == number)
                                  .values(comment_id=thread.id))
        audit.record("suggestion", action="proposed", id=number, page=name, base=base,
                     user=suggester.name, account=suggester.id)
        self._tell(self.recent_authors(name), "suggestion", made, suggester, address)
        return self.get(number)

    def redo(self, number: int, user: User, markdown: object,
             base_revision: str | None) -> Suggestion:
        """The suggester writes their suggestion again on a newer revision; open again."""
        found = self.get(number)
        if found.suggester_id != user.id or not found.undecided:
            raise PermissionDenied(N_("only the suggester redoes an undecided suggestion"))
        name, base, text = self._checked(found.page, markdown, base_revision, user)
        with self.db.transaction() as conn:
            # Only while still undecided: an accept or reject may have landed meanwhile.
            reopened = conn.execute(update(rows).where(
                rows.c.id == number, rows.c.state.in_(UNDECIDED),
            ).values(state="open", reason="")).rowcount
            if not reopened:
                raise InvalidInput(N_("this suggestion was already decided"))
            self._write(conn, number, name, base, text, user, found.note)
        audit.record("suggestion", action="redone", id=number, page=name, base=base,
                     user=user.name, account=user.id)
        return self.get(number)

    def accept(self, number: int, user: User, reason: object = "",
               link: str = "") -> tuple[Suggestion, SaveResult]:
        """Put the suggestion in the page: a save authored by the suggester, committed by
        `user`. A stale one is merged; when it no longer applies it becomes a conflict
        (EditConflict is raised after the state is recorded)."""
        found = self._decidable(number, user)
        why = reason.strip()[:500] if isinstance(reason, str) else ""
        suggester = self.accounts.get(found.suggester_id)
        if suggester is None:
            raise PageNotFound(N_("suggestion {id}"), id=number)
        texts = self.texts(found)
        message = clean_message(found.note, self.language.commit_message(
            "update", name=found.page))
        if texts.current is None:  # deleted or renamed since: nothing to put it in
            self._decide(number, "conflict", None, why, "", UNDECIDED)
            raise PageNotFound(N_("page “{name}”"), name=found.page)
        # Decided before the save, in one UPDATE from an undecided state: of two people
        # accepting (or one rejecting) at once, one wins and only that one saves.
        self._decide(number, "accepted", user, why, "", UNDECIDED)
        try:
            saved = self.pages.save(found.page, texts.suggested, found.base, suggester.person,
                                    message, Origin(user.id, VIA), committer=user.person)
        except EditConflict:
            self._decide(number, "conflict", None, why, "", ("accepted",))
            audit.record("suggestion", action="conflict", id=number, page=found.page,
                         user=user.name, account=user.id, suggester=found.suggester)
            self._tell([found.suggester_id], "suggestion_conflict", found, user, link)
            raise
        except BaseException:  # refused or failed: nothing saved, it waits again as it was
            self.db.connect().execute(update(rows).where(
                rows.c.id == number, rows.c.state == "accepted",
            ).values(state=found.state, decided_by=None, reason=found.reason, decided=None))
            raise
        self.db.connect().execute(update(rows).where(rows.c.id == number)
                                  .values(revision=saved.revision))
        audit.record("suggestion", action="accepted", id=number, page=found.page,
                     revision=saved.revision, user=user.name, account=user.id,
                     suggester=found.suggester, suggester_account=found.suggester_id)
        self._tell([found.suggester_id], "suggestion_accepted", found, user, link, why)
        return self.get(number), saved

    def reject(self, number: int, user: User, reason: object, link: str = "") -> Suggestion:
        """Turn the suggestion down, with a reason the suggester reads."""
        found = self._decidable(number, user)
        why = clean_reason(reason)
        self._decide(number, "rejected", user, why, "", UNDECIDED)
        audit.record("suggestion", action="rejected", id=number, page=found.page,
                     user=user.name, account=user.id, suggester=found.suggester, reason=why)
        self._tell([found.suggester_id], "suggestion_rejected", found, user, link, why)
        return self.get(number)

    def move(self, old: str, new: str) -> None:
        """Follow a page rename: its suggestions now belong to `new`."""
        self.db.connect().execute(update(rows).where(rows.c.page == old).values(page=new))

    # -- helpers -------------------------------------------------------------

    def _checked(self, page: str, markdown: object, base_revision: str | None,
                 suggester: User) -> tuple[str, str, str]:
        """The page name, base commit and cleaned text of a suggestion, or why not."""
        if not suggester.can("participant"):
            raise PermissionDenied(N_("readers cannot suggest changes"))
        if not isinstance(markdown, str):
            raise InvalidInput(N_("'{key}' must be a string"), key="markdown")
        name = normalize_page_name(page)
        base = self.repo.resolve(base_revision) if base_revision else self.repo.head()
        before = self.pages.text_at(name, base) if base else None
        if base is None or before is None:
            raise PageNotFound(N_("page “{name}”"), name=name)
        text = clean_text(markdown)
        self.pages.check_size(text)
        if text == before:
            raise InvalidInput(N_("the suggestion changes nothing"))
        # The freeze guard (and every other check) refuses it as it would the save.
        self.pages.door.check(Change(Kind.SAVED, (name,), suggester.person, suggester.id,
                                     via=VIA))
        return name, base, text

    def _write(self, conn: Connection, number: int, name: str, base: str, text: str,
               author: User, note: str) -> None:
        message = clean_message(note, self.language.commit_message("update", name=name))
        commit = write_suggestion(self.repo, number, base, page_file(name),
                                  text.encode("utf-8"), author.person, message)
        conn.execute(update(rows).where(rows.c.id == number).values(
            base=base, commit_id=commit or base, updated=time.time()))

    def _decidable(self, number: int, user: User) -> Suggestion:
        found = self.get(number)
        if not found.undecided:
            raise InvalidInput(N_("this suggestion was already {state}"), state=found.state)
        if not self.may_decide(found, user):
            raise PermissionDenied(N_("only the page's recent authors or a facilitator decide"
                                      " on a suggestion, and not the suggester alone"))
        return found

    def _decide(self, number: int, state: str, user: User | None, reason: str, revision: str,
                were: tuple[str, ...]) -> None:
        changed = self.db.connect().execute(update(rows).where(
            rows.c.id == number, rows.c.state.in_(were),
        ).values(state=state, decided_by=user.id if user else None, reason=reason,
                 revision=revision, decided=time.time() if user else None,
                 updated=time.time())).rowcount
        if not changed:
            raise InvalidInput(N_("this suggestion was already decided"))

    def _tell(self, recipients: Iterable[int], kind: str, suggestion: Suggestion,
              actor: User, link: str, reason: str | None = None) -> None:
        """Notify `recipients`; a decision's notification quotes its reason, others the note."""
        # NOTIFY: services.notifications.notify from helper "notify" (wiki/notifications.py),
        # handed in by open_data_dir; it never raises and skips the actor.
        if self.notify is not None:
            self.notify(list(recipients), kind, suggestion.page, actor.id,
                        summary=suggestion.note if reason is None else reason, link=link)


def _note(note: object) -> str:
    """A suggestion's note: plain text, at most 2000 characters, may be empty."""
    if note is not None and not isinstance(note, str):
        raise InvalidInput(N_("'{key}' must be a string"), key="note")
    return clean_message(note or "", "")


def _suggestion(r: RowMapping) -> Suggestion:
    return Suggestion(
        id=r["id"], page=r["page"], base=r["base"], commit=r["commit_id"],
        suggester=r["suggester"], suggester_id=r["user_id"], note=r["note"], state=r["state"],
        comment_id=r["comment_id"], decided_by=r["decider"] or "", reason=r["reason"],
        revision=r["revision"], created=r["created"], decided=r["decided"],
    )
