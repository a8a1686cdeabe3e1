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
are looked up only for the page an answer shows.
"""

from __future__ import annotations

import bisect
import heapq
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter

from .catalog_schema import text_tokens
from .columns import EMPTY, CatalogColumns, EntryRecords, Groups
from .typos import TypoIndex, trigrams, typo_budget

# Colour names (the palette's, named at publish) count low: "blue car" ranks a blue car tagged
# blue above one that merely is blue, and the colour= filter is the strict form.
FIELD_WEIGHTS = (("tags", 3.0), ("title", 2.0), ("image_id", 1.0), ("colours", 0.5))
SINGLE_VALUED = ("format", "orientation")  # facets with one value an entry (the others are lists)
WEIGHT_LEVELS = tuple(sorted({weight for _, weight in FIELD_WEIGHTS}, reverse=True))
FACET_VALUES = 20  # values per facet in an answer, most frequent first
PREFIX_FACTOR = 0.5
TYPO_FACTORS = {1: 0.6, 2: 0.4}
MIN_PREFIX = 2
MIN_SIMILARITY = 0.3


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

    def __len__(self) -> int:
        return sum(end - start for _, start, end in self.groups)

    def members(self) -> Iterator[Sequence[int]]:
        return (self.ordinals[start:end] for _, start, end in self.groups)  # type: ignore[misc]

    def weight_of(self, ordinal: int) -> float | None:
        for weight, start, end in self.groups:
            place = bisect.bisect_left(self.ordinals, ordinal, start, end)
            if place < end and self.ordinals[place] == ordinal:
                return weight
        return None

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


@dataclass
class SearchIndex:
    """Built once per catalog version; read-only afterwards (safe to share between threads). Its
    numbers are flat sequences (catalog_file.py maps them from a file the workers share); the word
    lookups (numbers, trigrams) are made per process from the vocabulary."""

    columns: CatalogColumns
    vocabulary: list[str]  # sorted words: a word's number is its place
    postings: Groups  # number * len(WEIGHT_LEVELS) + level -> ordinals with the word at that weight
    by_value: dict[str, Groups]  # facet -> value code (columns.facets[facet].values) -> ordinals
    word_numbers: dict[str, int] = field(init=False)
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
        self.typos = TypoIndex(self.word_numbers, self.by_trigram)

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
        groups = tuple(
            (weight, offsets[base + level], offsets[base + level + 1])
            for level, weight in enumerate(WEIGHT_LEVELS)
            if offsets[base + level] < offsets[base + level + 1]
        )
        return Postings(self.postings.members, groups)

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

    def _allowed(self, filters: Mapping) -> tuple[set[int] | None, int]:
        """Ordinals passing the set-based filters (None: no such filter) and the minimum width."""
        lists = [self._with_value("tags", tag) for tag in filters.get("tags") or []]
        for name in ("format", "orientation", "colour"):
            if filters.get(name):
                lists.append(self._with_value(name, filters[name]))
        if not lists:
            return None, int(filters.get("min_width") or 0)
        lists.sort(key=len)
        allowed = set(lists[0])
        for other in lists[1:]:
            allowed.intersection_update(other)
        return allowed, int(filters.get("min_width") or 0)

    def _wide_enough(self, ordinals: Iterable[int], min_width: int) -> list[int]:
        widths = self.columns.widths
        return [ordinal for ordinal in ordinals if widths[ordinal] >= min_width]

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

    def _matching(self, sources: list[Source]) -> set[int]:
        return set().union(*(members for source in sources for members in source.postings.members()))

    def _ranks(self, sources: list[Source]) -> dict[int, tuple[int, float]]:
        """ordinal -> (typos, -score) of one query word's best match (fewest typos, then weight)."""
        ranks: dict[int, tuple[int, float]] = {}
        for source in sources:
            for weight, ordinal in source.postings.ranked():
                rank = (source.typos, -weight * source.factor)
                if rank < ranks.get(ordinal, (3, 0.0)):
                    ranks[ordinal] = rank
        return ranks

    def _rank_of(self, ordinal: int, sources: list[Source]) -> tuple[int, float] | None:
        """One query word's best match in the entry (None: the word is not in it)."""
        best = None
        for source in sources:
            weight = source.postings.weight_of(ordinal)
            if weight is not None and (best is None or (source.typos, -weight * source.factor) < best):
                best = (source.typos, -weight * source.factor)
        return best

    def _ranked_stream(self, source: Source) -> Iterator[tuple[int, float, int]]:
        ranked = source.postings.ranked()
        return ((source.typos, -source.factor * weight, ordinal) for weight, ordinal in ranked)

    def _single_word(
        self, sources: list[Source], allowed: set[int] | None, min_width: int, wanted: int
    ) -> tuple[list[int], set[int]]:
        """Top ordinals for one word without scoring every match: the ranked postings of the
        catalog words it matches are merged lazily in rank order. Returns (page, every match)."""
        widths = self.columns.widths
        page: list[int] = []
        seen: set[int] = set()
        for _typos, _score, ordinal in heapq.merge(*(self._ranked_stream(source) for source in sources)):
            if ordinal in seen:
                continue
            seen.add(ordinal)
            if allowed is not None and ordinal not in allowed:
                continue
            if min_width and widths[ordinal] < min_width:
                continue
            page.append(ordinal)
            if len(page) == wanted:
                break
        matched = self._matching(sources)
        if allowed is not None:
            matched &= allowed
        if min_width:
            matched = set(self._wide_enough(matched, min_width))
        return page, matched

    def _matches(
        self, per_word: list[list[Source]], allowed: set[int] | None, min_width: int
    ) -> tuple[list[int], dict[int, tuple[int, int, float]], bool]:
        """Candidate ordinals with their rank keys (-words matched, typos, -summed weight); whether
        all words matched. Entries matching every word are found by intersecting each word's
        matches, and only they are ranked (a bisection per group of each word); only when there are
        none are the partial matches ranked."""
        # Intersected as sets (in C), smallest first; only the common entries are then ranked.
        matching = sorted((self._matching(sources) for sources in per_word), key=len)
        found = matching[0].intersection(*matching[1:])
        common = {ordinal: [self._rank_of(ordinal, sources) for sources in per_word] for ordinal in found}
        keys: dict[int, tuple[int, int, float]] = {}
        if common:
            for ordinal, ranks in common.items():
                keys[ordinal] = (-len(per_word), sum(r[0] for r in ranks), sum(r[1] for r in ranks))
        else:  # no entry has every word: rank those with most words
            for ranks in (self._ranks(sources) for sources in per_word):
                for ordinal, (typos, score) in ranks.items():
                    hits, typos_so_far, total = keys.get(ordinal, (0, 0, 0.0))
                    keys[ordinal] = (hits - 1, typos_so_far + typos, total + score)
        candidates = list(keys)
        if allowed is not None:
            candidates = [ordinal for ordinal in candidates if ordinal in allowed]
        if min_width:
            candidates = self._wide_enough(candidates, min_width)
        return candidates, keys, bool(common)

    def facet_counts(self, ordinals: Iterable[int] | None, names: Iterable[str]) -> dict[str, dict[str, int]]:
        """value -> number of the ordinals (None: the whole catalog) per facet, FACET_VALUES most frequent."""
        counts: dict[str, dict[str, int]] = {}
        chosen = None if ordinals is None else tuple(ordinals)
        for name in names:
            values = self.columns.facets[name].values
            if chosen is None:  # the whole catalog: the filter index already holds the answer
                groups = self.by_value[name]
                found = {value: groups.size(code) for code, value in enumerate(values)}
            else:
                by_code = Counter(facet_codes(self.columns.facets[name].groups, chosen, name in SINGLE_VALUED))
                found = {values[code]: count for code, count in by_code.items()}
            top = sorted(
                ((count, value) for value, count in found.items() if count and value), key=lambda p: (-p[0], p[1])
            )
            counts[name] = {value: count for count, value in top[:FACET_VALUES]}
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
        filters = filters or {}
        allowed, min_width = self._allowed(filters)
        facets = tuple(facets)
        if not words:
            listed: Iterable[int] = range(len(self.columns))
            if allowed is not None:
                listed = sorted(allowed)
            if min_width:
                listed = self._wide_enough(listed, min_width)
            whole = allowed is None and not min_width
            counts = self.facet_counts(None if whole else listed, facets)
            total = len(listed)  # type: ignore[arg-type]
            return SearchResult(self._ids(listed[offset : offset + limit]), total, facets=counts)  # type: ignore[index]
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
            page, matched = self._single_word(per_word[0], allowed, min_width, offset + limit)
            total = len(matched)
            counts = self.facet_counts(matched, facets)
            return SearchResult(self._ids(page[offset:]), total, fuzzy, suggestion, total > 0 or not fuzzy, counts)
        candidates, keys, every = self._matches(per_word, allowed, min_width)
        page = heapq.nsmallest(offset + limit, candidates, key=lambda ordinal: (*keys[ordinal], ordinal))
        counts = self.facet_counts(candidates, facets)
        return SearchResult(self._ids(page[offset:]), len(candidates), fuzzy, suggestion, every, counts)


