"""Unix sockets in a data directory of any depth (sockaddr_un holds only 108 bytes).

The live process (DATA/run/live.sock) and the search-index process
(DATA/run/index.sock) listen on sockets only the wiki's own user reaches.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MAX_SUN_PATH = 100  # sockaddr_un holds 108 bytes; deep temp dirs go past it


@contextmanager
def address(path: Path) -> Iterator[str]:
    """An address of `path` that fits sockaddr_un: the path itself, or the same file
    through its folder's descriptor, open while the block runs."""
    if len(os.fsencode(path)) <= MAX_SUN_PATH:
        yield str(path)
        return
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{folder}/{path.name}"
    finally:
        os.close(folder)


def bind(path: Path, kind: socket.SocketKind) -> socket.socket:
    """A unix socket of `kind` bound at `path` (0600), put in place of any old one in one
    step, so a process started again never finds the address taken."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    spare = path.with_name(f".{path.name}.{os.getpid()}")
    spare.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, kind)
    old_mask = os.umask(0o177)
    try:
        with address(spare) as where:
            sock.bind(where)
    except OSError:
        sock.close()
        raise
    finally:
        os.umask(old_mask)
    os.chmod(spare, 0o600)
    os.replace(spare, path)
    return sock
