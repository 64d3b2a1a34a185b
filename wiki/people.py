"""One person, one name: the name the wiki shows for a commit's author, and who an author is.

Git keeps whatever name each commit was made with ("B. de Vries" from a
laptop, "Bert" from the web). The wiki shows one name per person: a commit
whose author email belongs to an account (active or not, compared without
case) shows the account's name; any other commit keeps its git name. Commits
stay as they are in git; this is display only, so a new account or a renamed
one shows everywhere at once, with nothing to rewrite or re-index.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Protocol, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from wiki.accounts import Accounts, User
from wiki.dbdialect import fault
from wiki.passwords import name_key

log = logging.getLogger("cowiki.people")
Namer = Callable[[str, str], str]
"""(git name, git email) -> the name the wiki shows."""



class _HasAuthor(Protocol):
    @property
    def author(self) -> str: ...
    @property
    def email(self) -> str: ...


_Authored = TypeVar("_Authored", bound=_HasAuthor)


def git_name(name: str, _email: str) -> str:
    """The name as git has it (for callers without accounts)."""
    return name


def display_names(accounts: Accounts | Iterable[User]) -> Namer:
    """The wiki's name for a commit author: the account's name for its email, else git's.

    Reads the accounts once; build one per request or job, not per commit. While the
    database cannot answer, every author keeps git's name: pages, history and search
    stay readable (a real bug in the query still raises).
    """
    try:
        users = accounts.all_users() if isinstance(accounts, Accounts) else accounts
    except (DBAPIError, PoolTimeout) as exc:
        if isinstance(exc, DBAPIError) and fault(exc) is None:
            raise
        log.warning("names as git has them: the database failed: %s", exc)
        return git_name
    names = {user.email.casefold(): user.name for user in users}

    def shown(name: str, email: str) -> str:
        return names.get(email.casefold(), name)

    return shown


def last_change_shown(entry: _Authored | None, accounts: Accounts) -> _Authored | None:
    """One commit entry (or None) with its author as the wiki shows it."""
    return None if entry is None else renamed([entry], display_names(accounts))[0]


def renamed(items: Iterable[_Authored], names: Namer) -> list[_Authored]:
    """Copies of dataclasses with `author` and `email` fields, `author` as the wiki shows it."""
    return [replace(item, author=names(item.author, item.email))  # type: ignore[type-var]
            for item in items]


def emails_of(accounts: Accounts, who: str) -> frozenset[str]:
    """The author emails (case-folded) of the account `who` names: by name, or by email.

    An email address that belongs to no account is returned as it is, so
    people without an account can be found by their git email too.
    """
    wanted = " ".join(who.split()).casefold()
    found = {wanted} if "@" in wanted else set()
    key = name_key(who)
    for user in accounts.all_users():
        if name_key(user.name) == key or user.email.casefold() == wanted:
            found.add(user.email.casefold())
    return frozenset(found)
