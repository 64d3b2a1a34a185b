"""The placement file of a fleet: which node serves which wiki.

A small JSON file, by default ROOT/placement.json (or `--placement FILE`, or
COWIKI_PLACEMENT), that the reverse proxy's configuration is generated from
(cowiki/proxy_config.py) and that `move-wiki` updates:

    {"nodes": {"a": "http://10.0.0.5:8080", "b": "http://10.0.0.6:8080"},
     "wikis": {"ws-1": "a", "ws-2": "b"}}

`nodes` maps a node's name (the same rules as a wiki's slug) to the base URL
the proxy reaches its `cowiki --root DIR serve` at (http or https, a host and
an optional port, nothing else); `wikis` maps a slug to a node named in
`nodes`. Every read checks all of it, so a hand edit with a typo is refused
with one line instead of becoming a broken proxy config. Writes go to a
temporary file that replaces the old one (os.replace) while a lock file is
held, so readers see the old or the new file, never half of one, and two
writers never lose each other's change. No Flask here.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from storage.errors import InvalidPageName
from storage.names import validate_slug
from wiki.errors import InvalidInput
from wiki.filelock import held

FILE_NAME = "placement.json"
MAX_BYTES = 10_000_000  # a placement of 100,000 wikis is a few MB
# http(s)://host[:port][/]: a host name, IPv4 or [IPv6] address; nothing that could
# end a line or a statement of the proxy configuration it is written into.
_URL = re.compile(r"(?P<scheme>https?)://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]"
                  r"(?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(?::(?P<port>[0-9]{1,5}))?/?")


@dataclass(frozen=True)
class Node:
    """A node's address as the proxy needs it."""

    name: str
    scheme: str
    host: str
    port: int

    @property
    def hostport(self) -> str:
        """host:port, always with the port (the proxy's upstream server)."""
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Placement:
    """Nodes (name → base URL) and wikis (slug → node name), both checked."""

    nodes: Mapping[str, str] = field(default_factory=dict)
    wikis: Mapping[str, str] = field(default_factory=dict)

    def node_of(self, slug: str) -> str | None:
        """The name of the node that serves `slug`, or None when it is not placed."""
        return self.wikis.get(slug)

    def node(self, name: str) -> Node:
        """Node `name`'s address, split for a proxy configuration."""
        match = _URL.fullmatch(self.nodes[name])
        assert match is not None  # every URL in a Placement passed validate_node_url
        scheme = match["scheme"]
        port = int(match["port"]) if match["port"] else (443 if scheme == "https" else 80)
        return Node(name, scheme, match["host"], port)

    def placed(self, slug: str, node: str, url: str | None = None) -> Placement:
        """A copy with `slug` on `node` (and `node` at `url`, when given)."""
        slug, node = validate_slug(slug), validate_node_name(node)
        nodes = dict(self.nodes)
        if url is not None:
            nodes[node] = validate_node_url(url)
        if node not in nodes:
            raise InvalidInput(f"no node called {node!r} in the placement file; give its"
                               " address with --node-url URL")
        return Placement(nodes, {**self.wikis, slug: node})

    def to_json(self) -> str:
        """The file's text: sorted, indented, one entry a line (diff-friendly)."""
        return json.dumps({"nodes": dict(sorted(self.nodes.items())),
                           "wikis": dict(sorted(self.wikis.items()))}, indent=2) + "\n"


def validate_node_name(raw: object) -> str:
    """`raw` as a node's name: the rules of a wiki's slug (2-40 of a-z, 0-9 and '-')."""
    try:
        return validate_slug(raw)
    except InvalidPageName:
        raise InvalidInput(f"{raw!r} is not a node name: 2-40 lower-case letters, digits and"
                           " '-', not starting with '-'") from None


def validate_node_url(raw: object) -> str:
    """`raw` as a node's base URL (http or https, host, optional port), without a final '/'."""
    match = _URL.fullmatch(raw) if isinstance(raw, str) else None
    if match is None or (match["port"] and not 1 <= int(match["port"]) <= 65535):
        raise InvalidInput(f"{raw!r} is not a node address: give http://HOST[:PORT] or"
                           " https://HOST[:PORT], with no path")
    port = f":{int(match['port'])}" if match["port"] else ""
    return f"{match['scheme']}://{match['host'].lower()}{port}"


def parse(text: str, where: str = FILE_NAME) -> Placement:
    """The placement a file's text describes; InvalidInput (naming `where`) when it is wrong."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"{where} is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or set(data) - {"nodes", "wikis"}:
        raise InvalidInput(f"{where} must be an object with only \"nodes\" and \"wikis\"")
    nodes, wikis = data.get("nodes", {}), data.get("wikis", {})
    if not isinstance(nodes, dict) or not isinstance(wikis, dict):
        raise InvalidInput(f"{where}: \"nodes\" and \"wikis\" must be objects")
    checked_nodes = {validate_node_name(name): validate_node_url(url)
                     for name, url in nodes.items()}
    checked_wikis: dict[str, str] = {}
    for slug, node in wikis.items():
        try:
            slug = validate_slug(slug)
        except InvalidPageName:
            raise InvalidInput(f"{where}: {slug!r} is not a wiki's short name") from None
        if validate_node_name(node) not in checked_nodes:
            raise InvalidInput(f"{where}: wiki {slug!r} is on node {node!r}, which \"nodes\""
                               " does not list")
        checked_wikis[slug] = node
    return Placement(checked_nodes, checked_wikis)


def load(path: Path) -> Placement:
    """The placement in `path`; an empty one when the file does not exist yet."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return Placement()
    if len(raw) > MAX_BYTES:
        raise InvalidInput(f"{path} is larger than {MAX_BYTES} bytes: not a placement file")
    return parse(raw.decode("utf-8", errors="replace"), str(path))


def lock_path(path: Path) -> Path:
    """The lock file held while `path` is rewritten (beside it, never replaced)."""
    return path.with_name(path.name + ".lock")


@contextmanager
def changing(path: Path) -> Iterator[list[Placement]]:
    """Read, change and write `path` under its lock: put the new placement in the list.

        with changing(path) as box:
            box[0] = box[0].placed("ws-1", "b")

    Nothing is written when the block raises or leaves the placement as it was.
    """
    path = Path(path).absolute()
    if not path.parent.is_dir():
        raise InvalidInput(f"cannot write {path}: its folder does not exist")
    with held(lock_path(path)):
        before = load(path)
        box = [before]
        yield box
        if box[0] != before:
            write(path, box[0])


def write(path: Path, placement: Placement) -> None:
    """Replace `path` with `placement` in one step (the caller holds its lock)."""
    text = placement.to_json()
    parse(text, str(path))  # never write what could not be read back
    handle, spare = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(spare, 0o644)
        os.replace(spare, path)
    except BaseException:
        Path(spare).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(folder)  # the rename itself survives a crash
    finally:
        os.close(folder)


def place(path: Path, slug: str, node: str, url: str | None = None) -> Placement:
    """Put `slug` on `node` (registering `node` at `url` when given) in `path`; the result."""
    with changing(path) as box:
        box[0] = box[0].placed(slug, node, url)
    return box[0]


def locate(explicit: str | None, configured: str, root: str | None) -> Path:
    """The placement file: --placement FILE, else COWIKI_PLACEMENT, else ROOT/placement.json."""
    chosen = explicit or configured or (str(Path(root) / FILE_NAME) if root else "")
    if not chosen:
        raise InvalidInput("which placement file? give --placement FILE, set"
                           " COWIKI_PLACEMENT, or give --root DIR (its placement.json)")
    return Path(chosen).absolute()

