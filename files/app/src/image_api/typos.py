"""Typo tolerance for single words: how many typos a word may carry, the distance that counts them,
and an index that finds the catalog words within that distance without comparing every word.

A typo is one insertion, deletion, substitution or transposition of two neighbouring letters (the
optimal string alignment distance), as Meilisearch counts them. Its defaults are the floor here:
one typo from 5 letters, two from 9. A 4-letter word may carry one typo only when it matches no
catalog word nor the start of one (``jety``, ``iocn``), so that a short real word does not pull in
its neighbours (``lake`` does not find ``like``).
"""

from __future__ import annotations

from collections.abc import Iterable

ONE_TYPO_FROM = 5
TWO_TYPOS_FROM = 9
SHORT_WORD_FALLBACK_FROM = 4


def typo_budget(word: str, matches_as_typed: bool) -> int:
    """How many typos a query word may carry (0, 1 or 2)."""
    if len(word) >= TWO_TYPOS_FROM:
        return 2
    if len(word) >= ONE_TYPO_FROM:
        return 1
    if len(word) >= SHORT_WORD_FALLBACK_FROM and not matches_as_typed:
        return 1
    return 0


def typo_distance(left: str, right: str, limit: int) -> int:
    """Optimal string alignment distance of two words, or limit + 1 when it is over the limit."""
    if abs(len(left) - len(right)) > limit:
        return limit + 1
    if left == right:
        return 0
    before: list[int] = []
    previous = list(range(len(right) + 1))
    for i, char in enumerate(left, start=1):
        current = [i] + [0] * len(right)
        for j, other in enumerate(right, start=1):
            cost = 0 if char == other else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char == right[j - 2] and left[i - 2] == other:
                best = min(best, before[j - 2] + 1)
            current[j] = best
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return min(previous[-1], limit + 1)


def deletions(word: str) -> set[str]:
    """The word with one letter left out, at every position."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def trigrams(word: str) -> set[str]:
    """The word's three-letter pieces, padded so that its start and end count too."""
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class TypoIndex:
    """Catalog words by their one-letter deletions (every word within one typo shares a key with
    the query word: a symmetric-deletion index) and by trigrams (a word within two typos of a word
    of 9 letters or more shares at least two of its trigrams, of 12 letters five). Read-only once built."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self._by_key: dict[str, set[str]] = {}
        self._by_trigram: dict[str, set[str]] = {}
        for word in vocabulary:
            if len(word) < SHORT_WORD_FALLBACK_FROM - 1:
                continue
            for key in deletions(word) | {word}:
                self._by_key.setdefault(key, set()).add(word)
            if len(word) >= TWO_TYPOS_FROM - 2:
                for gram in trigrams(word):
                    self._by_trigram.setdefault(gram, set()).add(word)

    def _one_typo_candidates(self, word: str) -> set[str]:
        found: set[str] = set()
        for key in deletions(word) | {word}:
            found |= self._by_key.get(key, set())
        return found

    def _two_typo_candidates(self, word: str) -> set[str]:
        grams = trigrams(word)
        needed = len(grams) - 4 * 2  # a typo changes at most four of the word's trigrams (a transposition)
        shared: dict[str, int] = {}
        for gram in grams:
            for other in self._by_trigram.get(gram, ()):
                shared[other] = shared.get(other, 0) + 1
        return {other for other, count in shared.items() if count >= needed}

    def near(self, word: str, budget: int) -> dict[str, int]:
        """Catalog words other than the word itself within the budget, with their typo counts."""
        if budget <= 0:
            return {}
        candidates = self._one_typo_candidates(word)
        if budget >= 2:
            candidates |= self._two_typo_candidates(word)
        found = {}
        for other in candidates - {word}:
            distance = typo_distance(word, other, budget)
            if distance <= budget:
                found[other] = distance
        return found
