"""The renderer in front of wiki.render: cache, shared renders, budget, plain fallback.

Formatting costs what the input makes it cost, so it is bounded three ways:
the Markdown steps that went quadratic are linear (wiki.render's `_Bounds`); a
text longer than INLINE_CHARS is formatted in a worker process that is killed
past the budget (wiki.processpool); and a text over its budget is shown as is
(`plain_html`), with NOTICE. Results are cached by git blob id (a text's own
blob id when it comes without one), so the page view, the preview, comments and
the search index share them, and concurrent requests for one text share one
render. Remote images in the HTML become links unless the wiki allows them or
proxies them (then they load from `<base>img/<token>`, wiki.imageproxy).
"""

from __future__ import annotations

import html as htmllib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from storage.loose import blob_id_of
from wiki.config import Settings
from wiki.errors import N_
from wiki.processpool import JobFailed, OverBudget, PoolBusy, shared_pool

RENDER_VERSION = "2"
CACHE_SIZE = 4096  # rendered texts kept
CACHE_CHARS = 64_000_000  # and at most this much HTML
RETRY_SECONDS = 600.0  # a text that ran over its budget is tried again after this
INLINE_CHARS = 5_000  # shorter texts are formatted in the calling thread
NOTICE = N_("This page is too complex to format; its text is shown as is.")
PLAIN_START = '<pre class="too-complex">'
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_INLINE_MARKUP = re.compile(r"[*_`~]|\[\[|\]\]|!?\[([^\]]*)\]\([^)]*\)")
_SCHEME = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.-]*:")
_IMG_OR_LINK = re.compile(r"<img\s[^>]*>|<a[\s>]|</a>")
_ATTR = re.compile(r'([a-z-]+)="([^"]*)"')


@dataclass(frozen=True)
class Budget:
    """How long one text may take to format, and how many processes format long ones."""

    seconds: float = 1.0
    workers: int = 2

    @property
    def wait(self) -> float:
        """How long a render waits for a free worker before showing the text as is."""
        return self.seconds / 2


def page_title(text: str, fallback: str) -> str:
    """Title of a page: its first heading as plain text, else `fallback`."""
    match = _HEADING.search(text[:20000])
    if not match:
        return fallback
    title = _INLINE_MARKUP.sub(lambda m: m.group(1) or "", match.group(1)).strip()
    return title or fallback


def plain_html(text: str) -> str:
    """A text too complex to format, shown as is: escaped, in a <pre> content cannot forge."""
    return f"{PLAIN_START}{_escape(text)}</pre>"


def _escape(text: str) -> str:
    return htmllib.escape(text, quote=False)


def is_plain(html: str) -> bool:
    """True when `html` is a text shown as is because it was too complex to format."""
    return html.startswith(PLAIN_START)


def blob_id(text: str) -> str:
    """The git blob id of a text's UTF-8 bytes: the cache key of texts that come without one."""
    return blob_id_of(text.encode("utf-8", "surrogatepass"))


def remote_images_as_links(html: str, proxy: Callable[[str], str | None] | None = None) -> str:
    """Images from other sites become links to them (inside a link: their alt text).

    With `proxy`, they stay images loaded from the address it gives for their
    URL; those it gives none for become links all the same.
    """
    if "<img" not in html:
        return html
    depth = 0

    def swap(m: re.Match[str]) -> str:
        nonlocal depth
        tag = m.group()
        if not tag.startswith("<img"):
            depth += 1 if tag != "</a>" else -1
            return tag
        raw = dict(_ATTR.findall(tag))
        attrs = {k: htmllib.unescape(v) for k, v in raw.items()}
        src = attrs.get("src", "")
        if _is_local(src):
            return tag
        local = proxy(src) if proxy is not None else None
        if local is not None:
            raw["src"] = htmllib.escape(local, quote=True)
            return "<img" + "".join(f' {k}="{v}"' for k, v in raw.items()) + ">"
        label = _escape(attrs.get("alt") or src)
        if depth > 0:
            return f"<span>{label}</span>"
        href = htmllib.escape(src, quote=True)
        return f'<a href="{href}" rel="noopener noreferrer nofollow">{label}</a>'

    return _IMG_OR_LINK.sub(swap, html)


