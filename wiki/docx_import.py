"""A Word document (DOCX) as a new page: pandoc writes the Markdown, images become attachments.

The document is checked before pandoc sees it: at most the upload limit in
size, a real zip with a Word body, and at most `UNPACKED_RATIO` times the
upload limit once unpacked, counted by unpacking every entry in chunks (the
sizes a zip declares may lie), so a zip bomb is refused without being
unpacked whole. pandoc then runs sandboxed with a time and a memory limit
(the one runner, `wiki/export/pandoc.py`).

pandoc writes GitHub-flavoured Markdown: headings as `#` headings, simple
tables as pipe tables, a table Markdown cannot hold as an HTML table (which
the renderer sanitises like all HTML in a page). A small Lua filter drops
image sizes, so images come out as `![alt](media/...)`, and turns a Word
title into the page's first heading. Each image the document holds becomes an
attachment with the same name, type and size checks as an upload, and its link
points there; an image of a type the wiki does not keep is left out and its
description kept as text.

The page and its attachments are one commit by the importer, a `created`
change (or `saved`, into an existing empty page), so everything that follows a
new page follows an imported one. A page with text is never overwritten.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from storage.errors import InvalidPageName
from storage.names import (
    ATTACHMENT_TYPES,
    attachment_file,
    normalize_attachment_name,
    normalize_page_name,
    page_file,
)
from storage.repository import Person
from wiki.attachments import Attachments, check_content, free_name
from wiki.changes import Change, Kind, Origin
from wiki.errors import N_, InvalidInput, PageExists, PageTooLarge
from wiki.export.pandoc import PandocFailed, run
from wiki.pages import PageStore, clean_message, clean_text

UNPACKED_RATIO = 10  # a document may unpack to this many times the upload limit
MAX_ENTRIES = 5000  # files in the zip
CHUNK = 1 << 16
TIMEOUT = 60  # seconds pandoc may take
MEMORY = "512m"  # pandoc's heap
BODY = "word/document.xml"
# ![alt](media/x.png) or ![alt](<media/x.png> "title"), as pandoc writes images.
MARKDOWN_IMAGE = re.compile(r"!\[((?:[^\]\\]|\\.)*)\]\(<?(media/[^\s)>]+)>?(?:\s+\"[^\"]*\")?\)")
HTML_IMAGE_SOURCE = re.compile(r"(<img\b[^>]*\bsrc=\")(media/[^\"]+)(\")")

# Image sizes go (the renderer has no use for them); a Word title becomes the first heading.
LUA_FILTER = """
function Image(img)
  return pandoc.Image(img.caption, img.src, img.title)
end
function Figure(fig)
  local blocks = {}
  for _, b in ipairs(fig.content) do
    if b.t == "Plain" then table.insert(blocks, pandoc.Para(b.content))
    else table.insert(blocks, b) end
  end
  for _, b in ipairs(fig.caption.long) do table.insert(blocks, b) end
  return blocks
end
function Pandoc(doc)
  if doc.meta.title then
    table.insert(doc.blocks, 1, pandoc.Header(1, pandoc.utils.stringify(doc.meta.title)))
  end
  return doc
end
"""


@dataclass(frozen=True)
class DocxImport:
    """What an import made: the page, its commit, the attachments and the images left out."""

    name: str
    revision: str
    created: bool
    attachments: tuple[str, ...]
    left_out: tuple[str, ...]


def not_docx() -> InvalidInput:
    """The answer to a file that is not a Word document."""
    return InvalidInput(N_("the file is not a Word document (.docx); save it as .docx in Word"
                           " and try again"))


def unpacked(data: bytes, max_bytes: int) -> zipfile.ZipFile:
    """The document as a zip, after checking size, shape and unpacked size.

    Raises:
        PageTooLarge: larger than `max_bytes`, or unpacking to more than
            `UNPACKED_RATIO` times that.
        InvalidInput: not a Word document.
    """
    if len(data) > max_bytes:
        raise PageTooLarge(N_("the document is larger than {limit} bytes"), limit=max_bytes)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise not_docx() from exc
    if len(entries) > MAX_ENTRIES or BODY not in archive.namelist():
        raise not_docx()
    limit, total = UNPACKED_RATIO * max_bytes, 0
    try:
        for entry in entries:
            with archive.open(entry) as member:
                while chunk := member.read(CHUNK):
                    total += len(chunk)
                    if total > limit:
                        raise PageTooLarge(N_("the document unpacks to more than {limit}"
                                              " bytes"), limit=limit)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError,
            RuntimeError) as exc:  # damaged, encrypted or an unknown compression
        raise not_docx() from exc
    return archive


def to_markdown(data: bytes) -> str:
    """The document's Markdown, as pandoc writes it (images still at `media/...`)."""
    with tempfile.TemporaryDirectory(prefix="cowiki-docx-") as work:
        lua = Path(work) / "images.lua"
        lua.write_text(LUA_FILTER, "utf-8")
        try:
            out = run(["--from=docx", "--to=gfm", "--wrap=none", f"--lua-filter={lua}"],
                      data, work, timeout=TIMEOUT, memory=MEMORY)
        except PandocFailed as exc:
            raise InvalidInput(N_("the Word document could not be read; open it in Word, save"
                                  " it again as .docx and try again")) from exc
    return clean_text(out.decode("utf-8", "replace"))


