"""`cowiki import FILE.docx --author NAME [--page NAME]`: a Word document as one new page."""

from __future__ import annotations

from pathlib import Path

from storage.names import suggest_page_name
from wiki.accounts import User
from wiki.changes import Origin
from wiki.datadir import Services
from wiki.docx_import import import_docx

SUFFIX = ".docx"


def is_docx(source: Path) -> bool:
    """True when `source` names a Word document rather than a folder of Markdown."""
    return source.suffix.lower() == SUFFIX and not source.is_dir()


def import_docx_file(services: Services, source: Path, user: User, page: str | None) -> int:
    """Import `source` as page `page` (default: the file's name), credited to `user`."""
    with source.open("rb") as file:  # one byte over the limit is enough to refuse it
        data = file.read(services.settings.max_attachment_bytes + 1)
    name = page or suggest_page_name(source.stem) or source.stem
    done = import_docx(services.pages, services.attachments, name, data, user.person,
                       Origin(user.id, "cli"), source.name)
    for image in done.left_out:
        print(f"left out {image}: not a PNG, JPEG, GIF or WebP image within the upload limit")
    print(f"Imported {done.name} with {len(done.attachments)} image(s) in commit"
          f" {done.revision}.")
    return 0