def _is_local(src: str) -> bool:
    """True for a path on this site; browsers read `//host`, `/\\host` and tabs as remote."""
    url = re.sub(r"[\t\n\r]", "", src).strip()
    return not (_SCHEME.match(url) or url.startswith(("//", "\\", "/\\")))


class Renderer:
    """Renders Markdown to sanitised HTML within a budget, cached by blob id.

    One renderer serves the page views, previews, comments and the search
    index, so a text is formatted once. A text that runs over the budget is
    shown as is (`is_plain`), and tried again after RETRY_SECONDS.
    """

    def __init__(self, base: str = "/", budget: Budget | None = None,
                 remote_images: bool = False,
                 proxy: Callable[[str], str | None] | None = None) -> None:
        """`remote_images` shows images from other sites; `proxy` instead gives the
        token that loads one through this site (`<base>img/<token>`), or None."""
        self.base = base
        self.budget = budget or Budget()
        self.remote_images = remote_images
        self.proxy = proxy
        self._cache: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._chars = 0
        self._running: dict[str, Future[str]] = {}
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: Settings, base: str | None = None,
                     proxy: Callable[[str], str | None] | None = None) -> Renderer:
        """A renderer with the settings' budget and remote-image policy (`proxy`: the
        image proxy's signer, which the policy "proxied" needs); links under `base`,
        by default the wiki's own path (`url_prefix`)."""
        policy = settings.remote_image_policy()
        if policy == "proxied" and proxy is None:
            raise ValueError("COWIKI_REMOTE_IMAGES=proxied needs the image proxy")
        return cls(settings.url_prefix + "/" if base is None else base,
                   Budget(settings.render_seconds, settings.render_workers),
                   remote_images=policy == "allowed",
                   proxy=proxy if policy == "proxied" else None)

    def render(self, text: str) -> str:
        """Markdown to sanitised HTML (previews, comments, the index), cached by content."""
        return self.render_blob(blob_id(text), text)

    def render_blob(self, blob: str, text: str) -> str:
        """Render a page's blob, reusing the HTML of the same blob id."""
        key = RENDER_VERSION + blob
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[1] > time.monotonic():
                self._cache.move_to_end(key)
                return hit[0]
            running = self._running.get(key)
            if running is None:
                self._running[key] = future = Future[str]()
        if running is not None:  # someone is rendering this text: share their result
            try:
                return running.result(timeout=self.budget.seconds + self.budget.wait + 5)
            except TimeoutError:
                return plain_html(text)
        try:
            html, keep = self._format(text)
            future.set_result(html)
        except BaseException as exc:
            future.set_exception(exc)
            raise
        finally:
            with self._lock:
                self._running.pop(key, None)
        if keep:
            self._remember(key, html, keep)
        return html

    def _format(self, text: str) -> tuple[str, float]:
        """The HTML and until when to keep it (0: not at all)."""
        from wiki.render import format_html  # here: wiki.render imports this module

        # Proxied images are signed here, not in a worker: the key stays in this process.
        job = (text, self.base, self.remote_images or self.proxy is not None)
        if len(text) <= INLINE_CHARS:
            return self._proxied(format_html(job)), float("inf")
        pool = shared_pool(self.budget.workers, preload=["wiki.render"])
        try:
            html = pool.run(format_html, job, self.budget.seconds, self.budget.wait)
            return self._proxied(html), float("inf")
        except (OverBudget, JobFailed):
            return plain_html(text), time.monotonic() + RETRY_SECONDS
        except PoolBusy:
            return plain_html(text), 0.0

    def _proxied(self, html: str) -> str:
        """Remote images in `html` loaded through this site (when the wiki proxies them)."""
        proxy = self.proxy
        if proxy is None:
            return html

        def local(src: str) -> str | None:
            token = proxy(src)
            return None if token is None else f"{self.base}img/{token}"

        return remote_images_as_links(html, local)

    def _remember(self, key: str, html: str, until: float) -> None:
        with self._lock:
            old = self._cache.pop(key, None)
            if old is not None:
                self._chars -= len(old[0])
            self._cache[key] = (html, until)
            self._chars += len(html)
            while len(self._cache) > CACHE_SIZE or self._chars > CACHE_CHARS:
                _, (dropped, _) = self._cache.popitem(last=False)
                self._chars -= len(dropped)

    def stats(self) -> dict[str, Any]:
        """Cache size, for tests and benchmarks."""
        with self._lock:
            return {"entries": len(self._cache), "chars": self._chars}
