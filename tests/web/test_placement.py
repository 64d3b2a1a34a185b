"""The fleet's placement file and the reverse proxy configurations made from it, without
servers (tests/web/test_fleet.py moves wikis between two served roots)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from cowiki import placement as placements
from cowiki.proxy_config import proxy_config
from tests.web.test_multi_wiki import cowiki
from wiki.errors import InvalidInput


def test_placement_is_written_whole_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "placement.json"
    assert placements.load(path) == placements.Placement()
    placements.place(path, "ws-1", "node-a", "http://10.0.0.5:8080/")
    placed = placements.place(path, "ws-2", "node-a")
    assert json.loads(path.read_text()) == {"nodes": {"node-a": "http://10.0.0.5:8080"},
                                            "wikis": {"ws-1": "node-a", "ws-2": "node-a"}}
    assert placements.load(path) == placed
    assert sorted(os.listdir(tmp_path)) == ["placement.json", "placement.json.lock"]


@pytest.mark.parametrize("text", [
    '{"nodes": {"a": "http://h:1"}}',                             # node name too short
    '{"nodes": {"node-a": "ftp://h"}}',                           # not http(s)
    '{"nodes": {"node-a": "http://h:8080/wiki"}}',                # a path
    '{"nodes": {"node-a": "http://h;evil"}}',                     # ends a proxy statement
    '{"nodes": {"node-a": "http://user@h"}}',                     # credentials
    '{"nodes": {"node-a": "http://h:70000"}}',                    # no such port
    '{"nodes": {}, "wikis": {"ws-1": "node-a"}}',                 # an unknown node
    '{"nodes": {}, "wikis": {"WS 1": "node-a"}}',                 # not a slug
    '{"nodes": {}, "wiki": {}}',                                  # a typo'd key
    '["nodes"]', "not json",
])
def test_a_wrong_placement_file_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "placement.json"
    path.write_text(text)
    with pytest.raises(InvalidInput):
        placements.load(path)
    done = cowiki("placement", "proxy-config", "--format", "nginx", "--placement", str(path))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and done.stdout == ""


def test_assign_refuses_an_unknown_node_without_its_address(tmp_path: Path) -> None:
    path = tmp_path / "placement.json"
    done = cowiki("placement", "assign", "ws-1", "--node", "node-z", "--placement", str(path))
    assert done.returncode == 2 and "--node-url" in done.stderr and not path.exists()


def test_concurrent_writers_lose_no_assignment(tmp_path: Path) -> None:
    path = tmp_path / "placement.json"
    placements.place(path, "ws-0", "node-a", "http://127.0.0.1:8001")

    def assign(first: int) -> None:
        for number in range(first, first + 15):
            placements.place(path, f"ws-{number}", "node-a")

    writers = [threading.Thread(target=assign, args=(n * 100 + 1,)) for n in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert len(placements.load(path).wikis) == 1 + 4 * 15


def test_nginx_and_haproxy_configs_carry_upgrades_streaming_and_every_route() -> None:
    placed = placements.Placement({"node-a": "http://10.0.0.5:8080",
                                   "node-b": "https://b.example.org"},
                                  {"ws-1": "node-a", "ws-2": "node-b", "ws-3": "node-a"})
    nginx = proxy_config(placed, "nginx")
    assert "server 10.0.0.5:8080;" in nginx and "server b.example.org:443;" in nginx
    for slug, node in (("ws-1", "a"), ("ws-2", "b"), ("ws-3", "a")):
        assert f"    {slug} cowiki_node_{node};" in nginx
    assert "proxy_set_header Upgrade $http_upgrade;" in nginx
    assert "proxy_buffering off;" in nginx and "proxy_request_buffering off;" in nginx
    assert "cowiki_node_b https;" in nginx
    haproxy = proxy_config(placed, "haproxy")
    assert "acl on_cowiki_node_a path_beg /w/ws-1/ /w/ws-3/" in haproxy
    assert "use_backend cowiki_node_b if on_cowiki_node_b" in haproxy
    assert "server node-a 10.0.0.5:8080\n" in haproxy and "timeout tunnel" in haproxy
    assert "default_backend cowiki-no-wiki" in haproxy
    with pytest.raises(ValueError):
        proxy_config(placed, "apache")
