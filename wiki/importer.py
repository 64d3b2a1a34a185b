"""Import a folder of Markdown files (and an attachments/ folder) as one commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from storage.errors import InvalidPageName
from storage.names import ATTACHMENT_DIR, attachment_file, page_file
from storage.repository import Person
from wiki.attachments import check_content
from wiki.changes import SERVER, Origin
from wiki.datadir import Services
from wiki.errors import WikiError
from wiki.pages import clean_text
from wiki.wikilang import COMMIT_MESSAGES


@dataclass
class ImportReport:
    """What an import committed and what it skipped (with the reason)."""

    pages: int = 0
    attachments: int = 0
    revision: str | None = None
    skipped: list[str] = field(default_factory=list)


def import_tree(services: Services, source: Path, author: Person,
                origin: Origin = SERVER) -> ImportReport:
    """Commit every valid page and attachment under `source`; skip the rest with a reason.

    Raises:
        PageExists: two pages differ only in case, or one twins an existing page;
            nothing is imported then.
    """
    report = ImportReport()
    changes: dict[str, bytes] = {}
    for file in sorted(source.rglob("*")):
        if file.is_symlink() or not file.is_file():
            continue
        relative = file.relative_to(source).as_posix()
        try:
            if relative.startswith(f"{ATTACHMENT_DIR}/"):
                data = file.read_bytes()
                check_content(file.name, data, services.settings.max_attachment_bytes)
                changes[attachment_file(file.name)] = data
                report.attachments += 1
            elif relative.endswith(".md"):
                text = clean_text(file.read_text(encoding="utf-8"))
                services.pages.check_size(text)
                changes[page_file(relative[:-3])] = text.encode("utf-8")
                report.pages += 1
            else:
                report.skipped.append(f"{relative}: not a .md page or an attachment")
        except (InvalidPageName, WikiError, UnicodeDecodeError) as exc:
            report.skipped.append(f"{relative}: {exc}")
    if changes:
        language = services.language
        message = language.commit_message(
            "import" if report.pages != 1 else "import_one", count=report.pages,
            source=source.name or language.text(COMMIT_MESSAGES["import_folder"]))
        report.revision = services.pages.import_files(changes, author, message, origin)
    return report
