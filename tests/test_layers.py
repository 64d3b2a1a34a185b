"""The layer rules of storage/README.md and wiki/README.md, read from the imports themselves.

Git knowledge has one home: only `storage/` imports pygit2, and only
`storage/gitcmd.py` starts the git binary. Tests and benchmarks may use
pygit2 and git directly to check the application's work.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("storage", "wiki", "cowiki")
MAX_LINES = 400
# Modules that start programs other than git (pandoc, export workers).
# pandoc for exports, and `cowiki serve` starting its live-editing process (Python, not git).
OTHER_PROGRAMS = {"wiki/export/pandoc.py", "wiki/export/jobs.py", "cowiki/server.py"}


def app_modules() -> list[str]:
    """Every application module, as a path relative to the project root."""
    found = [str(p.relative_to(ROOT)) for layer in LAYERS for p in (ROOT / layer).rglob("*.py")]
    return sorted([*found, "app.py"])


def imports(module: str) -> set[str]:
    """Top-level names of the packages a module imports (relative imports left out)."""
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"), module)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def importers(package: str) -> set[str]:
    """The application modules that import `package`."""
    return {module for module in app_modules() if package in imports(module)}


def test_only_storage_imports_pygit2() -> None:
    outside = {m for m in importers("pygit2") if not m.startswith("storage/")}
    assert outside == set(), "ask a storage/ function for plain values instead"


def test_storage_imports_only_the_standard_library_pygit2_and_itself() -> None:
    allowed = set(sys.stdlib_module_names) | {"__future__", "pygit2", "storage"}
    foreign = {f"{m}: {', '.join(sorted(imports(m) - allowed))}"
               for m in app_modules() if m.startswith("storage/") and imports(m) - allowed}
    assert foreign == set(), "storage/ never imports flask, whoosh, markdown, wiki or GitPython"


def test_only_storage_gitcmd_starts_git() -> None:
    runners = importers("subprocess") - OTHER_PROGRAMS
    assert runners == {"storage/gitcmd.py"}, "run git with storage.gitcmd.run_git/start_git"
    assert importers("git") == set(), "GitPython is not used; storage.gitcmd runs git"


def test_whoosh_markdown_and_flask_stay_in_their_modules() -> None:
    assert {m for m in importers("whoosh") if not m.startswith("wiki/search/")} == set()
    assert importers("markdown") | importers("nh3") <= {"wiki/render.py"}
    flask_users = importers("flask") | importers("flask_login") | importers("flask_babel")
    assert {m for m in flask_users
            if m != "app.py" and not m.startswith(("wiki/views/", "cowiki/"))} == set()


def test_every_module_stays_under_the_line_limit() -> None:
    lines = {m: len((ROOT / m).read_text(encoding="utf-8").splitlines()) for m in app_modules()}
    long = {m: n for m, n in lines.items() if n > MAX_LINES and m != "app.py"}
    assert long == {}, f"split modules over {MAX_LINES} lines into smaller ones"
