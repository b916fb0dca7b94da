""" "Did you mean": the known name closest to a misspelt one, in bounded time.

A program may name thousands of events or rules, and `check` may meet as many
misspellings; comparing each with every known name is quadratic. So the known
names are indexed once (per set of names, cached): every name and every way of
deleting one of its characters. A word one edit away from a name (a character
added, missing or changed, or two neighbours swapped: `dya` -> `day`) shares an
entry with it, so it is found by a few dictionary look-ups. Looser resemblances
(difflib's ratio, as before) are looked for only among a few names.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import lru_cache

SCAN_LIMIT = 50  # at most this many names are compared one by one for a loose resemblance
_LOOSE_CUTOFF = 0.75
_SHORTEST = 3  # a word of one or two characters is one edit away from too much


class NameIndex:
    """Known names, indexed by their one-character deletions."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(dict.fromkeys(names))
        self._known = frozenset(self.names)
        self._folded: dict[str, str] = {}  # casefolded -> the first name that folds to it
        self._deletions: dict[str, list[str]] = {}
        for name in self.names:
            self._folded.setdefault(name.casefold(), name)
            for key in _deletions(name):
                self._deletions.setdefault(key, []).append(name)

    def closest(self, word: str) -> str | None:
        if word in self._known:
            return word
        same_but_case = self._folded.get(word.casefold())
        if same_but_case is not None:
            return same_but_case
        if len(word) >= _SHORTEST:
            near = {n for key in _deletions(word) for n in self._deletions.get(key, ()) if _one_edit(word, n)}
            if near:
                return max(sorted(near), key=lambda n: difflib.SequenceMatcher(None, word, n).ratio())
        if len(self.names) <= SCAN_LIMIT:
            loose = difflib.get_close_matches(word, self.names, n=1, cutoff=_LOOSE_CUTOFF)
            return loose[0] if loose else None
        return None


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The known name `word` most likely misspells, or None when none is close."""
    return _index(tuple(choices)).closest(word)


@lru_cache(maxsize=32)
def _index(names: tuple[str, ...]) -> NameIndex:
    return NameIndex(names)


def _deletions(word: str) -> set[str]:
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


def _one_edit(a: str, b: str) -> bool:
    """True when `a` and `b` differ by exactly one insertion, deletion, substitution or swap of neighbours."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    if a[i + 1 :] == b[i + 1 :]:
        return True  # one character changed
    return i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
