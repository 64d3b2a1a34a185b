"""The README stays true: documented commands, settings and endpoints exist, and back."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.exceptions import MethodNotAllowed, NotFound

from cowiki.cli import build_parser
from wiki.changes import Kind
from wiki.config import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
SAMPLES = {"path": "Home", "id": "1", "job": "abc", "name": "x.png", "token_id": "1"}


def documented_endpoints() -> list[tuple[str, str]]:
    return re.findall(r"`(GET|PUT|POST|DELETE|PATCH) (/[^`\s]*)`", README)


def sample_url(path: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLES.get(m.group(1), "x"), path)


def test_readme_has_the_two_commands_and_ci_runs_the_test_one() -> None:
    assert "cowiki serve" in README and "./check" in README
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "exec ./check" in ci


def test_every_documented_cli_command_exists() -> None:
    block = README.split("## Command line", 1)[1].split("```", 2)[1]
    commands = re.findall(r"cowiki (?:\[--data DIR\]|--root DIR) ([\w-]+)", block)
    parser = build_parser()
    choices = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert commands and set(commands) == set(choices)


def test_every_setting_is_documented() -> None:
    for field in fields(Settings):
        assert f"COWIKI_{field.name.upper()}" in README, field.name


@pytest.mark.parametrize(("method", "path"), documented_endpoints())
def test_documented_endpoint_exists(app: Flask, method: str, path: str) -> None:
    adapter = app.url_map.bind("localhost")
    try:
        adapter.match(sample_url(path), method=method)
    except (NotFound, MethodNotAllowed):
        pytest.fail(f"README documents {method} {path}, which the app does not serve")


def test_every_api_route_is_documented(app: Flask) -> None:
    documented = {(m, sample_url(p)) for m, p in documented_endpoints()}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/v1", "/healthz")):
            continue
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert any(m == method and _matches(app, u, m, rule.endpoint)
                       for m, u in documented), f"README lacks {method} {rule.rule}"


def _matches(app: Flask, url: str, method: str, endpoint: str) -> bool:
    try:
        return app.url_map.bind("localhost").match(url, method=method)[0] == endpoint
    except (NotFound, MethodNotAllowed):
        return False


DESIGN = (Path(__file__).resolve().parent.parent / "docs" / "design.md").read_text()


def test_readme_links_the_design_in_the_repository() -> None:
    assert "](docs/design.md)" in README and "../shared" not in README


def test_design_names_every_change_kind_check_and_listener(app: Flask) -> None:
    door = app.extensions["cowiki"].changes
    for kind in Kind:
        assert f"| `{kind}` |" in DESIGN, kind
    for name, _ in (*door.checks, *door.listeners):
        assert f"| {name} |" in DESIGN, name
    rows = re.findall(r"^\| ([a-z][a-z -]+) \| (?!kind|made by|check|refuses|listener|does)",
                      DESIGN.split("## The change flow", 1)[1].split("## Search", 1)[0],
                      re.MULTILINE)
    wired = {name for name, _ in (*door.checks, *door.listeners)}
    assert set(rows) == wired  # and no row for a check or listener that is gone
