"""Remote images through the wiki (COWIKI_REMOTE_IMAGES=proxied): other sites never see who reads.

Rendering turns a remote image's URL into `/img/<mac>/<url>`: the URL in
base64url and an HMAC of it under a key derived from the wiki's secret. So the
proxy fetches only URLs the wiki itself rendered (it is no open proxy), and one
URL always gets the same address (rendered HTML stays cacheable). Fetched
images (wiki.imagefetch keeps each fetch inside its rules) are kept in
DATA/cache/images/ for CACHE_SECONDS and failures for FAILURE_SECONDS, within
`cache_bytes`. One process fetches a URL while the others wait for its result,
so a room of readers opening a page causes one fetch per image.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from wiki.filelock import held
from wiki.imagefetch import Fetcher, ImageRefused, parse_target, sniff

MAX_URL = 2048  # longer image URLs stay links
CACHE_SECONDS = 24 * 3600  # a fetched image is shown from the cache this long
FAILURE_SECONDS = 300  # a failed fetch is not tried again for this long
CONTROL_OR_SPACE = "".join(map(chr, range(0x21)))
FAILED = ".failed"
FETCHES_AT_ONCE = 4  # per process: images from this many URLs at once, the rest told at once
log = logging.getLogger("cowiki.images")


@dataclass(frozen=True)
class CachedImage:
    """An image from the cache: its sniffed type, bytes and an ETag."""

    mime: str
    data: bytes
    etag: str


class ImageProxy:
    """Signs remote image URLs for rendering, and fetches and keeps the images they name."""

    def __init__(self, secret: str, cache_dir: Path, fetcher: Fetcher | None = None,
                 cache_bytes: int = 200_000_000) -> None:
        # A key of its own, so an image address never helps forge a session cookie.
        self._key = hmac.new(secret.encode(), b"cowiki image proxy", hashlib.sha256).digest()
        self.dir = cache_dir
        self.fetcher = fetcher or Fetcher()
        self.cache_bytes = cache_bytes
        self._fetching: dict[str, int] = {}  # URL -> threads of this process asking for it
        self._lock = threading.Lock()

    def token(self, src: str) -> str | None:
        """The `<mac>/<url>` path that loads image `src` through the wiki; None when
        `src` is no http(s) URL the proxy could fetch (the image stays a link)."""
        url = browser_url(src)
        if url is None:
            return None
        try:
            return f"{self._mac(url)}/{_b64(url.encode())}"
        except UnicodeEncodeError:
            return None

    def url(self, mac: str, data: str) -> str:
        """The URL a token names; ImageRefused (403) unless this wiki signed it."""
        try:
            raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
            url = raw.decode()
        except (ValueError, UnicodeDecodeError):
            raise ImageRefused(403, "not an image address of this wiki") from None
        if _b64(raw) != data or not hmac.compare_digest(mac, self._mac(url)):
            raise ImageRefused(403, "not an image address of this wiki")
        return url

    def cached(self, url: str) -> CachedImage | None:
        """The image kept for `url`, or None when there is none fresh; ImageRefused
        when fetching it failed within FAILURE_SECONDS."""
        name = _name(url)
        try:
            kept = self.dir / name
            mtime = kept.stat().st_mtime
            if mtime + CACHE_SECONDS > time.time():
                data = kept.read_bytes()
                mime = sniff(data)
                if mime is not None:
                    return CachedImage(mime, data, f"{name[:16]}-{int(mtime)}")
        except FileNotFoundError:
            pass
        try:
            failed = self.dir / (name + FAILED)
            if failed.stat().st_mtime + FAILURE_SECONDS > time.time():
                status, reason = failed.read_text().split(" ", 1)
                raise ImageRefused(int(status), reason)
        except (FileNotFoundError, ValueError):
            pass
        return None

    def fetch(self, url: str) -> CachedImage:
        """Fetch `url` into the cache, once across processes: who waited for another
        process's fetch of it gets that result."""
        with self._lock:  # at most FETCHES_AT_ONCE different sites' images at a time;
            # who asks for an image already on its way waits for that one fetch
            if url not in self._fetching and len(self._fetching) >= FETCHES_AT_ONCE:
                raise ImageRefused(503, "the wiki is fetching other images; try again soon")
            self._fetching[url] = self._fetching.get(url, 0) + 1
        try:
            return self._fetch(url)
        finally:
            with self._lock:
                self._fetching[url] -= 1
                if not self._fetching[url]:
                    del self._fetching[url]

    def _fetch(self, url: str) -> CachedImage:
        name = _name(url)
        (self.dir / "locks").mkdir(parents=True, exist_ok=True)
        with held(self.dir / "locks" / name[:2]):
            found = self.cached(url)
            if found is not None:
                return found
            try:
                fetched = self.fetcher.fetch(url)
            except ImageRefused as refused:
                log.info("image %s refused: %s", url[:200], refused.reason)
                self._store(name + FAILED, f"{refused.status} {refused.reason}".encode())
                raise
            self._store(name, fetched.data)
            (self.dir / (name + FAILED)).unlink(missing_ok=True)
        self.trim()
        return self.cached(url) or CachedImage(fetched.mime, fetched.data, name[:16])

    def trim(self) -> None:
        """Drop what expired, then the oldest images until the cache fits `cache_bytes`."""
        now, entries, total = time.time(), [], 0
        for entry in os.scandir(self.dir):
            if not entry.is_file():
                continue
            stat = entry.stat()
            life = FAILURE_SECONDS if entry.name.endswith(FAILED) else CACHE_SECONDS
            if stat.st_mtime + life < now:
                Path(entry.path).unlink(missing_ok=True)
            else:
                entries.append((stat.st_mtime, stat.st_size, entry.path))
                total += stat.st_size
        for _, size, path in sorted(entries):
            if total <= self.cache_bytes:
                break
            Path(path).unlink(missing_ok=True)
            total -= size

    def _store(self, name: str, data: bytes) -> None:
        spare = self.dir / f"{name}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            spare.write_bytes(data)
            os.replace(spare, self.dir / name)
        except OSError as exc:  # a full disk: the image is shown, just not kept
            log.warning("image cache: cannot keep %s: %s", name, exc)
            spare.unlink(missing_ok=True)

    def _mac(self, url: str) -> str:
        return _b64(hmac.new(self._key, url.encode(), hashlib.sha256).digest())


def browser_url(src: str) -> str | None:
    """`src` as the absolute http(s) URL a browser would load for it, or None.

    Browsers drop tabs and newlines, read `\\` as `/` and `//host` in the page's
    own scheme (taken as https here); anything but http(s) with a host is None.
    """
    url = src.strip(CONTROL_OR_SPACE)
    for invisible in "\t\n\r":
        url = url.replace(invisible, "")
    head, question, query = url.partition("?")
    url = head.replace("\\", "/") + question + query
    if url.startswith("//"):
        url = "https:" + url
    if len(url) > MAX_URL:
        return None
    try:
        parse_target(url)
    except ImageRefused:
        return None
    return url


def _name(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
