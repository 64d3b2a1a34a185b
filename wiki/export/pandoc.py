"""DOCX and EPUB through pandoc (shipped by the pypandoc-binary wheel), always sandboxed.

`run` is the one way the wiki starts pandoc: sandboxed, with a time limit and
optionally a memory limit; exports write DOCX and EPUB with it, and imports
read Word documents with it (wiki/docx_import.py).

`--sandbox` stops pandoc from reading any file or URL the document names;
images arrive inlined as `data:` URIs, which pandoc decodes without I/O.

pandoc's DOCX and EPUB title pages show title, subtitle, author and date, so
the date line also names the version, as the PDF's title page does. EPUB's
machine-readable date then comes from a small `--epub-metadata` file.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
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
        command = ["--from=html", f"--to={fmt}", f"--output={out}", *EXTRA[fmt],
                   *metadata(doc)]
        if fmt == "epub":
            dates = Path(work) / "metadata.xml"
            dates.write_text(f"<dc:date>{doc.date:%Y-%m-%d}</dc:date>\n", "utf-8")
            command.append(f"--epub-metadata={dates}")
        run(command, html.encode("utf-8"), work)
        if not out.exists():
            raise PandocFailed("pandoc failed: it wrote no file")
        return out.read_bytes()


def run(arguments: Sequence[str], data: bytes, cwd: str | Path, timeout: float = TIMEOUT,
        memory: str = "") -> bytes:
    """Run pandoc sandboxed on `data` (its standard input); its standard output.

    `memory` ("512m") caps pandoc's heap (a GHC runtime option), for documents
    from outside that could otherwise exhaust the server.

    Raises:
        PandocFailed: pandoc exited with an error, or ran longer than `timeout` seconds.
    """
    limits = ["+RTS", f"-M{memory}", "-RTS"] if memory else []
    command = [pypandoc.get_pandoc_path(), "--sandbox", *arguments, *limits]
    try:
        done = subprocess.run(command, input=data, capture_output=True, cwd=cwd,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PandocFailed(f"pandoc failed: no answer within {timeout:g} seconds") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise PandocFailed(f"pandoc failed: {message[-1] if message else done.returncode}")
    return done.stdout
