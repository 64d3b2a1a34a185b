"""Which languages a page is written in, so search stems it right: Dutch, English or both.

A page is split into chunks (its lines: paragraphs, list items, table cells,
and the two sides of a `term — translation` line), each chunk is given to
lingua's detector with only Dutch and English loaded, and the chunks vote with
their words. A page is in both languages when the smaller one has at least
`BOTH_SHARE` of the words, else in the larger one. Too few words to tell (a
page that is only a title) falls back to the wiki's language.

The detector is built once per process, on first use, never per request, in
lingua's low-accuracy mode (trigram models only): with Dutch and English alone
it adds about 6 MB to a worker and loads in 0.03 s, where the high-accuracy
models add about 95 MB and 0.3 s for one page more of the 44 in
tests/wiki/test_pagelang.py (43 against 42). A page costs about 0.4 ms per
kilobyte of text.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

LANGUAGES = ("nl", "en")
BOTH_SHARE = 0.25  # the smaller language's share of words that makes a page bilingual
MIN_WORDS = 3  # fewer decided words than this: the wiki's language
MIN_CONFIDENCE = 0.6  # a chunk's vote counts only when the detector is this sure
MAX_CHARS = 20_000  # the start of a long page says enough
CHUNK_CHARS = 300  # a paragraph's start tells its language; its words all vote
_CODES = {Language.DUTCH: "nl", Language.ENGLISH: "en"}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Where a line holds a term and its translation: "klant — customer", "klant: customer".
_SIDES = re.compile(r"\s[—–=|/-]\s|:\s|\t|;\s")

_detector: LanguageDetector | None = None
_building = threading.Lock()


def detector() -> LanguageDetector:
    """This process's detector, built on first use (its models load on the first detection)."""
    global _detector
    with _building:
        if _detector is None:
            _detector = LanguageDetectorBuilder.from_languages(
                Language.DUTCH, Language.ENGLISH).with_low_accuracy_mode().build()
        return _detector


def detect_languages(text: str, fallback: str = "en") -> tuple[str, ...]:
    """The languages (`nl`, `en`) of `text`; `fallback` alone when it is too short to tell."""
    words = dict.fromkeys(LANGUAGES, 0)
    for chunk, count in _chunks(text[:MAX_CHARS]):
        language = chunk_language(chunk[:CHUNK_CHARS])
        if language is not None:
            words[language] += count
    total = sum(words.values())
    if total < MIN_WORDS:
        return (fallback if fallback in LANGUAGES else "en",)
    larger, smaller = sorted(LANGUAGES, key=lambda lang: -words[lang])
    if words[smaller] >= BOTH_SHARE * total:
        return LANGUAGES
    return (larger,)


def chunk_language(chunk: str) -> str | None:
    """`nl` or `en` for one chunk of text, or None when the detector is unsure."""
    values = detector().compute_language_confidence_values(chunk)
    best = values[0] if values else None
    if best is None or best.value < MIN_CONFIDENCE:
        return None
    return _CODES.get(best.language)


def _chunks(text: str) -> Iterator[tuple[str, int]]:
    """The pieces of `text` that are in one language each, with their word counts."""
    for line in text.split("\n"):
        for side in _SIDES.split(line):
            count = len(_WORD.findall(side))
            if count:
                yield side, count