def attachment_stem(page: str) -> str:
    """The start of the attachment names of a page's images: its last part, as a file name."""
    stem = re.sub(r"[^\w-]+", "-", page.rsplit("/", 1)[-1]).strip("-_")
    return stem[:60] or "image"


def images(archive: zipfile.ZipFile, markdown: str, page: str,
           max_bytes: int) -> tuple[dict[str, tuple[str, bytes]], tuple[str, ...]]:
    """The document's images the text links to: `media/...` -> (wanted name, bytes);
    and the ones left out (a type the wiki does not keep, too large, or missing)."""
    found: dict[str, tuple[str, bytes]] = {}
    left_out: list[str] = []
    sources = [m.group(2) for m in MARKDOWN_IMAGE.finditer(markdown)]
    sources += [m.group(2) for m in HTML_IMAGE_SOURCE.finditer(markdown)]
    for source in dict.fromkeys(sources):
        ext = source.rsplit(".", 1)[-1].lower() if "." in source else ""
        wanted = f"{attachment_stem(page)}-{len(found) + 1}.{ext}"
        try:
            with archive.open(f"word/{source}") as member:
                data = member.read(max_bytes + 1)
            if ext not in ATTACHMENT_TYPES:
                raise InvalidInput(N_("not an image type the wiki keeps"))
            check_content(normalize_attachment_name(wanted), data, max_bytes)
        except (KeyError, InvalidInput, InvalidPageName, PageTooLarge, zipfile.BadZipFile):
            left_out.append(source)
            continue
        found[source] = (wanted, data)
    return found, tuple(left_out)


def linked(markdown: str, names: dict[str, str]) -> str:
    """`markdown` with image links to `media/...` pointing at their attachments; an image
    without one becomes its description in brackets."""

    def markdown_image(match: re.Match[str]) -> str:
        alt, source = match.group(1), match.group(2)
        if source in names:
            return f"![{alt}](attachments/{names[source]})"
        return f"[{alt}]" if alt else ""

    def html_image(match: re.Match[str]) -> str:
        name = names.get(match.group(2))
        return f"{match.group(1)}attachments/{name}{match.group(3)}" if name else ""

    return HTML_IMAGE_SOURCE.sub(html_image, MARKDOWN_IMAGE.sub(markdown_image, markdown))


def import_docx(pages: PageStore, attachments: Attachments, name: str, data: bytes,
                author: Person, origin: Origin, source: str = "") -> DocxImport:
    """Import a Word document as page `name`: one commit of the page and its images.

    Raises:
        PageExists: a page `name` with text exists (or one differing only in case).
        InvalidInput, PageTooLarge: the document is not fit (see `unpacked`).
    """
    name = normalize_page_name(name)
    path, repo = page_file(name), pages.repo
    existing = pages.find(name)
    if existing is not None and (existing != name or pages.get(name).markdown.strip()):
        raise PageExists(N_("a page called “{name}” already exists; import into a new page"),
                         name=existing)
    archive = unpacked(data, attachments.max_bytes)
    markdown = to_markdown(data)
    pictures, left_out = images(archive, markdown, name, attachments.max_bytes)
    change = Change(Kind.SAVED if existing else Kind.CREATED, (name,), author, origin.account,
                    via=origin.via)
    pages.door.check(change)
    chosen: dict[str, str] = {}

    def build(head: str | None) -> dict[str, bytes | None]:
        page = repo.read(head, path)
        if page is not None and page.strip():
            raise PageExists(N_("a page called “{name}” already exists; import into a new"
                                " page"), name=name)
        updates: dict[str, bytes | None] = {}
        for media, (wanted, picture) in pictures.items():
            found, new = free_name(
                lambda p: updates[p] if p in updates else repo.read(head, p), wanted, picture)
            chosen[media] = found
            if new:
                updates[attachment_file(found)] = picture
        text = linked(markdown, chosen)
        pages.check_size(text)
        updates[path] = text.encode("utf-8")
        return updates

    document = clean_message(source.rsplit("/", 1)[-1].rsplit("\\", 1)[-1], "")[:100]
    message = pages.language.text(N_("Import {name} from the Word document {file}"),
                                  name=name, file=document or "(.docx)")
    commit = repo.commit(build, author, message) or ""
    names = tuple(dict.fromkeys(chosen.values()))
    pages.door.publish(change.committed(commit, created=existing is None, changed=True,
                                        attachments=list(names)))
    return DocxImport(name, commit, existing is None, names, left_out)
