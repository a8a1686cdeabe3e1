from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from image_api.typos import DeletionIndex, TypoIndex, one_typo_apart, typo_budget, typo_distance

LETTERS = st.text(alphabet="abcdefghij", min_size=0, max_size=10)


def reference_distance(left: str, right: str) -> int:
    """Optimal string alignment distance, the textbook full-matrix way."""
    rows, cols = len(left) + 1, len(right) + 1
    d = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        d[i][0] = i
    for j in range(cols):
        d[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            cost = 0 if left[i - 1] == right[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and left[i - 1] == right[j - 2] and left[i - 2] == right[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


@settings(max_examples=400, deadline=None)
@given(LETTERS, LETTERS, st.integers(min_value=0, max_value=3))
def test_the_bounded_distance_agrees_with_the_full_matrix(left, right, limit):
    assert typo_distance(left, right, limit) == min(reference_distance(left, right), limit + 1)


def test_each_kind_of_typo_counts_once():
    assert typo_distance("coffee", "cofee", 2) == 1  # deletion
    assert typo_distance("coffee", "cofffee", 2) == 1  # insertion
    assert typo_distance("coffee", "coffei", 2) == 1  # substitution
    assert typo_distance("icon", "iocn", 2) == 1  # transposition
    assert typo_distance("astronaut", "astrnuat", 2) == 2


def test_the_budget_follows_meilisearchs_defaults_and_lets_short_unknown_words_carry_one():
    assert [typo_budget(w, True) for w in ("cat", "lake", "cofee", "sunsets", "astronaut")] == [0, 0, 1, 1, 2]
    assert typo_budget("jety", matches_as_typed=False) == 1
    assert typo_budget("cat", matches_as_typed=False) == 0


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(alphabet="abcdefgh", min_size=3, max_size=12), min_size=1, max_size=40, unique=True),
    st.text(alphabet="abcdefgh", min_size=4, max_size=12),
)
def test_the_index_finds_exactly_the_words_a_full_scan_finds(vocabulary, word):
    """No candidate lost by the deletion keys or the trigram filter, none over the budget."""
    budget = typo_budget(word, matches_as_typed=False)
    expected = {w: d for w in vocabulary if w != word and (d := reference_distance(word, w)) <= budget}
    assert TypoIndex.of(vocabulary).near(word, budget) == expected


def edited(word: str, kind: int, position: int) -> str:
    position %= len(word) - 1
    if kind == 0:  # deletion
        return word[:position] + word[position + 1 :]
    if kind == 1:  # insertion
        return word[:position] + "z" + word[position:]
    if kind == 2:  # substitution
        return word[:position] + "z" + word[position + 1 :]
    return word[:position] + word[position + 1] + word[position] + word[position + 2 :]  # transposition


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="abcdefgh", min_size=9, max_size=14),
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 20)), min_size=1, max_size=2),
)
def test_a_long_word_with_two_typos_finds_the_catalog_word(word, edits):
    typed = word
    for kind, position in edits:
        typed = edited(typed, kind, position)
    budget = typo_budget(typed, matches_as_typed=True)
    found = TypoIndex.of([word, "unrelated", "abcdefghabcdefgh"]).near(typed, budget)
    distance = reference_distance(typed, word)  # two edits at one place may count as three (OSA)
    if typed != word and len(typed) >= 9 and distance <= 2:
        assert found.get(word) == distance


@settings(max_examples=400, deadline=None)
@given(LETTERS, LETTERS)
def test_one_typo_apart_is_a_distance_of_exactly_one(left, right):
    assert one_typo_apart(left, right) == (reference_distance(left, right) == 1)


def test_the_deletion_index_finds_words_by_their_keys_whatever_the_vocabulary():
    vocabulary = sorted({"coffee", "toffee", "cofee", "office", "icon", "coffees", *(f"w{n:05d}" for n in range(5000))})
    index = DeletionIndex.build(vocabulary)
    found = {vocabulary[number] for number in index.candidates("coffee")}
    assert {"coffee", "toffee", "cofee", "coffees"} <= found and "icon" not in found and len(found) < 10
