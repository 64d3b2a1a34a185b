"""Whitepaper export: outline, one intermediate document, and a writer per format.

No flask here. `build.export` turns a commit into a file; `jobs` runs that in
a separate, resource-limited process and reuses results per commit and format.
"""

from __future__ import annotations

FORMATS: dict[str, tuple[str, str]] = {
    "pdf": ("pdf", "application/pdf"),
    "html": ("html", "text/html; charset=utf-8"),
    "docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "epub": ("epub", "application/epub+zip"),
    "md": ("zip", "application/zip"),
}
