"""A commit object's bytes, as libgit2's `git_commit_create` writes them.

pygit2's `create_commit` looks the tree up first, which reads and parses it: at
10,000 pages in one folder that is 2 ms of a save, for a tree the save has just
written. The object is a few lines of text (tests/storage/test_tree_splice.py
compares it with `create_commit_string`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pygit2


def commit_object(tree: pygit2.Oid, parents: Sequence[str], author: pygit2.Signature,
                  committer: pygit2.Signature, message: str) -> bytes:
    """The bytes of a commit of `tree` on `parents` (hex ids), with UTF-8 `message`."""
    lines = [b"tree %s\n" % str(tree).encode()]
    lines += [b"parent %s\n" % str(pygit2.Oid(hex=parent)).encode() for parent in parents]
    lines += [_signature(b"author", author), _signature(b"committer", committer), b"\n",
              message.encode("utf-8")]
    return b"".join(lines)


def _signature(header: bytes, person: pygit2.Signature) -> bytes:
    """`author Name <email> 1733390000 +0100`: the name and email as pygit2 checked them."""
    sign = b"-" if person.offset < 0 else b"+"
    hours, minutes = divmod(abs(person.offset), 60)
    return b"%s %s <%s> %d %s%02d%02d\n" % (header, person.raw_name, person.raw_email,
                                            person.time, sign, hours, minutes)
