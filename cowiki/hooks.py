"""`python -m cowiki.hooks pre-receive|post-receive`: git's push hooks for the wiki.

git runs these (see wiki/githooks.py) inside the bare repository with the
ref updates on stdin. pre-receive refuses a push that breaks the wiki's
rules; everything it prints reaches the git client as "remote: ..." lines.
post-receive records who pushed the new commits. The web view passes the
pusher and the size limits in COWIKI_* variables; a push on the server's
own file system gets the configured defaults and no pusher.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from storage.incoming import RefUpdate, new_commits, open_incoming, parse_updates
from storage.repository import MAIN_REF
from wiki.accounts import Accounts
from wiki.config import Settings
from wiki.db import Database
from wiki.phases import is_frozen
from wiki.push import PushLimits, PushPolicy, PushRefused, check_push
from wiki.pushlog import PushLog

PUSHER_ENV = "COWIKI_PUSHER_ID"


def git_dir() -> Path:
    """The repository the hook runs in (git sets GIT_DIR, or runs us inside it)."""
    return Path(os.environ.get("GIT_DIR", ".")).resolve()


def pre_receive(updates: Sequence[RefUpdate]) -> int:
    """Check the push; print the problems and return 1 to make git refuse it."""
    settings = Settings.load({"data_dir": str(git_dir().parent)})
    limits = PushLimits(settings.max_page_bytes, settings.max_attachment_bytes,
                        settings.max_push_bytes)
    repo = open_incoming(git_dir())
    try:
        check_push(repo, updates, limits, repo.main(), pusher_policy())
    except PushRefused as refused:
        print("cowiki refused this push:", file=sys.stderr)
        for problem in refused.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    return 0


def pusher_policy() -> PushPolicy:
    """The pushing account's rights; a push without one (on the server) may do anything."""
    raw = os.environ.get(PUSHER_ENV, "")
    db = Database(git_dir().parent / "cowiki.db")
    user = Accounts(db).get(int(raw)) if raw.isdigit() else None
    if user is None or user.can("facilitator"):
        return PushPolicy()

    def frozen(path: str) -> str | None:
        scope = is_frozen(db, path)
        if scope is None:
            return None
        where = "the whole wiki" if scope.whole_wiki else scope.scope
        return f"{where} is frozen by a facilitator; only facilitators may change it now"

    return PushPolicy(edit_outline=False, frozen=frozen)


def post_receive(updates: Sequence[RefUpdate]) -> int:
    """Record the pusher of every commit the push brought to main."""
    raw = os.environ.get(PUSHER_ENV, "")
    pusher = int(raw) if raw.isdigit() else None
    repo = open_incoming(git_dir())
    log = PushLog(Database(git_dir().parent / "cowiki.db"))
    for update in updates:
        if update.ref != MAIN_REF or update.is_delete:
            continue
        # main has moved already, so hide only the old tip (no other refs exist).
        commits = new_commits(repo, update.new, update.old, False)
        log.record(pusher, update.old, update.new, commits)
    return 0


HOOKS = {"pre-receive": pre_receive, "post-receive": post_receive}


def main(argv: Sequence[str]) -> int:
    """Run the hook named in argv[0] on the ref updates from stdin."""
    if len(argv) != 1 or argv[0] not in HOOKS:
        print(f"usage: python -m cowiki.hooks {'|'.join(HOOKS)}", file=sys.stderr)
        return 2
    try:
        return HOOKS[argv[0]](parse_updates(sys.stdin))
    except Exception as exc:  # fail closed, with one line instead of a traceback
        print(f"cowiki: push check failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