def facet_codes(groups: Groups, ordinals: tuple[int, ...], single_valued: bool) -> Iterable[int]:
    """The facet codes of these entries, gathered in C (itemgetter, map, chain) rather than by a
    loop in Python: about 0.03 us an entry for a one-value facet, whose codes are the members by
    ordinal, and 0.2 us for a list (bench/scale.py)."""
    if len(ordinals) < 2:  # itemgetter of one item gives the item, not a tuple
        return [code for ordinal in ordinals for code in groups.of(ordinal)]
    gather = itemgetter(*ordinals)
    if single_valued:
        return gather(groups.members)
    offsets = memoryview(groups.offsets)  # type: ignore[arg-type]
    starts, ends = gather(offsets), gather(offsets[1:])
    members = memoryview(groups.members)  # type: ignore[arg-type]
    return chain.from_iterable(map(members.__getitem__, map(slice, starts, ends)))


class SearchIndexBuilder:
    """A search index gathered one entry at a time, by increasing ordinal, then finished over the
    catalog's columns (which give the filters' values)."""

    # Fields whose texts repeat across a catalog (a few hundred tags and colour names): their
    # tokens are worked out once per text.
    REPEATED_FIELDS = ("tags", "colours")

    def __init__(self) -> None:
        self.levels: dict[str, list[array | None]] = {}
        self.tokens: dict[str, list[str]] = {}

    def _tokens(self, field_name: str, text: str) -> list[str]:
        if field_name not in self.REPEATED_FIELDS:
            return text_tokens(text)
        words = self.tokens.get(text)
        if words is None:
            words = self.tokens[text] = text_tokens(text)
        return words

    def add(self, ordinal: int, entry: Mapping) -> None:
        best: dict[str, float] = {}
        for field_name, weight in FIELD_WEIGHTS:
            value = entry.get(field_name, "")
            for text in value if isinstance(value, list) else [value]:
                for word in self._tokens(field_name, text):
                    if best.get(word, 0.0) < weight:
                        best[word] = weight
        for word, weight in best.items():
            groups = self.levels.get(word)
            if groups is None:
                groups = self.levels[word] = [None] * len(WEIGHT_LEVELS)
            level = WEIGHT_LEVELS.index(weight)
            if groups[level] is None:
                groups[level] = array("I")
            groups[level].append(ordinal)  # type: ignore[union-attr]

    def finish(self, columns: CatalogColumns) -> SearchIndex:
        vocabulary = sorted(self.levels)
        keyed: dict[int, array] = {}
        for number, word in enumerate(vocabulary):
            for level, group in enumerate(self.levels[word]):
                if group is not None:
                    keyed[number * len(WEIGHT_LEVELS) + level] = group
        postings = Groups.collect(keyed, len(vocabulary) * len(WEIGHT_LEVELS))
        self.levels, keyed = {}, {}
        by_value = {}
        for name, lists in columns.facets.items():
            members: dict[int, array] = {}
            offsets, codes = lists.groups.offsets, lists.groups.members
            for ordinal in range(len(columns)):
                for place in range(offsets[ordinal], offsets[ordinal + 1]):
                    members.setdefault(codes[place], array("I")).append(ordinal)
            by_value[name] = Groups.collect(members, len(lists.values))
        return SearchIndex(columns, vocabulary, postings, by_value)
