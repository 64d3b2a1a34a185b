"""COWIKI_REMOTE_IMAGES=proxied: the wiki fetches remote images for its readers, safely.

A real HTTP server on loopback plays the other site. Loopback is exactly what
the proxy refuses, so the wiki under test is told to reach that one server's
address and port (`Fetcher.exempt`); every other rule stays as shipped, and the
tests at the end show loopback, private and metadata addresses refused by the
proxy as configured in production.
"""

from __future__ import annotations

import base64
import dataclasses
import ipaddress
import os
import re
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from tests.conftest import PASSWORDS, free_port
from wiki.changes import SERVER
from wiki.config import Settings
from wiki.imagefetch import USER_AGENT, Fetcher, ImageRefused, is_public
from wiki.imageproxy import CACHE_SECONDS, FETCHES_AT_ONCE, ImageProxy
from wiki.render import Renderer

MAX_BYTES = 20_000


def png(width: int = 1, height: int = 1) -> bytes:
    """A real PNG of grey pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0,
                                                             0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


PNG = png()
GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


class Origin(ThreadingHTTPServer):
    """The other site: counts requests per path and keeps their headers."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), OriginHandler)
        self.hits: Counter[str] = Counter()
        self.headers_seen: dict[str, dict[str, str]] = {}  # the latest request's, per path

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the proxy hung up on a slow answer, as it should

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


class OriginHandler(BaseHTTPRequestHandler):
    server: Origin

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's API)
        self.server.hits[self.path] += 1
        self.server.headers_seen[self.path] = dict(self.headers.items())
        path = self.path.split("?", 1)[0]  # a query makes an image of its own
        if path.startswith("/hop/"):  # /hop/N redirects N times, then the picture
            left = int(path.rsplit("/", 1)[1])
            return self.redirect(f"/hop/{left - 1}" if left > 1 else "/pic.png")
        redirects = {"/to-private": "http://10.0.0.1/pic.png",
                     "/to-metadata": "http://169.254.169.254/latest/meta-data/",
                     "/to-other-port": f"http://127.0.0.1:{free_port()}/pic.png",
                     "/to-pic": "/pic.png"}
        if path in redirects:
            return self.redirect(redirects[path])
        if path == "/slow.png":  # headers, then a trickle that never ends
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(PNG[:8])
            for _ in range(100):
                time.sleep(0.1)
                self.wfile.write(b"\x00")
                self.wfile.flush()
            return None
        if path == "/shared.png":
            time.sleep(0.3)  # long enough for every reader to ask at once
        bodies = {"/pic.png": ("image/png", PNG), "/shared.png": ("image/png", PNG),
                  "/gif-said-png.png": ("image/png", GIF),
                  "/page.html": ("text/html", b"<html><body>hello</body></html>"),
                  "/drawing.svg": ("image/svg+xml", SVG),
                  "/lying.png": ("image/png", b"<html><script>alert(1)</script></html>"),
                  "/big.png": ("image/png", PNG + b"\x00" * MAX_BYTES),
                  "/big-unsized.png": ("image/png", PNG + b"\x00" * (MAX_BYTES * 2))}
        if path not in bodies:
            self.send_error(404)
            return None
        mime, body = bodies[path]
        self.send_response(200)
        self.send_header("Content-Type", mime)
        if path != "/big-unsized.png":  # that one ends when the connection closes
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return None

    def redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    server = Origin()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def proxied_app(data_dir: Path, origin: Origin | None, **config: object) -> Flask:
    """A wiki with COWIKI_REMOTE_IMAGES=proxied whose proxy may reach `origin` only."""
    app = create_app({"data_dir": str(data_dir), "remote_images": "proxied",
                      "image_max_bytes": MAX_BYTES, **config})
    app.config["TESTING"] = True
    services = app.extensions["cowiki"]
    for role, password in PASSWORDS.items():
        services.accounts.add_user(role, f"{role}@example.org", role, password)
    if origin is not None:
        services.images.fetcher = dataclasses.replace(
            services.images.fetcher, seconds=1.5,
            exempt=frozenset({("127.0.0.1", origin.port)}))
    return app


@pytest.fixture
def wiki(tmp_path: Path, origin: Origin) -> Flask:
    return proxied_app(tmp_path / "data", origin)


