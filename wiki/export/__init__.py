"""Whitepaper export: outline, one intermediate document, and a writer per format.

No flask here. `build.export` turns a commit into a file; `jobs` runs that in
a separate, resource-limited process and reuses results per commit and format.

FORMATS maps a format to its file extension and bare MIME type: the web layer
adds `; charset=utf-8` to text types itself.
"""

from __future__ import annotations

FORMATS: dict[str, tuple[str, str]] = {
    "pdf": ("pdf", "application/pdf"),
    "html": ("html", "text/html"),
    "docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "epub": ("epub", "application/epub+zip"),
    "md": ("zip", "application/zip"),
}
