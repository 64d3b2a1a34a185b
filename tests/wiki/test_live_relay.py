"""The live socket relay: bytes pass both ways intact, buffers stay bounded, closes follow."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time

from wiki.live.relay import PAUSE_AT, Relay, take_over


def wait_for(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def relayed_pair(relay: Relay, early: bytes = b"") -> tuple[socket.socket, socket.socket]:
    """(browser end, live-process end): what each of them sees of the other."""
    browser, browser_server_side = socket.socketpair()
    live, live_web_side = socket.socketpair()
    relay.add(browser_server_side, live_web_side, early)
    return browser, live


def read_exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(min(65536, size - len(data)))
        assert chunk, f"closed after {len(data)} of {size} bytes"
        data += chunk
    return bytes(data)


def test_bytes_pass_both_ways_after_the_early_answer() -> None:
    relay = Relay()
    browser, live = relayed_pair(relay, early=b"HTTP/1.1 101 Switching Protocols\r\n\r\n")
    assert read_exactly(browser, 36).startswith(b"HTTP/1.1 101")
    browser.sendall(b"frame from the browser")
    assert read_exactly(live, 22) == b"frame from the browser"
    live.sendall(b"frame from the room")
    assert read_exactly(browser, 19) == b"frame from the room"
    assert relay.connections == 1


def test_megabytes_arrive_intact_while_the_reader_is_slow() -> None:
    relay = Relay()
    browser, live = relayed_pair(relay)
    payload = os.urandom(6 * PAUSE_AT)
    sender = threading.Thread(target=live.sendall, args=(payload,))
    sender.start()
    time.sleep(0.5)  # the browser reads nothing yet: the relay must pause, not hoard
    received = read_exactly(browser, len(payload))
    sender.join(10)
    assert hashlib.sha256(received).digest() == hashlib.sha256(payload).digest()


def test_when_the_live_process_closes_the_browser_gets_the_rest_then_eof() -> None:
    relay = Relay()
    browser, live = relayed_pair(relay)
    live.sendall(b"\x88\x02\x11\x51")  # a WebSocket close frame (code 4433)
    live.close()
    assert read_exactly(browser, 4) == b"\x88\x02\x11\x51"
    browser.settimeout(5)
    assert browser.recv(10) == b""
    wait_for(lambda: relay.connections == 0)


def test_when_the_browser_goes_away_the_live_side_is_closed() -> None:
    relay = Relay()
    browsers = [relayed_pair(relay) for _ in range(20)]
    wait_for(lambda: relay.connections == 20)
    for browser, live in browsers:
        browser.close()
        live.settimeout(5)
        assert live.recv(10) == b""
    wait_for(lambda: relay.connections == 0)


def test_take_over_leaves_gunicorn_a_dead_socket_and_keeps_the_connection() -> None:
    ours, theirs = socket.socketpair()
    kept = take_over(ours)
    # gunicorn writes its own answer on its object: it fails, the peer sees none of it.
    try:
        ours.sendall(b"HTTP/1.1 101 from gunicorn\r\n\r\n")
        raise AssertionError("the write should fail")
    except BrokenPipeError:
        pass
    ours.close()
    kept.sendall(b"still here")
    assert read_exactly(theirs, 10) == b"still here"
    theirs.sendall(b"and back")
    assert read_exactly(kept, 8) == b"and back"
