"""Frozen whitepaper versions: annotated tags `whitepaper-v1`, `whitepaper-v2`, ... on main.

A version names the commit an export was made from, so a facilitator can
export the same whitepaper again later. Tags are created, never moved: two
facilitators freezing at once get consecutive numbers, not one overwritten tag.
A commit is frozen once: freezing it again returns the version it already has.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import pygit2

from storage.errors import N_, InvalidRevision
from storage.repository import Person, Repository

TAG_PREFIX = "whitepaper-v"
_TAG = re.compile(r"whitepaper-v([1-9][0-9]{0,5})")
MAX_ATTEMPTS = 50


@dataclass(frozen=True)
class Version:
    """A frozen version: its tag name, number, commit and who froze it when."""

    name: str
    number: int
    commit: str
    tagger: str
    created: int
    message: str


def is_version_name(name: str) -> bool:
    """True when `name` is a whitepaper tag name such as 'whitepaper-v3'."""
    return bool(_TAG.fullmatch(name))


def list_versions(repo: Repository) -> list[Version]:
    """Every whitepaper version, newest (highest number) first."""
    found = []
    for ref in repo.git.references:
        name = ref.removeprefix("refs/tags/")
        if ref.startswith("refs/tags/") and is_version_name(name):
            found.append(_version(repo, name))
    return sorted(found, key=lambda v: -v.number)


def _version(repo: Repository, name: str) -> Version:
    target = repo.git.references[f"refs/tags/{name}"].target
    obj = repo.git[target]
    commit = obj.peel(pygit2.Commit)
    tagger, created, message = "", int(commit.commit_time), ""
    if isinstance(obj, pygit2.Tag):
        message = obj.message.strip()
        if obj.tagger is not None:
            tagger, created = obj.tagger.name, int(obj.tagger.time)
    number = int(name.removeprefix(TAG_PREFIX))
    return Version(name, number, str(commit.id), tagger, created, message)


def resolve_version(repo: Repository, name: str) -> str:
    """The commit a version tag points to; InvalidRevision when there is no such version."""
    if not is_version_name(name):
        raise InvalidRevision(N_("not a whitepaper version: {name}"), name=name[:60])
    try:
        return _version(repo, name).commit
    except KeyError as exc:
        raise InvalidRevision(N_("no such version: {name}"), name=name) from exc


def version_of(versions: list[Version], commit: str) -> Version | None:
    """The first (lowest-numbered) of `versions` that froze `commit`, or None."""
    return next((v for v in reversed(versions) if v.commit == commit), None)


def freeze(repo: Repository, commit: str, tagger: Person,
           message: str = "") -> tuple[Version, bool]:
    """Tag `commit` as the next whitepaper version, unless a version already names it.

    Returns:
        The version and True when this call created it; the commit's existing
        version and False when it was frozen before.
    """
    commit = repo.resolve(commit)
    for _ in range(MAX_ATTEMPTS):
        versions = list_versions(repo)
        if (existing := version_of(versions, commit)) is not None:
            return existing, False
        number = versions[0].number + 1 if versions else 1
        name = f"{TAG_PREFIX}{number}"
        signature = pygit2.Signature(tagger.name, tagger.email, int(time.time()), 0)
        text = (message.strip() or f"Whitepaper version {number}") + "\n"
        try:
            repo.git.create_tag(name, pygit2.Oid(hex=commit),
                                pygit2.enums.ObjectType.COMMIT, signature, text)
        except (pygit2.AlreadyExistsError, ValueError):
            continue  # another facilitator took this number (or froze this commit) first
        return _version(repo, name), True
    raise InvalidRevision(N_("could not create a version tag; try again"))
