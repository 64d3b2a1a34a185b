"""Dutch word forms to one index term: a dictionary lemma first, then the Snowball stem.

Snowball alone leaves werkte/werken, subsidie/subsidies, coöperatie/coöperaties,
groeit/groeien and klantreis/klantreizen apart: it knows suffixes, not
irregular past tenses, plural -s after a vowel, or the z/s and v/f that
alternate at the end of a stem. So each word is first lemmatised with
simplemma's Dutch dictionary (werkte → werken, liep → lopen, huisje → huis),
then stemmed, and the stem's last letter is folded where Dutch spelling
alternates (reiz → reis, briev → brief). Words the dictionary does not know
(new compounds) still get the Snowball stem and the folding.

Measured on tests/wiki/dutch_inflections.tsv (see tests/wiki/test_search_dutch.py).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import simplemma
from whoosh.lang.snowball.dutch import DutchStemmer

LEMMA_CACHE = 200_000
_SNOWBALL = DutchStemmer()
_FOLD_LAST = {"z": "s", "v": "f"}
_VOWELS = frozenset("aeiouy")
_INFINITIVE = ("en", "aan")


@lru_cache(maxsize=LEMMA_CACHE)
def lemma(word: str) -> str:
    """The dictionary form of a lower-case Dutch word, or the word when it is unknown.

    A longer "lemma" is taken only when it is an infinitive (werkte → werken,
    liep → lopen): for nouns the dictionary sometimes answers a different word
    (duif → duiver, kat → kater, wolf → wolvin).
    """
    found = simplemma.lemmatize(word, lang="nl").lower()
    if found == word and word != (plain := _plain(word)):
        found = simplemma.lemmatize(plain, lang="nl").lower()  # geïnvesteerd
    if len(found) > len(word) and not found.endswith(_INFINITIVE):
        return word
    return str(found)


def root(word: str) -> str:
    """The index term of a lower-case Dutch word (lemma, Snowball stem, folded ending)."""
    stem: str = _SNOWBALL.stem(lemma(word))
    if stem.endswith("ies"):  # subsidies, categories: Snowball keeps -s after a vowel
        stem = stem[:-1]
    if len(stem) > 5 and stem.endswith("um"):  # museum/musea, centrum/centra
        stem = stem[:-2]
    elif len(stem) > 4 and stem.endswith("a"):
        stem = stem[:-1]
    if len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in _VOWELS:
        stem = stem[:-1]  # stapp, plann, vall: the doubled consonant of a short vowel
    if len(stem) > 3 and stem[-1] in _FOLD_LAST:
        stem = stem[:-1] + _FOLD_LAST[stem[-1]]
    return stem


def _plain(word: str) -> str:
    """The word without diaereses and accents (coöperatie → cooperatie)."""
    return "".join(c for c in unicodedata.normalize("NFD", word)
                   if not unicodedata.combining(c))
