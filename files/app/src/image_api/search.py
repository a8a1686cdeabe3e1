"""In-memory search over catalog entries: ranked word, prefix and typo matches.

Every query word is matched on its own: as typed (full weight), the last one also as the start
of longer catalog words (two letters or more; half weight: it is being typed) and, within its typo
budget (one typo from 5 letters, two from 9; see typos.py), as catalog words that differ by that
many typos (0.6 of the weight for one, 0.4 for two). Weights come from where a word is found
(tags 3, title 2, id and path 1, the palette's colour names 0.5).

Ranking, as a hosted engine's: entries matching every query word come first (when none does, those
matching most words); then fewer typos; then the summed weights; then the id. A query whose words
match only through typos is flagged ``fuzzy`` with the corrected query as the suggestion. When no
word matches at all, each is replaced by the closest catalog word by trigram similarity (a last
resort past the typo budget) and the search is run again, flagged the same way.

The index works on ordinals (an entry's place by id, columns.py) and keeps each word's postings as
arrays of them, grouped by weight, so a million entries fit in a few hundred MB; ids and entries
are looked up only for the page an answer shows. The common groups are bitmaps too (bitmaps.py):
a query of several words intersects and ranks them a slice at a time, and one word takes the start
of its postings, which are in rank order.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import itertools
import math
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .bitmaps import CommonBitmaps, bits_of, bits_of_mask, count, first_ordinals, row_bytes
from .catalog_schema import text_tokens
from .columns import EMPTY, CatalogColumns, EntryRecords, Groups
from .typos import DeletionIndex, TypoIndex, trigrams, typo_budget

# Colour names (the palette's, named at publish) count low: "blue car" ranks a blue car tagged
# blue above one that merely is blue, and the colour= filter is the strict form.
FIELD_WEIGHTS = (("tags", 3.0), ("title", 2.0), ("image_id", 1.0), ("colours", 0.5))
SINGLE_VALUED = ("format", "orientation")  # facets with one value an entry (the others are lists)
WEIGHT_LEVELS = tuple(sorted({weight for _, weight in FIELD_WEIGHTS}, reverse=True))
FIELD_LEVELS = tuple((name, WEIGHT_LEVELS.index(weight)) for name, weight in FIELD_WEIGHTS)  # by falling weight
FACET_VALUES = 20  # values per facet in an answer, most frequent first
PREFIX_FACTOR = 0.5
TYPO_FACTORS = {1: 0.6, 2: 0.4}
MIN_PREFIX = 2
MIN_SIMILARITY = 0.3
# The most (word match kind) combinations a query's bitmaps are ranked by; past it, by arrays.
MAX_COMBINATIONS = 256
SLICE_BYTES = 8192  # of a bitmap row (65,536 entries), ranked at a time


def similarity(left: str, right: str) -> float:
    """Jaccard similarity of the two words' trigram sets (1.0 for equal words)."""
    a, b = trigrams(left), trigrams(right)
    return len(a & b) / len(a | b)


@dataclass(frozen=True)
class Postings:
    """The entries a catalog word is found in: their ordinals grouped by the word's weight in them
    (highest first), each group sorted, so the word's list is in rank order and each group
    bisectable. ordinals is the index's shared sequence; groups say where this word's are."""

    ordinals: Sequence[int]
    groups: tuple[tuple[float, int, int], ...]  # (weight, start, end) in ordinals
    keys: tuple[int, ...] = ()  # each group's key in the index's postings (for its bitmap)

    def __len__(self) -> int:
        return sum(end - start for _, start, end in self.groups)

    def ranked(self) -> Iterator[tuple[float, int]]:
        """(weight, ordinal), highest weight first, then by ordinal (by id)."""
        for weight, start, end in self.groups:
            for place in range(start, end):
                yield weight, self.ordinals[place]


@dataclass(frozen=True)
class Source:
    """A catalog word that a query word matches: at what factor its weights count, with how many
    typos, and its postings."""

    word: str
    factor: float
    postings: Postings = field(compare=False, repr=False)
    typos: int = 0


