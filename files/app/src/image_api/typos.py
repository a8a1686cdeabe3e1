"""Typo tolerance for single words: how many typos a word may carry, the distance that counts them,
and the lookup that finds the catalog words within that distance without comparing every word.

A typo is one insertion, deletion, substitution or transposition of two neighbouring letters (the
optimal string alignment distance), as Meilisearch counts them. Its defaults are the floor here:
one typo from 5 letters, two from 9. A 4-letter word may carry one typo only when it matches no
catalog word nor the start of one (``jety``, ``iocn``), so that a short real word does not pull in
its neighbours (``lake`` does not find ``like``).
"""

from __future__ import annotations

from collections.abc import Collection, Container, Iterable, Mapping

ONE_TYPO_FROM = 5
TWO_TYPOS_FROM = 9
SHORT_WORD_FALLBACK_FROM = 4
TOKEN_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789"


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


def one_edit_variants(word: str) -> set[str]:
    """Every string one typo away from the word (letters and digits, as search tokens are)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deleted = {left + right[1:] for left, right in splits if right}
    swapped = {left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1}
    replaced = {left + char + right[1:] for left, right in splits if right for char in TOKEN_CHARACTERS}
    inserted = {left + char + right for left, right in splits for char in TOKEN_CHARACTERS}
    return (deleted | swapped | replaced | inserted) - {word}


def trigrams(word: str) -> set[str]:
    """The word's three-letter pieces, padded so that its start and end count too."""
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class TypoIndex:
    """Finds the catalog words within a typo budget of a query word, with no index of its own:
    one typo by looking up each of the query word's one-edit variants in the vocabulary (a few
    hundred lookups), two typos through the search index's trigrams (a word within two typos of a
    word of 9 letters or more shares at least two of its trigrams, of 12 letters five)."""

    def __init__(self, vocabulary: Container[str], by_trigram: Mapping[str, Collection[str]]) -> None:
        self._vocabulary = vocabulary
        self._by_trigram = by_trigram

    @classmethod
    def of(cls, words: Iterable[str]) -> TypoIndex:
        """An index over words alone (the search index shares its vocabulary and trigrams instead)."""
        vocabulary = set(words)
        by_trigram: dict[str, set[str]] = {}
        for word in vocabulary:
            for gram in trigrams(word):
                by_trigram.setdefault(gram, set()).add(word)
        return cls(vocabulary, by_trigram)

    def _two_typo_candidates(self, word: str) -> set[str]:
        grams = trigrams(word)
        needed = len(grams) - 4 * 2  # a typo changes at most four of the word's trigrams (a transposition)
        shared: dict[str, int] = {}
        for gram in grams:
            for other in self._by_trigram.get(gram, ()):
                if abs(len(other) - len(word)) <= 2:
                    shared[other] = shared.get(other, 0) + 1
        return {other for other, count in shared.items() if count >= needed}

    def near(self, word: str, budget: int) -> dict[str, int]:
        """Catalog words other than the word itself within the budget, with their typo counts."""
        if budget <= 0:
            return {}
        found = {variant: 1 for variant in one_edit_variants(word) if variant in self._vocabulary}
        if budget >= 2:
            for other in self._two_typo_candidates(word) - found.keys() - {word}:
                distance = typo_distance(word, other, budget)
                if distance <= budget:
                    found[other] = distance
        return found
