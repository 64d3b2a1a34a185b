"""PDF through WeasyPrint, with a URL fetcher that serves repository attachments only.

The document is laid out against a base URL on a reserved host
(`https://cowiki.invalid/`). The fetcher answers for `attachments/<name>`
there from the exported commit and refuses every other URL: `file:`,
absolute paths, `http:` anywhere else, `data:`, and stylesheets pulled in by
`<link>` or `@import`. Refused URLs are recorded so tests can see them.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote, urlsplit

from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from storage.errors import InvalidPageName
from storage.names import ATTACHMENT_DIR, attachment_file, attachment_type
from storage.names import normalize_attachment_name as attachment_name
from storage.repository import Repository

BASE_URL = "https://cowiki.invalid/"
_HOST = urlsplit(BASE_URL).netloc

logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)


class AttachmentFetcher(URLFetcher):  # type: ignore[misc]  # weasyprint is untyped
    """Serves `https://cowiki.invalid/attachments/<name>` from one commit; nothing else."""

    def __init__(self, repo: Repository, commit: str) -> None:
        super().__init__(timeout=1, allowed_protocols=("https",), allow_redirects=False)
        self.repo = repo
        self.commit = commit
        self.refused: list[str] = []
        self.served: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        """The attachment named by `url`, or ValueError (WeasyPrint then drops it)."""
        name = self.attachment(url)
        data = None if name is None else self.repo.read(self.commit, attachment_file(name))
        if name is None or data is None:
            self.refused.append(url)
            raise ValueError("the exporter only reads attachments of the wiki")
        self.served.append(name)
        return URLFetcherResponse(url, data, {"Content-Type": attachment_type(name)})

    @staticmethod
    def attachment(url: str) -> str | None:
        """The image attachment name a URL refers to, or None."""
        parts = urlsplit(url)
        if parts.scheme != "https" or parts.netloc != _HOST or parts.query:
            return None
        path = unquote(parts.path)
        prefix = f"/{ATTACHMENT_DIR}/"
        if not path.startswith(prefix):
            return None
        try:
            name = attachment_name(path[len(prefix):])
        except InvalidPageName:
            return None
        if name != path[len(prefix):] or not attachment_type(name).startswith("image/"):
            return None
        return name


def write_pdf(html: str, repo: Repository, commit: str) -> tuple[bytes, AttachmentFetcher]:
    """Lay out `html` (the composed whitepaper) as PDF; return it and the fetcher used."""
    fetcher = AttachmentFetcher(repo, commit)
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
    data: bytes = document.write_pdf(uncompressed_pdf=False)
    return data, fetcher
