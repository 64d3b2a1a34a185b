"""`cowiki serve` keeps an idle connection open for the client's next request.

gunicorn's default closed it after 2 s, so clients that paused a little longer sent
their next request on a connection the server had just closed. A real server, one
real connection.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import LiveServer, cli, free_port, serve_fresh


@pytest.fixture
def server(data_dir: Path) -> Iterator[LiveServer]:
    yield from serve_fresh(data_dir.parent / "keepalive")


def test_a_connection_idle_for_3_seconds_serves_the_next_request(server: LiveServer) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("GET", "/healthz")
        first = connection.getresponse()
        first.read()
        assert first.status == 200 and first.getheader("Connection", "").lower() != "close"
        assert connection.sock is not None
        socket_before, local_port = connection.sock, connection.sock.getsockname()[1]
        time.sleep(3)
        connection.request("GET", "/healthz")
        second = connection.getresponse()
        second.read()
        assert second.status == 200
        # The same socket, not one http.client opened again behind our back.
        assert connection.sock is socket_before
        assert connection.sock.getsockname()[1] == local_port
    finally:
        connection.close()


def test_serve_refuses_a_keepalive_out_of_range_in_one_line(data_dir: Path) -> None:
    done = cli(data_dir, "serve", "--port", str(free_port()),
               env={"COWIKI_KEEPALIVE_SECONDS": "0", "COWIKI_LIVE": "off"})
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.strip().endswith("COWIKI_KEEPALIVE_SECONDS must be 1-3600, not 0")