def reader(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = basic("reader")
    return client


def basic(role: str) -> str:
    return "Basic " + base64.b64encode(f"{role}:{PASSWORDS[role]}".encode()).decode()


def image_srcs(html: str) -> list[str]:
    return re.findall(r'<img[^>]*\ssrc="([^"]*)"', html)


def proxied_src(app: Flask, url: str, name: str = "Plaatjes") -> str:
    """Save a page showing the image at `url`; the src the page gives it."""
    services = app.extensions["cowiki"]
    services.pages.save(name, f"# Plaatjes\n\n![foto]({url})\n", None, services.server,
                        "images", SERVER)
    page = reader(app).get(f"/p/{name}")
    assert page.status_code == 200
    [src] = image_srcs(page.text)
    return src


# -- rendering ----------------------------------------------------------------

REMOTE = ["![plaatje](https://tracker.example/p.png)", '<img src="http://tracker.example/p.png">',
          '<img src="//tracker.example/p.png">', '<img src="/\\tracker.example/p.png">',
          '<img src="/&#9;/tracker.example/p.png">']


@pytest.mark.parametrize("image", REMOTE)
def test_proxied_pages_load_remote_images_from_the_wiki_itself(tmp_path: Path,
                                                               image: str) -> None:
    renderer = Renderer(proxy=ImageProxy("secret", tmp_path).token)
    html = renderer.render(f"Zie {image} hier")
    [src] = image_srcs(html)
    assert src.startswith("/img/") and "tracker" not in html
    assert re.fullmatch(r"/img/[\w-]{43}/[\w-]+", src)


def test_the_same_image_always_gets_the_same_address(tmp_path: Path) -> None:
    text = "![a](https://tracker.example/p.png) [![b](https://tracker.example/p.png)](/x)"
    first = Renderer(proxy=ImageProxy("secret", tmp_path).token).render(text)
    again = Renderer(proxy=ImageProxy("secret", tmp_path).token).render(text)
    assert first == again and len(set(image_srcs(first))) == 1  # an image inside a link too
    other = Renderer(proxy=ImageProxy("another secret", tmp_path).token).render(text)
    assert image_srcs(other) != image_srcs(first)


def test_what_the_proxy_cannot_fetch_stays_a_link_and_attachments_stay(tmp_path: Path) -> None:
    renderer = Renderer(proxy=ImageProxy("secret", tmp_path).token)
    html = renderer.render("![x](https://user:pw@tracker.example/p.png) ![g](attachments/g.png)")
    assert image_srcs(html) == ["/attachments/g.png"]
    assert 'href="https://user:pw@tracker.example/p.png"' in html


def test_the_policy_has_three_values_and_proxied_needs_the_proxy() -> None:
    proxied = Settings.load(environ={"COWIKI_REMOTE_IMAGES": " Proxied "})
    assert proxied.remote_image_policy() == "proxied"
    with pytest.raises(ValueError, match="proxied needs the image proxy"):
        Renderer.for_settings(proxied)
    with pytest.raises(ValueError, match="off, allowed or proxied"):
        Settings.load(environ={"COWIKI_REMOTE_IMAGES": "proxy"}).remote_image_policy()


def test_a_proxied_page_names_no_remote_url_and_its_policy_allows_the_image(
        wiki: Flask, origin: Origin) -> None:
    services = wiki.extensions["cowiki"]
    services.pages.save("Plaatjes", "\n\n".join(REMOTE) + f"\n\n![o]({origin.url('/pic.png')})",
                        None, services.server, "images", SERVER)
    page = reader(wiki).get("/p/Plaatjes")
    srcs = image_srcs(page.text)
    assert len(srcs) == len(REMOTE) + 1
    assert all(src.startswith("/img/") for src in srcs)
    assert "tracker.example" not in page.text and origin.url("/") not in page.text
    policy = page.headers["Content-Security-Policy"]
    assert re.search(r"img-src 'self' data:(;|$)", policy)  # same origin: allowed
    shown = reader(wiki).get(srcs[-1])
    assert shown.status_code == 200 and shown.data == PNG


def test_comments_show_remote_images_through_the_wiki(wiki: Flask, origin: Origin) -> None:
    client = wiki.test_client()
    made = client.post("/api/v1/pages/Home/comments", headers={"Authorization":
                                                               basic("participant")},
                       json={"body": f"Kijk: ![pic]({origin.url('/pic.png')})"})
    assert made.status_code == 201, made.text
    [src] = image_srcs(made.json["html"])
    assert src.startswith("/img/")
    assert reader(wiki).get(src).data == PNG


# -- fetching and answering -----------------------------------------------------

def test_an_image_is_fetched_once_and_answered_safely(wiki: Flask, origin: Origin) -> None:
    src = proxied_src(wiki, origin.url("/pic.png?once"))
    first = reader(wiki).get(src)
    assert first.status_code == 200 and first.data == PNG
    assert first.mimetype == "image/png"
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in first.headers["Content-Security-Policy"]
    assert first.headers["Cache-Control"] == f"private, max-age={CACHE_SECONDS}"
    again = reader(wiki).get(src)
    assert again.data == PNG and origin.hits["/pic.png?once"] == 1
    unchanged = reader(wiki).get(src, headers={"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304


def test_a_room_of_readers_opening_a_page_causes_one_fetch(wiki: Flask,
                                                           origin: Origin) -> None:
    src = proxied_src(wiki, origin.url("/shared.png"))
    answers: list[int] = []

    def read() -> None:
        answers.append(reader(wiki).get(src).status_code)

    readers = [threading.Thread(target=read) for _ in range(12)]
    for thread in readers:
        thread.start()
    for thread in readers:
        thread.join()
    assert answers == [200] * 12 and origin.hits["/shared.png"] == 1


def test_an_expired_image_is_fetched_again(wiki: Flask, origin: Origin,
                                           tmp_path: Path) -> None:
    src = proxied_src(wiki, origin.url("/pic.png?expiring"))
    assert reader(wiki).get(src).status_code == 200
    [kept] = [p for p in (tmp_path / "data" / "cache" / "images").iterdir() if p.is_file()]
    old = time.time() - CACHE_SECONDS - 1
    os.utime(kept, (old, old))
    assert reader(wiki).get(src).status_code == 200
    assert origin.hits["/pic.png?expiring"] == 2


def test_the_cache_stays_within_its_size(tmp_path: Path, origin: Origin) -> None:
    fetcher = Fetcher(exempt=frozenset({("127.0.0.1", origin.port)}))
    proxy = ImageProxy("secret", tmp_path / "images", fetcher, cache_bytes=2 * len(PNG))
    for n in range(4):
        proxy.fetch(origin.url(f"/pic.png?n={n}"))
        time.sleep(0.01)  # distinct times: the oldest goes first
    kept = sorted(p.stat().st_size for p in (tmp_path / "images").iterdir() if p.is_file())
    assert kept == [len(PNG)] * 2
    assert proxy.cached(origin.url("/pic.png?n=3")) is not None
    assert proxy.cached(origin.url("/pic.png?n=0")) is None


def test_the_image_type_is_the_one_its_bytes_show(wiki: Flask, origin: Origin) -> None:
    answer = reader(wiki).get(proxied_src(wiki, origin.url("/gif-said-png.png")))
    assert answer.status_code == 200 and answer.mimetype == "image/gif"


def test_the_other_site_learns_nothing_about_the_reader(wiki: Flask, origin: Origin) -> None:
    src = proxied_src(wiki, origin.url("/pic.png?headers"))
    client = reader(wiki)
    client.set_cookie("session", "reader-session-cookie")
    client.get(src, headers={"Referer": "http://wiki.example/p/Plaatjes",
                             "User-Agent": "Firefox of the reader"})
    seen = origin.headers_seen["/pic.png?headers"]
    assert seen["User-Agent"] == USER_AGENT and "reader" not in str(seen)
    assert not {"Cookie", "Referer", "Authorization", "X-Forwarded-For"} & set(seen)


@pytest.mark.parametrize("path", ["/page.html", "/drawing.svg", "/lying.png", "/missing.png"])
def test_what_is_not_a_png_jpeg_gif_or_webp_is_refused(wiki: Flask, origin: Origin,
                                                       path: str) -> None:
    src = proxied_src(wiki, origin.url(path))
    answer = reader(wiki).get(src)
    assert answer.status_code == 502 and answer.mimetype == "text/plain"
    assert b"<" not in answer.data
    reader(wiki).get(src)
    assert origin.hits[path] == 1  # the failure is remembered too


@pytest.mark.parametrize("path", ["/big.png", "/big-unsized.png"])
def test_an_oversized_image_is_refused(wiki: Flask, origin: Origin, path: str) -> None:
    answer = reader(wiki).get(proxied_src(wiki, origin.url(path)))
    assert answer.status_code == 502 and b"larger than 20000 bytes" in answer.data


def test_a_slow_site_is_cut_off(wiki: Flask, origin: Origin) -> None:
    src = proxied_src(wiki, origin.url("/slow.png"))
    started = time.monotonic()
    answer = reader(wiki).get(src)
    assert answer.status_code == 504 and time.monotonic() - started < 4


def test_slow_sites_hold_only_a_few_threads_and_the_rest_are_told_at_once(
        wiki: Flask, origin: Origin) -> None:
    srcs = [proxied_src(wiki, origin.url(f"/slow.png?{n}"), f"Traag {n}")
            for n in range(FETCHES_AT_ONCE + 1)]
    slow = [threading.Thread(target=reader(wiki).get, args=(src,)) for src in srcs[:-1]]
    for thread in slow:
        thread.start()
    deadline = time.monotonic() + 3
    while sum(origin.hits[f"/slow.png?{n}"] for n in range(FETCHES_AT_ONCE)) < FETCHES_AT_ONCE:
        assert time.monotonic() < deadline, "the slow fetches did not start"
        time.sleep(0.02)
    started = time.monotonic()
    answer = reader(wiki).get(srcs[-1])
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert time.monotonic() - started < 1 and origin.hits[f"/slow.png?{FETCHES_AT_ONCE}"] == 0
    for thread in slow:
        thread.join()


def test_redirects_are_followed_three_times_at_most(wiki: Flask, origin: Origin) -> None:
    assert reader(wiki).get(proxied_src(wiki, origin.url("/hop/3"))).data == PNG
    too_far = reader(wiki).get(proxied_src(wiki, origin.url("/hop/4"), "Ver"))
    assert too_far.status_code == 502 and b"redirects" in too_far.data


@pytest.mark.parametrize("path", ["/to-private", "/to-metadata", "/to-other-port"])
def test_a_redirect_to_a_private_address_is_refused(wiki: Flask, origin: Origin,
                                                    path: str) -> None:
    answer = reader(wiki).get(proxied_src(wiki, origin.url(path)))
    assert answer.status_code == 403 and b"not a public address" in answer.data


def test_the_connection_goes_to_the_address_that_was_checked(
        origin: Origin, monkeypatch: pytest.MonkeyPatch) -> None:
    # DNS rebinding: the first answer passes the check, a second would point inside.
    asked: list[str] = []
    real = socket.getaddrinfo

    def rebinding(host: str, *args: object, **kwargs: object) -> object:
        if host != "images.rebind.test":
            return real(host, *args, **kwargs)  # type: ignore[arg-type]
        asked.append(host)
        address = "127.0.0.1" if len(asked) == 1 else "10.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, origin.port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    fetcher = Fetcher(exempt=frozenset({("127.0.0.1", origin.port)}))
    fetched = fetcher.fetch(f"http://images.rebind.test:{origin.port}/pic.png?rebind")
    assert fetched.data == PNG and asked == ["images.rebind.test"]
    assert origin.headers_seen["/pic.png?rebind"]["Host"] == f"images.rebind.test:{origin.port}"


def test_a_host_name_that_never_resolves_costs_only_the_deadline(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def unanswered(host: str, *args: object, **kwargs: object) -> object:
        time.sleep(3)
        raise socket.gaierror("no answer")

    monkeypatch.setattr(socket, "getaddrinfo", unanswered)
    started = time.monotonic()
    with pytest.raises(ImageRefused) as refused:
        Fetcher(seconds=0.5).fetch("http://images.tarpit.test/a.png")
    assert refused.value.status == 504 and time.monotonic() - started < 2


# -- who may use it ----------------------------------------------------------------

def test_a_forged_or_altered_address_is_refused(wiki: Flask, origin: Origin,
                                                tmp_path: Path) -> None:
    src = proxied_src(wiki, origin.url("/pic.png?forged"))
    _, _, mac, data = src.split("/")
    other = ImageProxy("another wiki's secret", tmp_path).token(origin.url("/pic.png?forged"))
    altered = mac[:-1] + ("B" if mac.endswith("A") else "A")
    for forged in (f"/img/{altered}/{data}", f"/img/{mac}/{data[:-2]}", f"/img/{other}",
                   f"/img/{mac}/{data}!", "/img/x/y"):
        answer = reader(wiki).get(forged)
        assert answer.status_code == 403, forged
    assert origin.hits["/pic.png?forged"] == 0


def test_only_people_who_may_read_pages_get_images(wiki: Flask, origin: Origin) -> None:
    src = proxied_src(wiki, origin.url("/pic.png?anonymous"))
    anonymous = wiki.test_client().get(src)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert origin.hits["/pic.png?anonymous"] == 0


def test_fetches_are_limited_per_person_and_cached_images_are_not(tmp_path: Path,
                                                                  origin: Origin) -> None:
    app = proxied_app(tmp_path / "data", origin, rate_image_fetches=2)
    srcs = [proxied_src(app, origin.url(f"/pic.png?limit={n}"), f"P{n}") for n in range(3)]
    client = reader(app)
    assert [client.get(src).status_code for src in srcs] == [200, 200, 429]
    assert int(client.get(srcs[2]).headers["Retry-After"]) > 0
    assert client.get(srcs[0]).status_code == 200  # already cached: no fetch to count
    assert origin.hits["/pic.png?limit=2"] == 0


@pytest.mark.parametrize("policy", ["off", "allowed"])
def test_without_proxied_there_is_no_image_proxy(tmp_path: Path, policy: str) -> None:
    app = create_app({"data_dir": str(tmp_path / "d"), "remote_images": policy})
    app.extensions["cowiki"].accounts.add_user("reader", "r@example.org", "reader",
                                               PASSWORDS["reader"])
    signed = ImageProxy("secret", tmp_path).token("https://tracker.example/p.png")
    assert reader(app).get(f"/img/{signed}").status_code == 404


def test_allowed_lets_browsers_load_remote_images_and_off_does_not(tmp_path: Path) -> None:
    for policy, remote in (("allowed", True), ("off", False), ("proxied", False)):
        app = create_app({"data_dir": str(tmp_path / policy), "remote_images": policy})
        img_src = re.search(r"img-src ([^;]*)", app.test_client().get("/login").headers[
            "Content-Security-Policy"])
        assert img_src is not None
        assert ("https:" in img_src.group(1).split()) is remote, policy


# -- refused with the settings as shipped --------------------------------------------

INSIDE = ["http://127.0.0.1/a.png", "http://localhost/a.png", "http://[::1]/a.png",
          "http://[::ffff:127.0.0.1]/a.png", "http://10.0.0.1/a.png", "http://172.16.5.4/a.png",
          "http://192.168.1.1/a.png", "http://169.254.169.254/latest/meta-data/",
          "http://[fe80::1]/a.png", "http://[fc00::1]/a.png", "http://100.64.0.1/a.png",
          "http://0.0.0.0/a.png", "http://224.0.0.1/a.png", "http://2130706433/a.png",
          "http://[2002:7f00:1::]/a.png", "http://8.8.8.8:8080/a.png",
          "https://8.8.8.8:22/a.png"]


@pytest.mark.parametrize("url", INSIDE)
def test_loopback_private_link_local_and_metadata_addresses_are_refused(url: str) -> None:
    with pytest.raises(ImageRefused) as refused:
        Fetcher().fetch(url)
    assert refused.value.status == 403


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://8.8.8.8/a.png",
                                 "http://user:secret@8.8.8.8/a.png", "gopher://8.8.8.8/"])
def test_other_schemes_and_credentials_are_refused(url: str) -> None:
    with pytest.raises(ImageRefused) as refused:
        Fetcher().fetch(url)
    assert refused.value.status == 403


def test_public_addresses_are_the_only_ones_reachable() -> None:
    assert is_public(ipaddress.ip_address("8.8.8.8"))
    assert is_public(ipaddress.ip_address("2606:4700::1111"))
    assert is_public(ipaddress.ip_address("::ffff:8.8.8.8"))
    assert not is_public(ipaddress.ip_address("::ffff:169.254.169.254"))
    assert not is_public(ipaddress.ip_address("ff02::1"))


def test_the_shipped_proxy_refuses_a_server_on_loopback(tmp_path: Path, origin: Origin) -> None:
    app = proxied_app(tmp_path / "data", None)  # no exemption: as in production
    answer = reader(app).get(proxied_src(app, origin.url("/pic.png?shipped")))
    assert answer.status_code == 403 and origin.hits["/pic.png?shipped"] == 0
