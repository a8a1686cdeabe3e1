"""Typo tolerance for single words: how many typos a word may carry, the distance that counts them,
and the lookup that finds the catalog words within that distance without comparing every word.

A typo is one insertion, deletion, substitution or transposition of two neighbouring letters (the
optimal string alignment distance), as Meilisearch counts them. Its defaults are the floor here:
one typo from 5 letters, two from 9. A 4-letter word may carry one typo only when it matches no
catalog word nor the start of one (``jety``, ``iocn``), so that a short real word does not pull in
its neighbours (``lake`` does not find ``like``).
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

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


def deletion_keys(word: str) -> set[str]:
    """The word and every string one deletion away from it."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def key_hash(key: str) -> int:
    """A deletion key's number in the index: the same in every process (unlike hash())."""
    return zlib.crc32(key.encode())


def one_typo_apart(left: str, right: str) -> bool:
    """Whether the words differ by exactly one typo (insertion, deletion, substitution or
    transposition of neighbours): in one pass, where typo_distance fills a matrix."""
    if left == right or abs(len(left) - len(right)) > 1:
        return False
    same = 0
    for a, b in zip(left, right, strict=False):  # up to the shorter word
        if a != b:
            break
        same += 1
    if len(left) == len(right):
        rest = same + 1
        return left[rest:] == right[rest:] or (
            left[same : same + 2] == right[same : same + 2][::-1] and left[same + 2 :] == right[same + 2 :]
        )
    longer, shorter = (left, right) if len(left) > len(right) else (right, left)
    return longer[same + 1 :] == shorter[same:]


@dataclass(frozen=True)
class DeletionIndex:
    """Every catalog word under its deletion keys (itself and each string one deletion away), as
    sorted key numbers with the word's number beside each: two words one typo apart share a key
    (a deletion, an insertion, a substitution or a transposition, each undone by one deletion on
    one side or both), so a query word's candidates are found by its own few keys, whatever the
    vocabulary's size. Flat sequences: catalog_file.py maps them with the rest of the index."""

    hashes: Sequence[int]  # key numbers (key_hash), ascending
    words: Sequence[int]  # the number of the word each key is of

    @classmethod
    def build(cls, vocabulary: Sequence[str]) -> DeletionIndex:
        hashes, words = array("I"), array("I")
        for number, word in enumerate(vocabulary):
            for key in deletion_keys(word):
                hashes.append(key_hash(key))
                words.append(number)
        keys, owners = np.frombuffer(hashes, dtype=np.uint32), np.frombuffer(words, dtype=np.uint32)
        order = np.argsort(keys, kind="stable")
        return cls(array("I", keys[order].tobytes()), array("I", owners[order].tobytes()))

    def candidates(self, word: str) -> set[int]:
        """Numbers of the catalog words that share a deletion key with the word (a superset of
        those one typo away: keys may collide, so each is checked)."""
        hashes = np.frombuffer(self.hashes, dtype=np.uint32)  # type: ignore[call-overload]
        wanted = np.array(sorted(key_hash(key) for key in deletion_keys(word)), dtype=np.uint32)
        starts, ends = np.searchsorted(hashes, wanted, "left"), np.searchsorted(hashes, wanted, "right")
        found: set[int] = set()
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            found.update(self.words[start:end])
        return found


def trigrams(word: str) -> set[str]:
    """The word's three-letter pieces, padded so that its start and end count too."""
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class TypoIndex:
    """Finds the catalog words within a typo budget of a query word: one typo through the deletion
    index (a few lookups), two typos through the search index's trigrams (a word within two typos
    of a word of 9 letters or more shares at least two of its trigrams, of 12 letters five)."""

    def __init__(
        self, vocabulary: Sequence[str], deletions: DeletionIndex, by_trigram: Mapping[str, Collection[str]]
    ) -> None:
        self._vocabulary = vocabulary  # word by number
        self._deletions = deletions
        self._by_trigram = by_trigram

    @classmethod
    def of(cls, words: Iterable[str]) -> TypoIndex:
        """An index over words alone (the search index shares its vocabulary, deletion index and
        trigrams instead)."""
        vocabulary = sorted(set(words))
        by_trigram: dict[str, set[str]] = {}
        for word in vocabulary:
            for gram in trigrams(word):
                by_trigram.setdefault(gram, set()).add(word)
        return cls(vocabulary, DeletionIndex.build(vocabulary), by_trigram)

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
        vocabulary = self._vocabulary
        found = {
            vocabulary[number]: 1
            for number in self._deletions.candidates(word)
            if one_typo_apart(word, vocabulary[number])
        }
        if budget >= 2:
            for other in self._two_typo_candidates(word) - found.keys() - {word}:
                distance = typo_distance(word, other, budget)
                if distance <= budget:
                    found[other] = distance
        return found
