"""Typographic punctuation for running text: curly quotes, apostrophes, dashes, ellipses.

Applied only to text outside code. Dutch elisions ('s, 't, 'n, auto's) get
the right single quote, which is also the apostrophe.
"""

from __future__ import annotations

import re

_ELLIPSIS = re.compile(r"\.\.\.")
_DASH = re.compile(r"(?<=\s)--?(?=\s)|(?<=\d)--(?=\d)")
_EM_DASH = re.compile(r"(?<!-)---(?!-)")
_ELISION = re.compile(r"'(?=(s|t|n)\b)")
OPENERS = " \t\n\u00a0([{\u2014\u2013/"


def smarten(text: str, before: str = " ") -> str:
    """Typographic version of `text`; `before` is the character that preceded it.

    Args:
        text: a run of plain text (no markup).
        before: the last character of the text before this run, for quote direction.
    """
    text = _EM_DASH.sub("\u2014", text)
    text = _DASH.sub("\u2013", text)
    text = _ELLIPSIS.sub("\u2026", text)
    text = _ELISION.sub("\u2019", text)
    out = []
    previous = before or " "
    for char in text:
        if char == '"':
            char = "\u201c" if previous in OPENERS else "\u201d"
        elif char == "'":
            char = "\u2018" if previous in OPENERS else "\u2019"
        out.append(char)
        previous = char
    return "".join(out)
