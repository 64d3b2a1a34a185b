"""Fetching one remote image for the image proxy without letting its URL reach inside.

The proxy (wiki.imageproxy) fetches only URLs the wiki rendered, but
participants write those, so every fetch keeps to these rules:

- http or https on the scheme's default port, without `user:password@`;
- the host is resolved once and every address it has must be on the public
  internet (no loopback, private, shared, link-local, multicast, reserved or
  unspecified address, IPv4 or IPv6, IPv4 inside IPv6 judged as IPv4); the
  connection goes to an address that was checked, so a second DNS answer cannot
  send it elsewhere (DNS rebinding), and TLS still verifies the host's name;
- at most `redirects` redirects, each checked like the first URL;
- the whole fetch, name lookups and redirects included, ends after `seconds`,
  and the body may have at most `max_bytes`;
- the answer must say it is a PNG, JPEG, GIF or WebP image and start like
  one (never SVG, which can carry scripts);
- the request says nothing about the reader: no cookies, no referrer, a fixed
  User-Agent.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin, urlsplit

from wiki.attachments import SIGNATURES

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
PORTS = {"http": 80, "https": 443}
REDIRECTS = {301, 302, 303, 307, 308}
USER_AGENT = "Mozilla/5.0 (compatible; cowiki-image-proxy)"
CHUNK = 65536
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Host names are looked up here, so a resolver that never answers costs a fetch its
# deadline, not a web thread its resolver's timeouts.
_RESOLVER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cowiki-image-dns")


class ImageRefused(Exception):
    """Why a remote image is not shown, and the HTTP status the proxy answers with.

    403: the URL may not be fetched; 502: the other site did not give an image
    within the limits; 504: it took too long.
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Fetched:
    """An image as fetched: its sniffed MIME type and its bytes."""

    mime: str
    data: bytes


@dataclass(frozen=True)
class Target:
    """A URL split into what the connection needs."""

    scheme: str
    host: str  # ASCII (IDNA), without brackets
    port: int
    path: str  # path and query, percent-encoded

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == PORTS[self.scheme] else f"{host}:{self.port}"


