"""libgit2's object cache, sized so that a large folder's tree is parsed once, not per read.

libgit2 keeps no tree over 4 KB in its cache by default, so every read of a
large folder (the top level of a 10,000-page wiki is about 400 KB) inflated,
checked and parsed it again: milliseconds per page view and per save, growing
with the folder. Trees up to TREE_LIMIT stay cached, in at most CACHE_BYTES per
repository handle (one per thread).
"""

from __future__ import annotations

import pygit2

TREE_LIMIT = 4 * 1024 * 1024
CACHE_BYTES = 32 * 1024 * 1024


def cache_large_trees() -> None:
    """Set the process-wide cache limits (idempotent; cheap)."""
    pygit2.settings.cache_object_limit(pygit2.enums.ObjectType.TREE, TREE_LIMIT)
    pygit2.settings.cache_max_size(CACHE_BYTES)
