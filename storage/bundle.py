"""Every ref and object of the repository in one file (`git bundle`), taken while saves go on.

`git bundle create --all` reads the refs twice: once to walk the history,
and again while writing the bundle's list of refs. A ref that moved in
between (a save landing on `main`) is silently left out of that list, so
the bundle would restore without `main` (tests/test_backup.py caught it).
So the bundle is made from a snapshot instead: the refs are read once into
a scratch repository that borrows the objects (`objects/info/alternates`),
and nothing moves there while git bundles it.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from storage.errors import StorageError
from storage.gitcmd import run_git
from storage.repository import MAIN_REF

BUNDLE_TIMEOUT = 3600.0


class BundleIncomplete(StorageError):
    """The bundle git wrote does not list the refs it was asked to hold."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"the bundle lacks {', '.join(missing[:5])}")


@dataclass(frozen=True)
class BundleRefs:
    """The refs a bundle holds: ref name -> hex id (HEAD left out)."""

    refs: dict[str, str]

    @property
    def head(self) -> str | None:
        """Where `refs/heads/main` points in the bundle."""
        return self.refs.get(MAIN_REF)


def read_refs(repo_path: str | os.PathLike[str]) -> dict[str, str]:
    """Every ref of the repository as it is now: ref name -> hex id."""
    out = run_git("for-each-ref", "--format=%(objectname) %(refname)", git_dir=repo_path).text
    return {ref: oid for oid, _, ref in (line.partition(" ") for line in out.splitlines())}


def create_bundle(repo_path: str | os.PathLike[str], target: Path) -> BundleRefs:
    """Write every ref of the repository, as of one moment, and all they reach into `target`."""
    objects = Path(repo_path).absolute() / "objects"
    refs = read_refs(repo_path)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".cowiki-bundle-") as tmp:
        snapshot = Path(tmp) / "snapshot.git"
        run_git("init", "--quiet", "--bare", "--initial-branch=main", str(snapshot))
        (snapshot / "objects" / "info" / "alternates").write_text(f"{objects}\n")
        commands = "".join(f"create {ref} {oid}\n" for ref, oid in refs.items())
        run_git("update-ref", "--stdin", git_dir=snapshot, input=commands.encode())
        # `bundle create` takes the file before its rev-list options; `--all` names no user data.
        run_git("bundle", "create", "--quiet", str(target.absolute()), "--all",
                git_dir=snapshot, timeout=BUNDLE_TIMEOUT)
    written = bundle_refs(target)
    missing = sorted(set(refs) - set(written.refs))
    if missing:
        raise BundleIncomplete(missing)
    return written


def bundle_refs(bundle: Path) -> BundleRefs:
    """The refs listed in a bundle file."""
    out = run_git("bundle", "list-heads", str(bundle.absolute())).text
    pairs = (line.partition(" ") for line in out.splitlines())
    return BundleRefs({ref: oid for oid, _, ref in pairs if ref.startswith("refs/")})


def fetch_bundle(repo_path: str | os.PathLike[str], bundle: Path) -> None:
    """Check `bundle` and copy every ref and object in it into the repository at `repo_path`.

    Raises GitFailed (with git's reason) when the bundle is damaged or incomplete.
    """
    source = str(bundle.absolute())
    run_git("bundle", "verify", "--quiet", source, git_dir=repo_path, timeout=BUNDLE_TIMEOUT)
    # No background `gc --auto` here: the repository is moved into place right after.
    run_git("fetch", "--quiet", "--no-write-fetch-head", "--no-auto-maintenance", source,
            "+refs/*:refs/*", git_dir=repo_path, timeout=BUNDLE_TIMEOUT)
