"""Real Word documents for import tests, written by the pandoc the wiki ships.

python-docx is no dependency; pandoc writes a genuine DOCX from Markdown and an
image, which is what Word users hand the wiki too.
"""

from __future__ import annotations

import io
import struct
import subprocess
import tempfile
import zipfile
import zlib
from pathlib import Path

import pypandoc

SAMPLE = """\
# Aanpak van het probleem

Een alinea met **vet**, *cursief* en een café ☕ <script>alert(1)</script>.

## Resultaten

| Naam | Score |
|------|------:|
| Anna | 7 |
| Bram | 8 |

![Een rode stip](dot.png)
"""


def png(red: int = 255) -> bytes:
    """A valid 1×1 PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(bytes([0, red, 0, 0]))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


def docx(markdown: str = SAMPLE, image: bytes | None = None) -> bytes:
    """A DOCX made by pandoc from `markdown`; `dot.png` is `image` (a red dot by default)."""
    with tempfile.TemporaryDirectory() as work:
        (Path(work) / "dot.png").write_bytes(image or png())
        (Path(work) / "in.md").write_text(markdown, "utf-8")
        subprocess.run([pypandoc.get_pandoc_path(), "--from=markdown", "--to=docx",
                        "--output=out.docx", "in.md"], cwd=work, check=True, timeout=60)
        return (Path(work) / "out.docx").read_bytes()


def zip_of(files: dict[str, bytes]) -> bytes:
    """A zip (deflated) holding `files`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def with_media_renamed(document: bytes, old: str, new: str) -> bytes:
    """`document` with its image `word/media/<old>` stored as `<new>` (links follow)."""
    source = zipfile.ZipFile(io.BytesIO(document))
    files = {}
    for name in source.namelist():
        data = source.read(name)
        if name.endswith(".rels"):
            data = data.replace(f"media/{old}".encode(), f"media/{new}".encode())
        files[name.replace(f"media/{old}", f"media/{new}")] = data
    return zip_of(files)
