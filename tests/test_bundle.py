"""The committed live editor bundle is exactly what the pinned npm packages build.

static/live.bundle.js is committed so `pip install` never needs Node; this test
rebuilds it from frontend/ (npm ci from the registry, then the build script) in a
temporary copy and compares the bytes. Without node and npm it skips, except in CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILT = ("live.bundle.js", "live.bundle.js.LICENSE.txt")


def tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node and npm:
        return node, npm
    message = "node and npm are missing: apt-get install nodejs npm"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def test_rebuilding_the_live_editor_gives_the_committed_bundle(tmp_path: Path) -> None:
    node, npm = tools()
    source = tmp_path / "frontend"
    shutil.copytree(ROOT / "frontend", source, ignore=shutil.ignore_patterns("node_modules"))
    installed = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=source,
                               capture_output=True, text=True, timeout=900)
    assert installed.returncode == 0, installed.stderr
    out = tmp_path / "out"
    built = subprocess.run([node, "build.mjs", "--out", str(out)], cwd=source,
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    for name in BUILT:
        assert (out / name).read_bytes() == (ROOT / "static" / name).read_bytes(), (
            f"static/{name} is not what frontend/ builds: run "
            "`npm --prefix frontend ci && node frontend/build.mjs` and commit the result")


def test_the_bundle_ships_the_licences_of_what_it_contains() -> None:
    licences = (ROOT / "static" / "live.bundle.js.LICENSE.txt").read_text(encoding="utf-8")
    for package in ("yjs", "y-websocket", "y-codemirror.next", "@codemirror/view", "lib0"):
        assert f"\n{package} " in licences and "Permission is hereby granted" in licences
    bundle = (ROOT / "static" / "live.bundle.js").read_text(encoding="utf-8")
    assert bundle.startswith("/*! cowiki live editor; licences: live.bundle.js.LICENSE.txt */")
    assert "node_modules" not in bundle and str(ROOT) not in bundle
