"""A draft restored while its page is edited live: its own changes join the shared text.

An autosaved draft is a whole text made from one revision. Putting it in place of
the live text would remove whatever others typed since, so the draft goes in as
what it changed: a three-way merge of (the draft's revision, the live text, the
draft), the same merge that brings outside changes into a room
(`wiki.live.outside`). The browser applies the answer as edits to the shared
document, mapped over whatever was typed while it waited.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.merge import merge_texts
from wiki.accounts import User
from wiki.drafts import Drafts
from wiki.errors import N_, InvalidInput, PageNotFound
from wiki.live.outside import merge_spans
from wiki.live.positions import cp_to_utf16
from wiki.live.rooms import edits
from wiki.pages import PageStore


@dataclass(frozen=True)
class DraftMerge:
    """The live text with the draft's changes in, and those changes as edits.

    Attributes:
        markdown: the merged text.
        changes: (from, to, insert) replacements of the live text that was sent, in
            UTF-16 code units (as the browser counts), in order and not overlapping.
        overlapped: where the draft and the live text changed the same words, both
            versions were kept, the live one first.
    """

    markdown: str
    changes: tuple[tuple[int, int, str], ...]
    overlapped: bool


def merge_draft(pages: PageStore, drafts: Drafts, page: str, user: User,
                live: object) -> DraftMerge:
    """`user`'s draft of `page` merged into `live`, the text the room has now."""
    if not isinstance(live, str):
        raise InvalidInput(N_("'{key}' must be a string"), key="markdown")
    pages.check_size(live)
    draft = drafts.get(page, user)
    if draft is None:
        raise PageNotFound(N_("your draft of “{name}”"), name=page)
    base = pages.text_at(draft.page, draft.base_revision) if draft.base_revision else None
    merged, overlapped = _merged(base or "", live, draft.markdown)
    pages.check_size(merged)
    changes = tuple((cp_to_utf16(live, start), cp_to_utf16(live, end), text)
                    for start, end, text in edits(live, merged))
    return DraftMerge(merged, changes, overlapped)


def _merged(base: str, live: str, draft: str) -> tuple[str, bool]:
    """`merged_live_text`'s answer, and whether it had to keep both versions somewhere."""
    result = merge_texts(base, live, draft)
    if result.clean:
        return result.text, False
    spans = merge_spans(base, live, draft)
    if spans is not None:
        return spans, False
    return result.resolve(["both"] * len(result.conflicts)), True
