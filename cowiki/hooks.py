"""`python -m cowiki.hooks pre-receive|proc-receive|post-receive`: git's push hooks.

git runs these (see wiki/githooks.py) inside the bare repository with the
ref updates on stdin. pre-receive refuses a push that breaks the wiki's
rules; everything it prints reaches the git client as "remote: ..." lines.
proc-receive (only for pushes over the web, which configure
`receive.procReceiveRefs`) lands a push to refs/for/main: fast-forward or
merge (wiki/pushmerge.py), speaking git's pkt-line protocol on stdout.
post-receive records who pushed the new commits. The web view passes the
pusher and the size limits in COWIKI_* variables; a push on the server's
own file system gets the configured defaults and no pusher.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from storage.incoming import ZERO, RefUpdate, new_commits, open_incoming, parse_updates
from storage.procreceive import Outcome, negotiate, report
from storage.repository import MAIN_REF, Person, Repository
from wiki.accounts import Accounts, User
from wiki.config import Settings
from wiki.db import Database, open_database
from wiki.phases import is_frozen
from wiki.push import PUSH_MERGE_REF, PushLimits, PushPolicy, PushRefused, check_push
from wiki.pushlog import PushLog
from wiki.pushmerge import land_push

PUSHER_ENV = "COWIKI_PUSHER_ID"
# Set by wiki/git_backend.py next to receive.procReceiveRefs: pushes to refs/for/main merge.
MERGING_ENV = "COWIKI_MERGE_PUSHES"


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
        check_push(repo, updates, limits, repo.main(), pusher_policy(),
                   merging=os.environ.get(MERGING_ENV) == "1")
    except PushRefused as refused:
        print_refusal(refused)
        return 1
    return 0


def print_refusal(refused: PushRefused) -> None:
    """The problems, one "remote:" line each."""
    print("cowiki refused this push:", file=sys.stderr)
    for problem in refused.problems:
        print(f"  {problem}", file=sys.stderr)


def pushing_account() -> tuple[Database, User | None]:
    """The database and the pushing account (None: a push on the server's file system)."""
    raw = os.environ.get(PUSHER_ENV, "")
    db = open_database(Settings.load({"data_dir": str(git_dir().parent)}))
    return db, Accounts(db).get(int(raw)) if raw.isdigit() else None


def pusher_policy() -> PushPolicy:
    """The pushing account's rights; a push without one (on the server) may do anything."""
    db, user = pushing_account()
    if user is None or user.can("facilitator"):
        return PushPolicy()

    def frozen(path: str) -> str | None:
        scope = is_frozen(db, path)
        if scope is None:
            return None
        where = "the whole wiki" if scope.whole_wiki else scope.scope
        return f"{where} is frozen by a facilitator; only facilitators may change it now"

    return PushPolicy(edit_outline=False, frozen=frozen)


def proc_receive() -> int:
    """Land each push to refs/for/main and report to receive-pack on stdout."""
    updates = negotiate(sys.stdin.buffer, sys.stdout.buffer)
    report(sys.stdout.buffer, [land(update) for update in updates])
    return 0


def land(update: RefUpdate) -> Outcome:
    """Fast-forward or merge one push; a refusal is printed and reported as `ng`."""
    if update.ref != PUSH_MERGE_REF or update.is_delete:
        return Outcome(update.ref, error=f"only {PUSH_MERGE_REF} is merged")
    settings = Settings.load({"data_dir": str(git_dir().parent)})
    server = Person(settings.committer_name, settings.committer_email)
    account = pushing_account()[1]
    repo = Repository(git_dir(), server)
    try:
        landed = land_push(repo, update.new, account.person if account else server,
                           settings.max_page_bytes)
    except PushRefused as refused:
        print_refusal(refused)
        return Outcome(update.ref, error="cowiki could not merge it; main is unchanged")
    if not landed.merged:  # main is at the pushed commit: the client's origin/main may follow
        return Outcome(update.ref, refname=MAIN_REF, old=landed.old or ZERO, new=landed.new)
    print(f"cowiki merged your push with newer changes on the wiki as {landed.new[:10]};"
          " git pull to get it", file=sys.stderr)
    # No refname: the client does not have the merge commit, so its origin/main stays.
    return Outcome(update.ref, old=landed.old, new=landed.new)


def post_receive(updates: Sequence[RefUpdate]) -> int:
    """Record the pusher of every commit the push brought to main."""
    raw = os.environ.get(PUSHER_ENV, "")
    pusher = int(raw) if raw.isdigit() else None
    repo = open_incoming(git_dir())
    log = PushLog(open_database(Settings.load({"data_dir": str(git_dir().parent)})))
    for update in updates:
        # A merged push arrives as refs/for/main (see land), with main's old and new value.
        if update.ref not in (MAIN_REF, PUSH_MERGE_REF) or update.is_delete \
                or update.old == update.new:  # a push of commits main already had
            continue
        # main has moved already, so hide only the old tip (no other refs exist).
        commits = new_commits(repo, update.new, update.old, False)
        log.record(pusher, update.old, update.new, commits)
    return 0


HOOKS = {"pre-receive": pre_receive, "post-receive": post_receive}


def main(argv: Sequence[str]) -> int:
    """Run the hook named in argv[0] on the ref updates from stdin."""
    names = [*HOOKS, "proc-receive"]
    if len(argv) != 1 or argv[0] not in names:
        print(f"usage: python -m cowiki.hooks {'|'.join(names)}", file=sys.stderr)
        return 2
    try:
        if argv[0] == "proc-receive":
            return proc_receive()
        return HOOKS[argv[0]](parse_updates(sys.stdin))
    except Exception as exc:  # fail closed, with one line instead of a traceback
        print(f"cowiki: push check failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