@dataclass
class SearchResult:
    ids: list[str]  # ranked image ids of this page
    total: int  # matches before paging
    fuzzy: bool = False
    suggestion: str = ""
    matched_all_words: bool = True
    facets: dict[str, dict[str, int]] = field(default_factory=dict)  # facet -> value -> matches
    ordinals: list[int] = field(default_factory=list)  # the page's entries' ordinals (for their records)


@dataclass
class SearchIndex:
    """Built once per catalog version; read-only afterwards (safe to share between threads). Its
    numbers are flat sequences (catalog_file.py maps them from a file the workers share); the word
    lookups (numbers, trigrams) are made per process from the vocabulary."""

    columns: CatalogColumns
    vocabulary: list[str]  # sorted words: a word's number is its place
    postings: Groups  # number * len(WEIGHT_LEVELS) + level -> ordinals with the word at that weight
    by_value: dict[str, Groups]  # facet -> value code (columns.facets[facet].values) -> ordinals
    deletions: DeletionIndex  # the vocabulary's words by their deletion keys, for typos
    bitmaps: CommonBitmaps  # the common postings groups as bitmaps, for queries of several words
    facet_bitmaps: dict[str, CommonBitmaps]  # facet -> its common values' entries (by_value) as bitmaps
    slice_bytes: int = SLICE_BYTES  # of a bitmap row, ranked at a time (a multiple of 8)
    word_numbers: dict[str, int] = field(init=False)
    size: int = field(init=False)
    members: np.ndarray = field(init=False, repr=False)
    widths: np.ndarray = field(init=False, repr=False)
    facet_arrays: dict[str, tuple[np.ndarray, np.ndarray]] = field(init=False, repr=False)
    rare_values: dict[str, tuple[np.ndarray, np.ndarray]] = field(init=False, repr=False)  # codes, sizes
    by_trigram: dict[str, set[str]] = field(init=False)
    value_codes: dict[str, dict[str, int]] = field(init=False)
    typos: TypoIndex = field(init=False)

    def __post_init__(self) -> None:
        self.word_numbers = {word: number for number, word in enumerate(self.vocabulary)}
        self.by_trigram = {}
        for word in self.vocabulary:
            for gram in trigrams(word):
                self.by_trigram.setdefault(gram, set()).add(word)
        facets = self.columns.facets
        self.value_codes = {name: {value: code for code, value in enumerate(facets[name].values)} for name in facets}
        self.typos = TypoIndex(self.vocabulary, self.deletions, self.by_trigram)
        # The same sequences as numpy arrays (views, nothing copied), for the set work of a query.
        self.size = len(self.columns)
        self.members = _uint32(self.postings.members)
        self.widths = _uint32(self.columns.widths)
        self.facet_arrays = {
            name: (_uint64(lists.groups.offsets), _uint32(lists.groups.members)) for name, lists in facets.items()
        }
        # Each facet's values without a bitmap, the most common first (facet_counts_of_row).
        self.rare_values = {}
        for name, groups in self.by_value.items():
            sizes = np.diff(_uint64(groups.offsets).astype(np.int64))
            rare = np.setdiff1d(np.arange(len(sizes)), np.frombuffer(self.facet_bitmaps[name].keys, dtype=np.uint32))
            rare = rare[np.argsort(-sizes[rare], kind="stable")]
            self.rare_values[name] = (rare, sizes[rare])

    @property
    def entries(self) -> EntryRecords:
        return self.columns.records

    @classmethod
    def build(cls, entries: Iterable[Mapping]) -> SearchIndex:
        """The index of the entries, in any order (a loader streams them in id order through
        ColumnsBuilder and SearchIndexBuilder together instead: catalog.index_catalog)."""
        ordered = sorted(entries, key=lambda entry: entry["image_id"])
        columns = CatalogColumns.build(ordered)
        builder = SearchIndexBuilder()
        for ordinal, entry in enumerate(ordered):
            builder.add(ordinal, entry)
        return builder.finish(columns)

    def word_postings(self, word: str) -> Postings:
        number = self.word_numbers[word]
        offsets, base = self.postings.offsets, number * len(WEIGHT_LEVELS)
        levels = [level for level in range(len(WEIGHT_LEVELS)) if offsets[base + level] < offsets[base + level + 1]]
        groups = tuple((WEIGHT_LEVELS[level], offsets[base + level], offsets[base + level + 1]) for level in levels)
        return Postings(self.postings.members, groups, tuple(base + level for level in levels))

    def _with_value(self, name: str, value: str) -> Sequence[int]:
        code = self.value_codes[name].get(value)
        return EMPTY if code is None else self.by_value[name].of(code)

    def _extensions(self, query_word: str) -> list[str]:
        """Catalog words that start with the query word (and are longer), for prefix matching."""
        if len(query_word) < MIN_PREFIX:
            return []
        start = bisect.bisect_left(self.vocabulary, query_word)
        found = []
        for word in self.vocabulary[start:]:
            if not word.startswith(query_word):
                break
            if word != query_word:
                found.append(word)
        return found

    def closest_word(self, query_word: str) -> str | None:
        candidates: set[str] = set()
        for gram in trigrams(query_word):
            candidates |= self.by_trigram.get(gram, set())
        scored = [(similarity(query_word, word), word) for word in candidates]
        best = max(scored, default=(0.0, ""), key=lambda pair: (pair[0], -len(pair[1]), pair[1]))
        return best[1] if best[0] >= MIN_SIMILARITY else None

    def _allowed(self, filters: Mapping) -> np.ndarray | None:
        """The entries that pass the filters (tags: all required; format; orientation; colour;
        min_width) as a mask over ordinals; None when there is no filter."""
        lists = [self._with_value("tags", tag) for tag in filters.get("tags") or []]
        for name in ("format", "orientation", "colour"):
            if filters.get(name):
                lists.append(self._with_value(name, filters[name]))
        allowed = None
        for members in lists:
            mask = np.zeros(self.size, dtype=bool)
            mask[_uint32(members)] = True
            allowed = mask if allowed is None else allowed & mask
        min_width = int(filters.get("min_width") or 0)
        if min_width:
            wide = self.widths >= min_width
            allowed = wide if allowed is None else allowed & wide
        return allowed

    def _sources(self, query_word: str, as_prefix: bool = True) -> list[Source]:
        """The catalog words a query word matches: itself, its extensions (when it may be a prefix),
        then its typo neighbours."""
        as_typed = [Source(query_word, 1.0, self.word_postings(query_word))] if query_word in self.word_numbers else []
        if as_prefix:
            as_typed += [Source(word, PREFIX_FACTOR, self.word_postings(word)) for word in self._extensions(query_word)]
        near = self.typos.near(query_word, typo_budget(query_word, matches_as_typed=bool(as_typed)))
        known = {source.word for source in as_typed}
        typos = [
            Source(word, TYPO_FACTORS[count], self.word_postings(word), count)
            for word, count in sorted(near.items())
            if word not in known
        ]
        return as_typed + typos

    def _correction(self, query_word: str, sources: list[Source]) -> str:
        """The query word as the user meant it: itself when it matches as typed, else the catalog
        word with fewest typos (then the most images, then alphabetical)."""
        if not sources or any(source.typos == 0 for source in sources):
            return query_word
        best = min(sources, key=lambda source: (source.typos, -len(source.postings), source.word))
        return best.word

    def _ranked_stream(self, source: Source) -> Iterator[tuple[int, float, int]]:
        ranked = source.postings.ranked()
        return ((source.typos, -source.factor * weight, ordinal) for weight, ordinal in ranked)

    def _mask(self, sources: list[Source]) -> np.ndarray:
        """The entries any of the sources is found in."""
        mask = np.zeros(self.size, dtype=bool)
        for source in sources:
            for _, start, end in source.postings.groups:
                mask[self.members[start:end]] = True
        return mask

    def _single_word(
        self, sources: list[Source], allowed: np.ndarray | None, wanted: int
    ) -> tuple[list[int], int, Callable[[], np.ndarray]]:
        """Top ordinals for one word without scoring every match: the ranked postings of the
        catalog words it matches are merged lazily in rank order. Returns the page, the number of
        matches and a way to get them (for facets). A word that matches one catalog word,
        unfiltered, is counted by its postings' length (each entry is in them once), and its page
        is the start of its postings (they are in rank order)."""
        if len(sources) == 1 and allowed is None:
            postings = sources[0].postings
            page = []
            for _, start, end in postings.groups:
                page += self.postings.members[start : min(end, start + wanted - len(page))]
            keys = postings.keys
            return (
                page,
                len(postings),
                lambda: functools.reduce(
                    np.bitwise_or,
                    (self._group_row(key, s, e) for (_, s, e), key in zip(postings.groups, keys, strict=True)),
                ),
            )
        page: list[int] = []
        seen: set[int] = set()
        for _typos, _score, ordinal in heapq.merge(*(self._ranked_stream(source) for source in sources)):
            if ordinal in seen:
                continue
            seen.add(ordinal)
            if allowed is not None and not allowed[ordinal]:
                continue
            page.append(ordinal)
            if len(page) == wanted:
                break
        mask = self._mask(sources)
        if allowed is not None:
            mask &= allowed
        return page, int(np.count_nonzero(mask)), lambda: bits_of_mask(mask)

    def _best_matches(self, sources: list[Source]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One query word's best match in every entry: codes by ordinal (0 where the word is not
        found, else the match's number in the two tables that follow), its typos and its score by
        number. The best match is the one with fewest typos, then the highest weight x factor;
        matches are written worst first, so the best of an entry is the one that stays."""
        matches = sorted(
            ((source.typos, -weight * source.factor, start, end)
             for source in sources for weight, start, end in source.postings.groups),
            key=lambda match: match[:2], reverse=True,
        )  # fmt: skip
        codes = np.zeros(self.size, dtype=np.uint16 if len(matches) < 1 << 16 else np.uint32)
        for number, (_, _, start, end) in enumerate(matches, start=1):
            codes[self.members[start:end]] = number
        typos = np.array([0, *(match[0] for match in matches)], dtype=np.int64)
        scores = np.array([0.0, *(-match[1] for match in matches)], dtype=np.float64)
        return codes, typos, scores

    def _group_row(self, key: int, start: int, end: int) -> np.ndarray:
        row = self.bitmaps.row(key)
        return row if row is not None else bits_of(self.members[start:end], self.size)

    def _matches_by_bits(
        self, per_word: list[list[Source]], allowed: np.ndarray | None, wanted: int
    ) -> tuple[list[int], int, Callable[[], np.ndarray]] | None:
        """_matches on bitmaps, when some entry has every word. A word's best match in an entry
        (fewest typos, then the highest weight x factor) puts the entry in one of the word's
        classes; the combinations of one class per word are taken in rank order (fewer typos, then
        the higher summed score; combinations of equal rank merged, so by id), a slice of the
        catalog at a time, until the page is full: the page of a common query is found in the
        first slice. Returns the page, the number of matches and a way to get them all, or None
        when no entry has every word or the combinations are too many (then arrays rank)."""
        filter_row = bits_of_mask(allowed) if allowed is not None else None
        # Per word: its groups' rows, best first, and its classes as (typos, score, first, end):
        # the entries in groups[first:end] and in none of the groups before them.
        words: list[tuple[list[np.ndarray], list[tuple[int, float, int, int]]]] = []
        every: np.ndarray | None = filter_row
        for sources in per_word:
            matches = []
            for source in sources:
                for (weight, start, end), key in zip(source.postings.groups, source.postings.keys, strict=True):
                    matches.append((source.typos, -weight * source.factor, key, start, end))
            if not matches:  # a word found nowhere: no entry has every word
                return None
            matches.sort(key=lambda match: match[:2])  # best first: fewest typos, then the highest score
            rows = [self._group_row(key, start, end) for _, _, key, start, end in matches]
            classes: list[tuple[int, float, int, int]] = []
            for place, (typos, negative_score, *_) in enumerate(matches):
                if classes and classes[-1][:2] == (typos, -negative_score):
                    classes[-1] = (typos, -negative_score, classes[-1][2], place + 1)
                else:
                    classes.append((typos, -negative_score, place, place + 1))
            words.append((rows, classes))
            union = functools.reduce(np.bitwise_or, rows) if len(rows) > 1 else rows[0]
            every = union if every is None else every & union
        total = count(every) if every is not None else 0
        if not total or math.prod(len(classes) for _, classes in words) > MAX_COMBINATIONS:
            return None
        ranked: dict[tuple[int, float], list[tuple[int, ...]]] = {}
        for chosen in itertools.product(*(range(len(classes)) for _, classes in words)):
            picked = [classes[number] for (_, classes), number in zip(words, chosen, strict=True)]
            score = sum(match[1] for match in picked)  # summed in word order, as _matches sums them
            ranked.setdefault((sum(match[0] for match in picked), -score), []).append(chosen)
        made: dict[tuple[int, int, int], np.ndarray] = {}

        def class_slice(word: int, number: int, part: slice) -> np.ndarray:
            """The word's class's row in this slice of the catalog (made once per query)."""
            key = (word, number, part.start)
            if key not in made:
                rows, classes = words[word]
                _, _, first, end = classes[number]
                bits = functools.reduce(np.bitwise_or, (row[part] for row in rows[first:end]))
                for better in rows[:first]:
                    bits = bits & ~better[part]
                made[key] = bits
            return made[key]

        page: list[int] = []
        width = row_bytes(self.size)
        for rank in sorted(ranked):
            for start in range(0, width, self.slice_bytes):
                part = slice(start, start + self.slice_bytes)
                merged = None
                for chosen in ranked[rank]:
                    both = functools.reduce(
                        np.bitwise_and, (class_slice(word, number, part) for word, number in enumerate(chosen))
                    )
                    if filter_row is not None:
                        both = both & filter_row[part]
                    merged = both if merged is None else merged | both
                page += (first_ordinals(merged, wanted - len(page)) + start * 8).tolist()
                if len(page) >= wanted:
                    return page, total, lambda: every
        return page, total, lambda: every

    def _matches(
        self, per_word: list[list[Source]], allowed: np.ndarray | None, wanted: int
    ) -> tuple[list[int], np.ndarray, bool]:
        """The top `wanted` ordinals, every candidate, and whether all words matched. Entries
        with every word rank first (then fewer typos, then the summed weights, then by id); only
        when there are none are the entries with most words ranked."""
        best = [self._best_matches(sources) for sources in per_word]
        found = [codes != 0 for codes, _, _ in best]
        common = np.logical_and.reduce(found)
        every = bool(common.any())
        if not every:  # no entry has every word: rank those with most words
            common = np.logical_or.reduce(found)
        candidates = np.flatnonzero(common & allowed if allowed is not None else common)
        numbers = [codes[candidates] for codes, _, _ in best]  # 0 where a word is missing: no typos, no score
        hits = sum((number != 0).astype(np.int64) for number in numbers)
        typos = sum(word_typos[number] for number, (_, word_typos, _) in zip(numbers, best, strict=True))
        scores = sum(word_scores[number] for number, (_, _, word_scores) in zip(numbers, best, strict=True))
        order = np.lexsort((candidates, -scores, typos, -hits))[:wanted] if len(candidates) else candidates
        return candidates[order].tolist(), candidates, every

    def facet_counts(self, ordinals: np.ndarray | None, names: Iterable[str]) -> dict[str, dict[str, int]]:
        """value -> number of the ordinals (None: the whole catalog) per facet, FACET_VALUES most frequent."""
        counts: dict[str, dict[str, int]] = {}
        for name in names:
            values = self.columns.facets[name].values
            if ordinals is None:  # the whole catalog: the filter index already holds the answer
                groups = self.by_value[name]
                found = {value: groups.size(code) for code, value in enumerate(values)}
            else:
                offsets, codes = self.facet_arrays[name]
                if name in SINGLE_VALUED:
                    chosen = codes[ordinals]
                else:  # each entry's run of codes, gathered at once
                    starts = offsets[ordinals].astype(np.int64)
                    lengths = offsets[ordinals + 1].astype(np.int64) - starts
                    runs = np.cumsum(lengths) - lengths
                    chosen = codes[np.repeat(starts - runs, lengths) + np.arange(int(lengths.sum()))]
                tally = np.bincount(chosen, minlength=len(values)) if len(chosen) else np.zeros(len(values), int)
                found = dict(zip(values, tally.tolist(), strict=True))
            top = sorted(
                ((count, value) for value, count in found.items() if count and value), key=lambda p: (-p[0], p[1])
            )
            counts[name] = {value: count for count, value in top[:FACET_VALUES]}
        return counts

    def facet_counts_of_row(self, row: np.ndarray, names: Iterable[str]) -> dict[str, dict[str, int]]:
        """facet_counts of the entries in a bitmap row: a common value's count is the count of the
        row and the value's bitmap; a rare one (fewer entries than a bitmap is worth) is counted
        from its entries only while it could still enter the top FACET_VALUES, most common first."""
        counts: dict[str, dict[str, int]] = {}
        for name in names:
            values, stored = self.columns.facets[name].values, self.facet_bitmaps[name]
            found = [(count(row & stored.row_at(place)), values[code]) for place, code in enumerate(stored.keys)]
            top = sorted(((n, value) for n, value in found if n and value), key=lambda p: (-p[0], p[1]))
            rare, sizes = self.rare_values[name]
            groups = self.by_value[name]
            for code, size in zip(rare.tolist(), sizes.tolist(), strict=True):
                if len(top) >= FACET_VALUES and size < top[FACET_VALUES - 1][0]:
                    break  # this value and every rarer one count less than the last shown
                ordinals = _uint32(groups.of(code))
                n = int(((row[ordinals >> 3] >> (ordinals & 7).astype(np.uint8)) & 1).sum())
                if n and values[code]:
                    top.append((n, values[code]))
                    top.sort(key=lambda p: (-p[0], p[1]))
            counts[name] = {value: n for n, value in top[:FACET_VALUES]}
        return counts

    def _ids(self, ordinals: Iterable[int]) -> list[str]:
        return [self.columns.records.id_of(ordinal) for ordinal in ordinals]

    def search(
        self,
        query: str,
        filters: Mapping | None = None,
        limit: int = 20,
        offset: int = 0,
        facets: Iterable[str] = (),
    ) -> SearchResult:
        """Ranked ids for a query (an empty query lists everything by id), after filters
        (tags: all required; format; orientation; colour; min_width), paged by offset and limit,
        with the counts of the named facets over every match."""
        words = text_tokens(query)
        allowed = self._allowed(filters or {})
        facets = tuple(facets)
        if not words:
            if allowed is None:
                page, total = list(range(offset, min(offset + limit, self.size))), self.size
                counts = self.facet_counts(None, facets)
            else:
                listed = np.flatnonzero(allowed)
                page, total = listed[offset : offset + limit].tolist(), len(listed)
                counts = self.facet_counts(listed, facets)
            return SearchResult(self._ids(page), total, facets=counts, ordinals=page)
        # Only the last word is a prefix, the one being typed (as hosted engines do): the others
        # are finished words, so "cat food" does not find "category".
        last = len(words) - 1
        per_word = [self._sources(word, as_prefix=position == last) for position, word in enumerate(words)]
        meant = [self._correction(word, sources) for word, sources in zip(words, per_word, strict=True)]
        fuzzy, suggestion = meant != words, " ".join(meant)
        if not any(per_word):  # past every word's typo budget: the closest catalog words, if any
            corrected = [self.closest_word(word) or word for word in words]
            if corrected != words and any(word in self.word_numbers for word in corrected):
                per_word = [self._sources(word, as_prefix=position == last) for position, word in enumerate(corrected)]
                fuzzy, suggestion = True, " ".join(corrected)
        suggestion = suggestion if fuzzy else ""
        if len(per_word) == 1:
            page, total, matched = self._single_word(per_word[0], allowed, offset + limit)
            counts = self.facet_counts_of_row(matched(), facets) if facets else {}
            shown = page[offset:]
            return SearchResult(self._ids(shown), total, fuzzy, suggestion, total > 0 or not fuzzy, counts, shown)
        by_bits = self._matches_by_bits(per_word, allowed, offset + limit)
        if by_bits is not None:
            page, total, matched = by_bits
            counts = self.facet_counts_of_row(matched(), facets) if facets else {}
            shown = page[offset:]
            return SearchResult(self._ids(shown), total, fuzzy, suggestion, True, counts, shown)
        page, candidates, every = self._matches(per_word, allowed, offset + limit)
        counts = self.facet_counts(candidates, facets) if facets else {}
        shown = page[offset:]
        return SearchResult(self._ids(shown), len(candidates), fuzzy, suggestion, every, counts, shown)


def _uint32(sequence: Sequence[int]) -> np.ndarray:
    """A sequence of array type "I" (or a view of one) as a numpy array over the same memory."""
    return np.frombuffer(sequence, dtype=np.uint32)  # type: ignore[call-overload]


def _uint64(sequence: Sequence[int]) -> np.ndarray:
    return np.frombuffer(sequence, dtype=np.uint64)  # type: ignore[call-overload]


class SearchIndexBuilder:
    """A search index gathered one entry at a time, by increasing ordinal, then finished over the
    catalog's columns (which give the filters' values)."""

    def __init__(self) -> None:
        self.levels: dict[str, list[array | None]] = {}
        # Tokens of the list fields' texts (tags and colour names: a few hundred across a
        # catalog), worked out once per text.
        self.tokens: dict[str, list[str]] = {}

    def add(self, ordinal: int, entry: Mapping) -> None:
        best: dict[str, int] = {}  # word -> level; fields come by falling weight, so the first is the best
        cache = self.tokens
        for field_name, level in FIELD_LEVELS:
            value = entry.get(field_name, "")
            if isinstance(value, list):
                for text in value:
                    words = cache.get(text)
                    if words is None:
                        words = cache[text] = text_tokens(text)
                    for word in words:
                        if word not in best:
                            best[word] = level
            else:
                for word in text_tokens(value):
                    if word not in best:
                        best[word] = level
        levels = self.levels
        for word, level in best.items():
            groups = levels.get(word)
            if groups is None:
                groups = levels[word] = [None] * len(WEIGHT_LEVELS)
            group = groups[level]
            if group is None:
                group = groups[level] = array("I")
            group.append(ordinal)

    def finish(self, columns: CatalogColumns) -> SearchIndex:
        vocabulary = sorted(self.levels)
        keyed: dict[int, array] = {}
        for number, word in enumerate(vocabulary):
            for level, group in enumerate(self.levels[word]):
                if group is not None:
                    keyed[number * len(WEIGHT_LEVELS) + level] = group
        postings = Groups.collect(keyed, len(vocabulary) * len(WEIGHT_LEVELS))
        self.levels, keyed = {}, {}
        by_value = {name: lists.entries_by_value() for name, lists in columns.facets.items()}
        bitmaps = CommonBitmaps.build(postings.offsets, postings.members, len(columns))
        facet_bitmaps = {name: CommonBitmaps.build(g.offsets, g.members, len(columns)) for name, g in by_value.items()}
        return SearchIndex(
            columns, vocabulary, postings, by_value, DeletionIndex.build(vocabulary), bitmaps, facet_bitmaps
        )
