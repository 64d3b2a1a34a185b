"""Edit distance for fuzzy terms and 'did you mean': plain Python, no index access.

Whoosh's fuzzy automaton counts a swap of two neighbouring letters as two
edits, so "klnat~" would not find "klant"; this distance counts it as one
(optimal string alignment), as people expect of a typo.
"""

from __future__ import annotations

from collections.abc import Iterable


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance where swapping two neighbouring letters is one edit."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def near(words: Iterable[str], candidates: Iterable[str], maxdist: int) -> dict[str, int]:
    """Each candidate within `maxdist` edits of any of `words`, with its distance."""
    targets = [w for w in set(words) if w]
    found: dict[str, int] = {}
    for candidate in candidates:
        best = maxdist + 1
        for word in targets:
            if abs(len(word) - len(candidate)) <= maxdist:
                best = min(best, edit_distance(word, candidate))
        if best <= maxdist:
            found[candidate] = best
    return found
