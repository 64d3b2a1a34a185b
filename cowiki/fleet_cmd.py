"""Fleet commands: `cowiki --root DIR move-wiki SLUG --to-root OTHER --node NAME` and
`cowiki placement proxy-config|assign` (cowiki/placement.py has the file,
cowiki/move.py the move, cowiki/proxy_config.py the proxy's configuration).

Operator commands, in English like the other admin commands; one line per
step, and a problem exits 2 with one line through cli.main.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cowiki import placement as placements
from cowiki.move import move_wiki, plan
from cowiki.proxy_config import FORMATS, proxy_config
from wiki.config import Settings
from wiki.errors import InvalidInput

PLACEMENT_HELP = "the placement file (default $COWIKI_PLACEMENT, else ROOT/placement.json)"


def add_parsers(sub: Any) -> None:
    """Register `move-wiki` and `placement` on the CLI's subparsers."""
    move = sub.add_parser("move-wiki", help="move a wiki of --root DIR to another node's root,"
                          " then update the placement file")
    move.add_argument("slug", metavar="SLUG")
    move.add_argument("--to-root", required=True, metavar="OTHER_ROOT",
                      help="the other node's --root folder (on this machine)")
    move.add_argument("--node", required=True, metavar="NAME",
                      help="the other node's name in the placement file")
    move.add_argument("--node-url", metavar="URL",
                      help="the node's address (http://HOST:PORT), when it is new")
    move.add_argument("--placement", metavar="FILE", help=PLACEMENT_HELP)
    place = sub.add_parser("placement", help="the fleet's placement file: which node serves"
                           " which wiki")
    actions = place.add_subparsers(dest="placement_command", required=True,
                                   parser_class=type(place))
    proxy = actions.add_parser("proxy-config", help="print the reverse proxy's routing of"
                               " /w/<slug>/ to its node")
    proxy.add_argument("--format", required=True, choices=FORMATS)
    proxy.add_argument("--placement", metavar="FILE", help=PLACEMENT_HELP)
    assign = actions.add_parser("assign", help="record that node NAME serves wiki SLUG")
    assign.add_argument("slug", metavar="SLUG")
    assign.add_argument("--node", required=True, metavar="NAME")
    assign.add_argument("--node-url", metavar="URL",
                        help="the node's address (http://HOST:PORT), when it is new")
    assign.add_argument("--placement", metavar="FILE", help=PLACEMENT_HELP)


def placement_file(args: argparse.Namespace, settings: Settings) -> Path:
    """The placement file this command reads or writes."""
    return placements.locate(args.placement, settings.placement, args.root)


def cmd_move_wiki(args: argparse.Namespace, settings: Settings) -> int:
    """Move ROOT/SLUG to OTHER_ROOT/SLUG, one line per step."""
    if args.root is None:
        raise InvalidInput("move-wiki needs --root DIR (the root the wiki is in now)")
    move = plan(Path(args.root), args.slug, Path(args.to_root), args.node, args.node_url,
                placement_file(args, settings), settings)
    print(f"moving {move.slug}: {move.source} -> {move.target} (node {move.node})", flush=True)
    facts = move_wiki(move, lambda line: print(line, flush=True))
    print(f"moved {move.slug} to node {move.node}: {facts.describe()}; regenerate the proxy"
          " config (cowiki placement proxy-config) and reload the proxy")
    return 0


def cmd_placement(args: argparse.Namespace, settings: Settings) -> int:
    """`placement proxy-config` prints the proxy's configuration; `assign` records a wiki."""
    path = placement_file(args, settings)
    if args.placement_command == "assign":
        placed = placements.place(path, args.slug, args.node, args.node_url)
        print(f"{args.slug} is on node {args.node} ({placed.nodes[args.node]}) in {path}")
        return 0
    if not path.is_file():
        raise InvalidInput(f"no placement file at {path}")
    print(proxy_config(placements.load(path), args.format, path.name), end="")
    return 0


COMMANDS = {"move-wiki": cmd_move_wiki, "placement": cmd_placement}
