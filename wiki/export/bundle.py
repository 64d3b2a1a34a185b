"""The two formats that need no layout engine: one self-contained HTML file, a Markdown zip."""

from __future__ import annotations

import base64
import io
import json
import re
import zipfile

from storage.names import ATTACHMENT_DIR, attachment_file, attachment_type, page_name_from_file
from storage.repository import Repository
from wiki.export.compose import chapter_authors, compose, labels_for, source_line, stylesheet
from wiki.export.document import Document
from wiki.export.outline import OUTLINE_FILE

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# A leading underscore is not allowed in page names, so this file never collides with
# a chapter (not even a page called "Contributors") and an import of the zip skips it.
CREDITS_FILE = "_contributors.md"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def data_uri(repo: Repository, commit: str, name: str) -> str:
    """An attachment inlined as a `data:` URI ('' if it vanished)."""
    data = repo.read(commit, attachment_file(name)) or b""
    return f"data:{attachment_type(name)};base64,{base64.b64encode(data).decode('ascii')}"


def inline_html(doc: Document, repo: Repository) -> str:
    """The whitepaper as one HTML file with its images inlined: no other file needed."""
    return compose(doc, stylesheet("screen.css"), lambda n: data_uri(repo, doc.commit, n))


def markdown_zip(doc: Document, repo: Repository) -> bytes:
    """A zip of the chapter pages, the outline and every attachment, as stored in git.

    Files keep their repository paths under a folder named for the commit, and
    the outline lists the chapters in order, so the zip can be imported again.
    The contributors section, which the other formats end with, is `_contributors.md`.
    """
    root = f"whitepaper-{doc.version or doc.commit[:10]}"
    chapters = {c.name for c in doc.chapters}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        outline = {**doc.outline.to_json(), "pages": [c.name for c in doc.chapters],
                   "commit": doc.commit, "version": doc.version}
        _add(archive, f"{root}/{OUTLINE_FILE}",
             json.dumps(outline, ensure_ascii=False, indent=2).encode("utf-8"))
        for entry in repo.files(doc.commit):
            name = page_name_from_file(entry.path)
            wanted = name in chapters or entry.path.startswith(f"{ATTACHMENT_DIR}/")
            if wanted:
                _add(archive, f"{root}/{entry.path}", repo.read_blob(entry.blob))
        _add(archive, f"{root}/{CREDITS_FILE}", credits_markdown(doc).encode("utf-8"))
    return buffer.getvalue()


def credits_markdown(doc: Document) -> str:
    """The contributors section in Markdown: the same table and chapter list as the PDF."""
    labels = labels_for(doc.outline.lang)
    lines = [f'# {labels["credits"]}', "", labels["intro"], "", source_line(doc, labels), "",
             f'| {labels["name"]} | {labels["commits"]} | {labels["lines"]} | '
             f'{labels["share"]} |', "|:--|--:|--:|--:|"]
    lines += [f"| {_plain(p.name)} | {p.commits} | {p.lines} | {p.share:.0%} |"
              for p in doc.credits]
    lines += ["", f'## {labels["per_chapter"]}', ""]
    for chapter, authors in chapter_authors(doc.chapters, doc.credits):
        who = ", ".join(f"{_plain(name)} ({share:.0%})" for name, share in authors)
        lines.append(f"- {chapter.number} {_plain(chapter.title)}: {who or '–'}")
    return "\n".join(lines) + "\n"


def _plain(text: str) -> str:
    """`text` with Markdown's special characters escaped, so a name prints as written."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _add(archive: zipfile.ZipFile, path: str, data: bytes) -> None:
    info = zipfile.ZipInfo(path, ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)
