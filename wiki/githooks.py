"""The bare repository's git hooks: pushes are checked and logged by cowiki's own code.

`open_data_dir` (re)writes the hooks on every start, so they always run the
Python interpreter (and so the virtualenv) of the running wiki. Each hook is
a two-line shell script that hands over to `python -m cowiki.hooks NAME`.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

HOOKS = ("pre-receive", "proc-receive", "post-receive")
TEMPLATE = """#!/bin/sh
# Written by cowiki on start; edits are overwritten. Checks, merges and logs git pushes.
exec {python} -P -m cowiki.hooks {hook}
"""


def hook_script(hook: str, python: str) -> str:
    """The shell script for one hook."""
    return TEMPLATE.format(python=shlex.quote(python), hook=shlex.quote(hook))


def install_hooks(repo_path: str | os.PathLike[str], python: str | None = None) -> None:
    """Write the push hooks into `repo_path/hooks`, atomically and only when they differ."""
    folder = Path(repo_path) / "hooks"
    folder.mkdir(exist_ok=True)
    for hook in HOOKS:
        script = hook_script(hook, python or sys.executable)
        target = folder / hook
        try:
            if target.read_text() == script and os.access(target, os.X_OK):
                continue
        except OSError:
            pass
        # Written aside and renamed, so a push never runs a half-written hook
        # while another worker starts up.
        spare = folder / f".{hook}.{os.getpid()}"
        spare.write_text(script)
        spare.chmod(0o755)
        os.replace(spare, target)
