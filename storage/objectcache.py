"""libgit2's memory: a large folder's tree parsed once, not per read; pack mappings bounded.

libgit2 keeps no tree over 4 KB in its cache by default, so every read of a
large folder (the top level of a 10,000-page wiki is about 400 KB) inflated,
checked and parsed it again: milliseconds per page view and per save, growing
with the folder. Trees up to TREE_LIMIT stay cached, in at most CACHE_BYTES per
repository handle (one per thread).

libgit2 maps pack files into memory in windows of 1 GB, up to 8 GB, and every
page of the pack a read touches stays resident: a worker serving views of
random pages of a 50,000-commit wiki would grow towards the size of its pack
(hundreds of MB). Smaller windows under a cap keep a worker's share of the
pack bounded; libgit2 unmaps the least recently used window beyond it.
"""

from __future__ import annotations

import pygit2

TREE_LIMIT = 4 * 1024 * 1024
CACHE_BYTES = 32 * 1024 * 1024
PACK_WINDOW_BYTES = 8 * 1024 * 1024
PACK_MAPPED_BYTES = 64 * 1024 * 1024


def cache_large_trees() -> None:
    """Set the process-wide cache and pack-window limits (idempotent; cheap)."""
    settings = pygit2.settings
    settings.cache_object_limit(pygit2.enums.ObjectType.TREE, TREE_LIMIT)
    settings.cache_max_size(CACHE_BYTES)
    if settings.mwindow_size != PACK_WINDOW_BYTES:
        settings.mwindow_size = PACK_WINDOW_BYTES
        settings.mwindow_mapped_limit = PACK_MAPPED_BYTES
