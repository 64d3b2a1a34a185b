"""git's proc-receive hook protocol: receive-pack hands ref updates to us, we report back.

With `receive.procReceiveRefs` set, `git receive-pack` does not update the
matching refs itself: after the pre-receive hook accepted the push (and the
pushed objects left quarantine) it starts the proc-receive hook and speaks
pkt-lines with it (githooks(5), "proc-receive"):

    S: version=1\\0<features>  flush     H: version=1  flush
    S: <old> <new> <ref> ...   flush     (push options follow only if we asked)
    H: ok <ref> [option refname R, option old-oid O, option new-oid N] | ng <ref> <why>
    H: flush

The reported old/new/refname are what the client shows and what post-receive
gets on stdin. This module only reads and writes the protocol; what to do with
each update is the caller's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from storage.errors import StorageError
from storage.incoming import RefUpdate, parse_updates

VERSION = "version=1"
FLUSH = b"0000"
MAX_PKT = 65520  # git's LARGE_PACKET_MAX: the longest pkt-line, its 4 length digits included


class ProtocolError(StorageError):
    """receive-pack sent something that is not the proc-receive protocol."""


@dataclass(frozen=True)
class Outcome:
    """The result for one command: accepted (`error` None) with where the ref really went,
    or refused with a one-line reason."""

    ref: str
    error: str | None = None
    refname: str | None = None
    old: str | None = None
    new: str | None = None

    def lines(self) -> list[str]:
        """The pkt-line payloads that report this outcome."""
        if self.error is not None:
            return [f"ng {self.ref} {' '.join(self.error.split())}"]
        options = [("refname", self.refname), ("old-oid", self.old), ("new-oid", self.new)]
        return [f"ok {self.ref}", *(f"option {key} {value}" for key, value in options
                                     if value is not None)]


def read_pkt(stream: IO[bytes]) -> bytes | None:
    """One pkt-line's payload (trailing newline removed), or None for a flush packet."""
    head = stream.read(4)
    if len(head) != 4:
        raise ProtocolError("receive-pack hung up")
    try:
        size = int(head, 16)
    except ValueError as exc:
        raise ProtocolError(f"bad pkt-line length {head!r}") from exc
    if size == 0:
        return None
    if not 4 < size <= MAX_PKT:
        raise ProtocolError(f"bad pkt-line length {size}")
    payload = stream.read(size - 4)
    if len(payload) != size - 4:
        raise ProtocolError("receive-pack hung up mid-line")
    return payload.removesuffix(b"\n")


def read_section(stream: IO[bytes]) -> list[bytes]:
    """Payloads up to the next flush packet."""
    lines = []
    while (line := read_pkt(stream)) is not None:
        lines.append(line)
    return lines


def write_pkt(stream: IO[bytes], payload: str) -> None:
    """Write one pkt-line (with git's trailing newline)."""
    data = (payload + "\n").encode("utf-8")
    if len(data) + 4 > MAX_PKT:
        data = data[: MAX_PKT - 5] + b"\n"
    stream.write(b"%04x" % (len(data) + 4) + data)


def negotiate(stdin: IO[bytes], stdout: IO[bytes]) -> list[RefUpdate]:
    """Agree on version 1 (asking for no features) and read the ref updates."""
    hello = read_section(stdin)
    version = hello[0].split(b"\0", 1)[0].decode("ascii", "replace") if hello else ""
    if version != VERSION:
        raise ProtocolError(f"proc-receive protocol {version or '(none)'} is not {VERSION}")
    write_pkt(stdout, VERSION)
    stdout.write(FLUSH)
    stdout.flush()
    commands = [line.decode("utf-8", "replace") for line in read_section(stdin)]
    return parse_updates(commands)


def report(stdout: IO[bytes], outcomes: list[Outcome]) -> None:
    """Send the results, in the order of the updates, and the closing flush."""
    for outcome in outcomes:
        for line in outcome.lines():
            write_pkt(stdout, line)
    stdout.write(FLUSH)
    stdout.flush()
