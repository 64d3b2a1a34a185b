"""DOCX and EPUB through pandoc (shipped by the pypandoc-binary wheel), always sandboxed.

`--sandbox` stops pandoc from reading any file or URL the document names;
images arrive inlined as `data:` URIs, which pandoc decodes without I/O.

pandoc's DOCX and EPUB title pages show title, subtitle, author and date, so
the date line also names the version, as the PDF's title page does. EPUB's
machine-readable date then comes from a small `--epub-metadata` file.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pypandoc

from wiki.errors import WikiError
from wiki.export.compose import labels_for, source_line
from wiki.export.document import Document

TIMEOUT = 600
EXTRA = {
    "docx": ["--toc", "--toc-depth=1"],
    "epub": ["--toc", "--toc-depth=2", "--split-level=1", "--epub-title-page=true"],
}


class PandocFailed(WikiError):
    """pandoc exited with an error."""


def metadata(doc: Document) -> list[str]:
    """pandoc metadata arguments: title page fields, language, version and date, source."""
    outline = doc.outline
    args = [f"--metadata=title:{outline.title}", f"--metadata=lang:{outline.lang}",
            f"--metadata=date:{source_line(doc, labels_for(outline.lang))}",
            f"--metadata=description:{doc.reference}"]
    if outline.subtitle:
        args.append(f"--metadata=subtitle:{outline.subtitle}")
    if outline.authors:
        args.append(f"--metadata=author:{outline.authors}")
    if outline.lang == "nl":
        args.append("--metadata=toc-title:Inhoud")
    return args


def convert(html: str, doc: Document, fmt: str) -> bytes:
    """Convert the composed HTML (without cover and contents) to 'docx' or 'epub' bytes."""
    if fmt not in EXTRA:
        raise ValueError(f"pandoc does not write {fmt} here")
    with tempfile.TemporaryDirectory(prefix="cowiki-pandoc-") as work:
        out = Path(work) / f"paper.{fmt}"
        command = [pypandoc.get_pandoc_path(), "--sandbox", "--from=html", f"--to={fmt}",
                   f"--output={out}", *EXTRA[fmt], *metadata(doc)]
        if fmt == "epub":
            dates = Path(work) / "metadata.xml"
            dates.write_text(f"<dc:date>{doc.date:%Y-%m-%d}</dc:date>\n", "utf-8")
            command.append(f"--epub-metadata={dates}")
        done = subprocess.run(command, input=html.encode("utf-8"), capture_output=True,
                              cwd=work, timeout=TIMEOUT, check=False)
        if done.returncode != 0 or not out.exists():
            message = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise PandocFailed(f"pandoc failed: {message[-1] if message else done.returncode}")
        return out.read_bytes()
