"""Attachments: images and PDFs stored in the repository's attachments folder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from storage.names import attachment_file, attachment_type, normalize_attachment_name
from storage.repository import Person, Repository
from wiki.changes import SERVER, Change, ChangeDoor, Kind, Origin
from wiki.errors import N_, InvalidInput, PageNotFound, PageTooLarge
from wiki.wikilang import ENGLISH, WikiLanguage

# File signatures, so a renamed HTML file is never served as an image.
SIGNATURES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
}


@dataclass(frozen=True)
class Attachment:
    """An attachment's name, MIME type and bytes."""

    name: str
    mime: str
    data: bytes
    blob: str


def check_content(name: str, data: bytes, max_bytes: int) -> str:
    """Validate an attachment's name, size and file signature; return its MIME type."""
    mime = attachment_type(normalize_attachment_name(name))
    if len(data) > max_bytes:
        raise PageTooLarge(N_("attachment is larger than {limit} bytes"), limit=max_bytes)
    if not data.startswith(SIGNATURES[mime]) or (mime == "image/webp" and data[8:12] != b"WEBP"):
        raise InvalidInput(N_("the file's content is not a {type} file"), type=mime)
    return mime


def free_name(read: Callable[[str], bytes | None], name: str, data: bytes) -> tuple[str, bool]:
    """The first of `name`, `name-2`, ... that is free or already holds `data`, and whether
    it is free (so `data` is to be written); `read(path)` reads a repository path."""
    stem, ext = name.rsplit(".", 1)
    for n in range(1, 1000):
        candidate = name if n == 1 else f"{stem}-{n}.{ext}"
        existing = read(attachment_file(candidate))
        if existing is None or existing == data:
            return candidate, existing is None
    raise InvalidInput(N_("too many attachments with this name"))


class Attachments:
    """Store and read attachments; each upload is a commit by the uploader."""

    def __init__(self, repo: Repository, max_bytes: int, door: ChangeDoor | None = None,
                 language: WikiLanguage = ENGLISH) -> None:
        self.repo = repo
        self.language = language
        self.max_bytes = max_bytes
        self.door = door or ChangeDoor()

    def add(self, name: str, data: bytes, author: Person, origin: Origin = SERVER) -> str:
        """Store `data` under a free variant of `name`; return the name used."""
        name = normalize_attachment_name(name)
        change = Change(Kind.UPLOADED, (attachment_file(name),), author, origin.account,
                        via=origin.via)
        self.door.check(change)
        check_content(name, data, self.max_bytes)
        chosen: list[str] = []

        def build(head: str | None) -> dict[str, bytes | None] | None:
            found, new = free_name(lambda path: self.repo.read(head, path), name, data)
            chosen[:] = [found]
            return {attachment_file(found): data} if new else None

        commit = self.repo.commit(build, author,
                                  self.language.commit_message("upload", name=name))
        if commit:
            self.door.publish(Change(Kind.UPLOADED, (attachment_file(chosen[0]),), author,
                                     origin.account, commit, origin.via))
        return chosen[0]

    def get(self, name: str, revision: str | None = None) -> Attachment:
        """An attachment at the head (or a revision); PageNotFound if absent."""
        name = normalize_attachment_name(name)
        commit = self.repo.resolve(revision) if revision else self.repo.head()
        blob = self.repo.blob_id(commit, attachment_file(name))
        if blob is None:
            raise PageNotFound(N_("attachment “{name}”"), name=name)
        return Attachment(name, attachment_type(name), self.repo.read_blob(blob), blob)

    def names(self) -> list[str]:
        """Names of all attachments at the head."""
        return [e.path.split("/", 1)[1] for e in self.repo.files(self.repo.head(), "attachments")]
