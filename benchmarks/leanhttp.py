"""Two HTTP clients with one face, for timing servers side by side.

`LeanClient` is `http.client` over a kept connection, with no cookie jar, no
hooks and no redirects: it sends the request and reads the whole answer (status,
headers, body), as load tools such as `wrk` do. `RequestsClient` is the
`requests` session the benchmarks used before. On the 2-core machine of
benchmarks/README.md, `requests` spent about 0.8 ms of its own on every answer
(building its response, filling its cookie jar): the same for both servers, so
it weighed most on the faster one. `bench_peer.py --client requests` still
measures with it.
"""

from __future__ import annotations

import base64
import http.client
import json
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlsplit

import requests

TIMEOUT = 600


class Answer(NamedTuple):
    """A server's whole answer, and the request it answered (for error messages)."""

    status: int
    body: bytes
    method: str
    path: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


class Client(Protocol):
    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer: ...


class LeanClient:
    """One kept connection to `base_url`; cookies the server sets are sent back."""

    def __init__(self, base_url: str, auth: tuple[str, str] | None = None) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.headers = {"Host": parts.netloc, "Accept-Encoding": "identity"}
        if auth is not None:
            pair = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            self.headers["Authorization"] = f"Basic {pair}"
        self.cookies: dict[str, str] = {}
        self._connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        sent = {**self.headers, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            reused = self._connection is not None
            connection = self._connection or http.client.HTTPConnection(
                self.host, self.port, timeout=TIMEOUT)
            try:
                connection.request(method, path, body=body, headers=sent)
                response = connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionError):
                connection.close()
                self._connection = None
                if reused and attempt == 1:
                    continue  # the server closed the kept connection: once more, anew
                raise
            self._connection = None if response.will_close else connection
            if response.will_close:
                connection.close()
            for cookie in response.headers.get_all("Set-Cookie") or ():
                name, _, value = cookie.split(";", 1)[0].partition("=")
                self.cookies[name.strip()] = value.strip()
            return Answer(response.status, data, method, path)
        raise AssertionError("unreachable")


class RequestsClient:
    """The same face over a `requests` session (its cookie jar and all)."""

    def __init__(self, base_url: str, session: requests.Session | None = None) -> None:
        self.base_url = base_url
        self.session = session or requests.Session()

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        prepared = self.session.prepare_request(requests.Request(
            method, self.base_url + path, data=body, headers=headers))
        response = self.session.send(prepared, allow_redirects=False, timeout=TIMEOUT)
        return Answer(response.status_code, response.content, method, path)