def is_public(address: IPAddress) -> bool:
    """True for an address on the public internet that the proxy may connect to."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public(address.ipv4_mapped)
        if address.sixtofour is not None and not is_public(address.sixtofour):
            return False
    return address.is_global and not (
        address.is_private or address.is_loopback or address.is_link_local
        or address.is_multicast or address.is_reserved or address.is_unspecified)


def sniff(data: bytes) -> str | None:
    """The image type `data` starts like (PNG, JPEG, GIF or WebP), else None."""
    for mime in IMAGE_TYPES:
        if data.startswith(SIGNATURES[mime]) and (mime != "image/webp" or data[8:12] == b"WEBP"):
            return mime
    return None


def parse_target(url: str) -> Target:
    """Split an http(s) URL, refusing (403) other schemes, credentials and bad hosts."""
    try:
        parts = urlsplit(url)
        port = parts.port
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        raise ImageRefused(403, "not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in PORTS:
        raise ImageRefused(403, "only http and https images are fetched")
    if not host or "@" in parts.netloc:
        raise ImageRefused(403, "the URL has no host, or carries a user name")
    path = quote(parts.path or "/", safe="/%!$&'()*+,;=:@~-._")
    if parts.query:
        path += "?" + quote(parts.query, safe="/%!$&'()*+,;=:@~-._?")
    return Target(scheme, host, PORTS[scheme] if port is None else port, path)


@dataclass
class Fetcher:
    """Fetches images within the limits, from public addresses on default ports.

    `exempt` names (address, port) pairs reachable all the same: tests use it
    for their server on loopback. Production leaves it empty.
    """

    max_bytes: int = 5_000_000
    seconds: float = 5.0
    redirects: int = 3
    exempt: frozenset[tuple[str, int]] = field(default_factory=frozenset)

    def fetch(self, url: str) -> Fetched:
        """The image at `url`, following checked redirects; ImageRefused otherwise."""
        deadline = time.monotonic() + self.seconds
        for _ in range(self.redirects + 1):
            answer = self._get(parse_target(url), deadline)
            if isinstance(answer, Fetched):
                return answer
            try:
                url = urljoin(url, answer)
            except ValueError:
                raise ImageRefused(502, "a redirect to an invalid URL") from None
        raise ImageRefused(502, f"more than {self.redirects} redirects")

    def addresses(self, target: Target, deadline: float) -> list[tuple[str, int]]:
        """Where `target` may be reached: its resolved addresses, all of them allowed."""
        lookup = _RESOLVER.submit(socket.getaddrinfo, target.host, target.port,
                                  type=socket.SOCK_STREAM)
        try:
            found = lookup.result(timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise ImageRefused(504, f"no answer within {self.seconds:g} seconds") from None
        except (OSError, UnicodeError):
            raise ImageRefused(502, "the host name does not resolve") from None
        reachable = []
        for *_, sockaddr in found:
            address = str(sockaddr[0])
            allowed = (is_public(ipaddress.ip_address(address.split("%", 1)[0]))
                       and target.port == PORTS[target.scheme])
            if not allowed and (address, target.port) not in self.exempt:
                raise ImageRefused(403, f"{target.host} is not a public address on a web port")
            reachable.append((address, target.port))
        if not reachable:
            raise ImageRefused(502, "the host name does not resolve")
        return reachable

    def _get(self, target: Target, deadline: float) -> Fetched | str:
        """One GET: the image, or where a redirect points."""
        sock = self._connect(target, deadline)
        # The socket's timeout bounds each read; this bounds them all (a slow trickle).
        watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _cut, (sock,))
        watchdog.daemon = True
        watchdog.start()
        conn = http.client.HTTPConnection(target.host, target.port)
        conn.sock = sock  # already connected to the checked address: no second lookup
        try:
            conn.request("GET", target.path, headers={
                "Host": target.host_header, "User-Agent": USER_AGENT,
                "Accept": ", ".join(IMAGE_TYPES), "Accept-Encoding": "identity",
                "Connection": "close"})
            response = conn.getresponse()
            if response.status in REDIRECTS:
                location = response.getheader("Location")
                if not location:
                    raise ImageRefused(502, "a redirect without a Location")
                return location
            image = self._image(response)
        except (OSError, http.client.HTTPException) as exc:
            self._check_deadline(deadline)
            raise ImageRefused(502, f"the connection failed: {exc}") from None
        finally:
            watchdog.cancel()
            conn.close()
        self._check_deadline(deadline)  # a cut connection can look like a short body
        return image

    def _connect(self, target: Target, deadline: float) -> socket.socket:
        """A connection (TLS for https) to the first of the target's addresses that answers."""
        failure: OSError | None = None
        for address in self.addresses(target, deadline):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:  # a numeric address: connecting looks nothing up
                sock = socket.create_connection(address, timeout=remaining)
            except OSError as exc:
                failure = exc
                continue
            if target.scheme == "http":
                return sock
            try:
                return ssl.create_default_context().wrap_socket(sock, server_hostname=target.host)
            except OSError as exc:
                sock.close()
                failure = exc
        self._check_deadline(deadline)
        raise ImageRefused(502, f"cannot connect to {target.host}: {failure}")

    def _image(self, response: http.client.HTTPResponse) -> Fetched:
        """The image an answer carries, or why it is not one."""
        if response.status != 200:
            raise ImageRefused(502, f"the site answered {response.status}")
        mime = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        if mime not in IMAGE_TYPES:
            raise ImageRefused(502, f"not a PNG, JPEG, GIF or WebP image but {mime or 'untyped'}")
        length = response.getheader("Content-Length") or ""
        if length.isdigit() and int(length) > self.max_bytes:
            raise ImageRefused(502, f"the image is larger than {self.max_bytes} bytes")
        chunks, size = [], 0
        while chunk := response.read(CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                raise ImageRefused(502, f"the image is larger than {self.max_bytes} bytes")
            chunks.append(chunk)
        data = b"".join(chunks)
        sniffed = sniff(data)
        if sniffed is None:
            raise ImageRefused(502, f"the content is not a {mime} image")
        return Fetched(sniffed, data)

    def _check_deadline(self, deadline: float) -> None:
        if time.monotonic() >= deadline:
            raise ImageRefused(504, f"no answer within {self.seconds:g} seconds")


def _cut(sock: socket.socket) -> None:
    """Ends a connection past the deadline: a blocked read returns at once."""
    with contextlib.suppress(OSError):  # the plain socket's: SSLSocket's also drops TLS state
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
