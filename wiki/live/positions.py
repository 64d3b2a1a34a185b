"""Text positions in the three units the live editor meets, and Yjs deltas as Steps.

- Python counts code points (`str` indexes); the wiki's Steps use them.
- The browser (Yjs, CodeMirror) counts UTF-16 code units: an emoji such as 👍 is 2.
- pycrdt 0.14 (checked with 0.14.13, tests/wiki/test_live_positions.py) counts UTF-8
  bytes: `len(text)`, `text.insert(i, s)`, `del text[i:j]` and `TextEvent.delta`
  (retain/delete) are in bytes, so "ë" is 2, "中" 3, "👍🏽" 8. Only `text[i:j]` slices
  the Python string by code points. An offset inside a character is not refused:
  insert then appends at the very end and del removes everything from that
  character on, so every position sent to pycrdt must come from `cp_to_utf8`.

The conversions refuse an offset inside a character (ValueError) rather than round it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from wiki.live.folding import Step

__all__ = ["UNITS", "cp_to_utf8", "cp_to_utf16", "delta_steps", "event_delta", "utf8_to_cp",
           "utf16_to_cp"]

UNITS = ("utf8", "utf16", "cp")
# Code points count as UTF-32 units, so one routine counts all three.
_CODECS = {"utf8": ("utf-8", 1), "utf16": ("utf-16-le", 2), "cp": ("utf-32-le", 4)}


def _count(encoded: bytes, codec: str, width: int, offset: int, units: int) -> int:
    """Code points in `units` units of `encoded` from unit `offset`; ValueError mid-character."""
    if units < 0 or offset * width + units * width > len(encoded):
        raise ValueError(f"{units} units from {offset} run past the text")
    try:
        return len(encoded[offset * width:(offset + units) * width].decode(codec))
    except UnicodeDecodeError as error:
        raise ValueError(f"offset {offset + units} lies inside a character") from error


def utf8_to_cp(text: str, offset: int) -> int:
    """The code-point index of UTF-8 byte `offset` in `text`."""
    return _count(text.encode("utf-8"), "utf-8", 1, 0, offset)


def cp_to_utf8(text: str, index: int) -> int:
    """The UTF-8 byte offset of code point `index` in `text`."""
    if not 0 <= index <= len(text):
        raise ValueError(f"index {index} outside a text of {len(text)}")
    return len(text[:index].encode("utf-8"))


def utf16_to_cp(text: str, offset: int) -> int:
    """The code-point index of UTF-16 code unit `offset` in `text`."""
    return _count(text.encode("utf-16-le"), "utf-16-le", 2, 0, offset)


def cp_to_utf16(text: str, index: int) -> int:
    """The UTF-16 code-unit offset of code point `index` in `text`."""
    if not 0 <= index <= len(text):
        raise ValueError(f"index {index} outside a text of {len(text)}")
    return len(text[:index].encode("utf-16-le")) // 2


def event_delta(event: object) -> list[Mapping[str, object]]:
    """The delta of a pycrdt TextEvent, typed (pycrdt sets it through __slots__ mypy cannot see)."""
    delta = getattr(event, "delta", None)
    if not isinstance(delta, list) or not all(isinstance(op, Mapping) for op in delta):
        raise ValueError("not a text event")
    return delta


def delta_steps(before: str, delta: Sequence[Mapping[str, object]], author: int,
                unit: str) -> list[Step]:
    """A Yjs text delta turned into Steps in code points, each relative to the text just before it.

    The delta ({"retain": n} / {"delete": n} / {"insert": s}) counts in `unit`
    ("utf8", "utf16" or "cp") through `before`, the text it applies to. A delete next
    to an insert becomes one Step that replaces the span.

    Raises:
        ValueError: an unknown unit or operation, a count past the text or inside a character.
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}")
    codec, width = _CODECS[unit]
    encoded = before.encode(codec)
    steps: list[Step] = []
    old = 0                      # position in `before`, in `unit`
    start, gone, put = 0, 0, ""  # the replacement being gathered, code points of the current text
    for op in delta:
        if "insert" in op:
            text = op["insert"]
            if not isinstance(text, str):
                raise ValueError("only text can be inserted")
            put += text
            continue
        count = op.get("retain", op.get("delete"))
        if not isinstance(count, int) or isinstance(count, bool):
            raise ValueError(f"not a delta operation: {dict(op)!r}")
        points = _count(encoded, codec, width, old, count)
        old += count
        if "retain" in op:
            if gone or put:
                steps.append(Step(author, start, start + gone, put))
            start, gone, put = start + len(put) + points, 0, ""
        else:
            gone += points
    if gone or put:
        steps.append(Step(author, start, start + gone, put))
    return steps
