"""@mentions in comments and suggestion notes: who a text names, and links to their pages.

A mention is `@Name` or, for a name with spaces, `@"Full Name"`; `@Anna de Vries`
without quotes also works when an account has that full name (the longest name
that matches wins). Names compare as accounts do: NFKC, case-folded
(`name_key`). Mentions inside code (`inline` or fenced blocks) and e-mail
addresses (anna@example.org) are not mentions.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from wiki.accounts import Accounts
from wiki.passwords import name_key

MAX_WORDS = 5  # an unquoted mention tries at most this many words as one name
NAMES_TTL = 10.0  # seconds the name index used for rendering is reused
_QUOTED = re.compile(r'(?<![\w@])@"([^"\n]{1,40})"')
_BARE = re.compile(r"(?<![\w@])@([^\W_][\w.\-]*(?:[ ][\w.\-]+){0,4})")  # 4: MAX_WORDS - 1
_FENCE = re.compile(r"^(```|~~~).*?(?:^\1[^\n]*$|\Z)", re.MULTILINE | re.DOTALL)
_CODE = re.compile(r"(`+)[^`].*?\1", re.DOTALL)


@dataclass(frozen=True)
class Person:
    """An account as a mention finds it."""

    id: int
    name: str


@dataclass(frozen=True)
class Mention:
    """Where a text mentions whom: text[start:end] is the whole `@...`."""

    start: int
    end: int
    person: Person


def people(accounts: Accounts) -> dict[str, Person]:
    """Active accounts by `name_key`, as mentions look them up (one query)."""
    return {name_key(u.name): Person(u.id, u.name) for u in accounts.all_users() if u.active}


def find(text: str, known: Mapping[str, Person]) -> list[Mention]:
    """The mentions of known people in `text`, in order, outside code."""
    if "@" not in text:
        return []
    code = [(m.start(), m.end()) for rx in (_FENCE, _CODE) for m in rx.finditer(text)]
    found: dict[int, Mention] = {}
    for m in _QUOTED.finditer(text):
        person = known.get(name_key(m.group(1)))
        if person is not None:
            found[m.start()] = Mention(m.start(), m.end(), person)
    for m in _BARE.finditer(text):
        if m.start() not in found:
            hit = _longest(m.group(1), known)
            if hit is not None:
                found[m.start()] = Mention(m.start(), m.start() + 1 + hit[0], hit[1])
    return [found[at] for at in sorted(found)
            if not any(start <= at < end for start, end in code)]


def _longest(words: str, known: Mapping[str, Person]) -> tuple[int, Person] | None:
    """The longest run of leading words (trailing dots or dashes dropped) that is a name."""
    parts = words.split(" ")
    for count in range(len(parts), 0, -1):
        candidate = " ".join(parts[:count]).rstrip(".-")
        person = known.get(name_key(candidate))
        if person is not None:
            return len(candidate), person
    return None


def mentioned(accounts: Accounts, text: str) -> list[int]:
    """Account ids of the active people `text` mentions, each once, in order."""
    if "@" not in text:
        return []
    return list(dict.fromkeys(m.person.id for m in find(text, people(accounts))))


def link_mentions(text: str, known: Mapping[str, Person], base: str = "/") -> str:
    """`text` (Markdown) with each mention turned into a link to the person's page."""
    mentions = find(text, known)
    if not mentions:
        return text
    out, at = [], 0
    for m in mentions:
        label = m.person.name.replace("\\", "\\\\").replace("_", "\\_")
        out += [text[at:m.start], f"[@{label}]({base}people/{quote(m.person.name)})"]
        at = m.end
    return "".join(out) + text[at:]


class MentionIndex:
    """The people mentions may name, read again at most every NAMES_TTL seconds.

    Rendering a page of comments asks for it once per comment with an `@`; new
    accounts show up as links within seconds.
    """

    def __init__(self, accounts: Accounts, ttl: float = NAMES_TTL) -> None:
        self.accounts, self.ttl = accounts, ttl
        self._lock = threading.Lock()
        self._known: dict[str, Person] = {}
        self._read = float("-inf")

    def known(self) -> dict[str, Person]:
        """Active accounts by name key."""
        with self._lock:
            if time.monotonic() - self._read > self.ttl:
                self._known, self._read = people(self.accounts), time.monotonic()
            return self._known

    def link(self, text: str, base: str = "/") -> str:
        """`link_mentions` with the current people."""
        return link_mentions(text, self.known(), base) if "@" in text else text

    def completions(self, prefix: str, limit: int = 10) -> list[str]:
        """Names starting with `prefix` (any word of the name, case-folded), A to Z."""
        wanted = name_key(prefix)
        names = sorted((p.name for key, p in self.known().items()
                        if any(w.startswith(wanted) for w in _starts(key))), key=str.casefold)
        return names[:limit]


def _starts(key: str) -> Iterator[str]:
    """The whole key and each of its words from the second on ("de vries", "vries")."""
    yield key
    words = key.split(" ")
    for i in range(1, len(words)):
        yield " ".join(words[i:])
