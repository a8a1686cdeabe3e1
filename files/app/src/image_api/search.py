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
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from .catalog_schema import text_tokens
from .typos import TypoIndex, trigrams, typo_budget

# Colour names (the palette's, named at publish) count low: "blue car" ranks a blue car tagged
# blue above one that merely is blue, and the colour= filter is the strict form.
FIELD_WEIGHTS = (("tags", 3.0), ("title", 2.0), ("image_id", 1.0), ("colours", 0.5))
# Facet name -> the entry field its values come from (a list or one value).
FACET_FIELDS = {"tags": "tags", "colour": "colours", "format": "format", "orientation": "orientation"}
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
class Source:
    """A catalog word that a query word matches: at what factor its weights count, with how many typos."""

    word: str
    factor: float
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
    """Built once per catalog version; read-only afterwards (safe to share between threads)."""

    entries: dict[str, dict] = field(default_factory=dict)
    weights: dict[str, dict[str, float]] = field(default_factory=dict)  # word -> image_id -> weight
    vocabulary: list[str] = field(default_factory=list)  # sorted words, for prefix lookups
    by_trigram: dict[str, set[str]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # every id, sorted (browsing order and tie-breaker)
    by_value: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (filter, value) -> ids
    ranked: dict[str, list[str]] = field(default_factory=dict)  # word -> ids by (-weight, id)
    id_sets: dict[str, frozenset[str]] = field(default_factory=dict)  # word -> ids, for intersections
    typos: TypoIndex = field(default_factory=lambda: TypoIndex((), {}))

    @classmethod
    def build(cls, entries: Iterable[Mapping]) -> SearchIndex:
        index = cls()
        for entry in entries:
            image_id = entry["image_id"]
            index.entries[image_id] = entry if isinstance(entry, dict) else dict(entry)  # read-only: shared
            for field_name, weight in FIELD_WEIGHTS:
                value = entry.get(field_name, "")
                texts = value if isinstance(value, list) else [value]
                for word in (w for text in texts for w in text_tokens(text)):
                    postings = index.weights.setdefault(word, {})
                    postings[image_id] = max(postings.get(image_id, 0.0), weight)
            for tag in entry.get("tags", []):
                index.by_value.setdefault(("tags", tag), set()).add(image_id)
            for colour in entry.get("colours", []):
                index.by_value.setdefault(("colour", colour), set()).add(image_id)
            for name in ("format", "orientation"):
                index.by_value.setdefault((name, entry.get(name, "")), set()).add(image_id)
        index.vocabulary = sorted(index.weights)
        index.order = sorted(index.entries)
        for word, postings in index.weights.items():
            index.ranked[word] = sorted(postings, key=lambda i, p=postings: (-p[i], i))
            index.id_sets[word] = frozenset(postings)
        for word in index.vocabulary:
            for gram in trigrams(word):
                index.by_trigram.setdefault(gram, set()).add(word)
        index.typos = TypoIndex(index.weights, index.by_trigram)
        return index

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

    def _allowed(self, filters: Mapping) -> tuple[set[str] | None, int]:
        """Ids passing the set-based filters (None: no such filter) and the minimum width."""
        sets = [self.by_value.get(("tags", tag), set()) for tag in filters.get("tags") or []]
        for name in ("format", "orientation", "colour"):
            if filters.get(name):
                sets.append(self.by_value.get((name, filters[name]), set()))
        allowed = set.intersection(*sorted(sets, key=len)) if sets else None
        return allowed, int(filters.get("min_width") or 0)

    def _sources(self, query_word: str, as_prefix: bool = True) -> list[Source]:
        """The catalog words a query word matches: itself, its extensions (when it may be a prefix),
        then its typo neighbours."""
        as_typed = [Source(query_word, 1.0)] if query_word in self.weights else []
        if as_prefix:
            as_typed += [Source(word, PREFIX_FACTOR) for word in self._extensions(query_word)]
        near = self.typos.near(query_word, typo_budget(query_word, matches_as_typed=bool(as_typed)))
        known = {source.word for source in as_typed}
        typos = [Source(word, TYPO_FACTORS[count], count) for word, count in sorted(near.items()) if word not in known]
        return as_typed + typos

    def _correction(self, query_word: str, sources: list[Source]) -> str:
        """The query word as the user meant it: itself when it matches as typed, else the catalog
        word with fewest typos (then the most images, then alphabetical)."""
        if not sources or any(source.typos == 0 for source in sources):
            return query_word
        best = min(sources, key=lambda source: (source.typos, -len(self.weights[source.word]), source.word))
        return best.word

    def _matching_ids(self, sources: list[Source]) -> frozenset[str]:
        sets = [self.id_sets[source.word] for source in sources]
        return sets[0].union(*sets[1:]) if sets else frozenset()

    def _ranks(self, sources: list[Source]) -> dict[str, tuple[int, float]]:
        """image_id -> (typos, -score) of one query word's best match (fewest typos, then weight)."""
        ranks: dict[str, tuple[int, float]] = {}
        for source in sources:
            for image_id, weight in self.weights[source.word].items():
                rank = (source.typos, -weight * source.factor)
                if rank < ranks.get(image_id, (3, 0.0)):
                    ranks[image_id] = rank
        return ranks

    def _rank_of(self, image_id: str, sources: list[Source]) -> tuple[int, float]:
        return min(
            (source.typos, -weight * source.factor)
            for source in sources
            if (weight := self.weights[source.word].get(image_id)) is not None
        )

    def _ranked_stream(self, source: Source) -> Iterator[tuple[int, float, str]]:
        postings = self.weights[source.word]
        return ((source.typos, -source.factor * postings[image_id], image_id) for image_id in self.ranked[source.word])

    def _single_word(
        self, sources: list[Source], allowed: set[str] | None, min_width: int, wanted: int
    ) -> tuple[list, int]:
        """Top ids for one word without scoring every match: the precomputed ranked lists of the
        catalog words it matches are merged lazily in rank order. Returns (ids, total matches)."""
        streams = [self._ranked_stream(source) for source in sources]
        page, seen = [], set()
        for _typos, _score, image_id in heapq.merge(*streams):
            if image_id in seen:
                continue
            seen.add(image_id)
            if allowed is not None and image_id not in allowed:
                continue
            if min_width and self.entries[image_id].get("width", 0) < min_width:
                continue
            page.append(image_id)
            if len(page) == wanted:
                break
        matched = set(self._matching_ids(sources))
        if allowed is not None:
            matched &= allowed
        if min_width:
            matched = {i for i in matched if self.entries[i].get("width", 0) >= min_width}
        return page, matched

    def _matches(
        self, per_word: list[list[Source]], allowed: set[str] | None, min_width: int
    ) -> tuple[list[str], dict[str, tuple[int, int, float]], bool]:
        """Candidate ids with their rank keys (-words matched, typos, -summed weight); whether all
        words matched. Entries matching every word are found by intersecting precomputed id sets,
        and only they are ranked; only when there are none are the partial matches ranked."""
        id_sets = sorted((self._matching_ids(sources) for sources in per_word), key=len)
        common = id_sets[0].intersection(*id_sets[1:])
        keys: dict[str, tuple[int, int, float]] = {}
        if common:
            for image_id in common:
                ranks = [self._rank_of(image_id, sources) for sources in per_word]
                keys[image_id] = (-len(per_word), sum(r[0] for r in ranks), sum(r[1] for r in ranks))
        else:  # no entry has every word: rank those with most words
            for ranks in (self._ranks(sources) for sources in per_word):
                for image_id, (typos, score) in ranks.items():
                    hits, typos_so_far, total = keys.get(image_id, (0, 0, 0.0))
                    keys[image_id] = (hits - 1, typos_so_far + typos, total + score)
        candidates = list(keys)
        if allowed is not None:
            candidates = [i for i in candidates if i in allowed]
        if min_width:
            candidates = [i for i in candidates if self.entries[i].get("width", 0) >= min_width]
        return candidates, keys, bool(common)

    def facet_counts(self, ids: Iterable[str] | None, names: Iterable[str]) -> dict[str, dict[str, int]]:
        """value -> number of the ids (None: the whole catalog) per facet, FACET_VALUES most frequent."""
        counts: dict[str, dict[str, int]] = {}
        for name in names:
            field_name = FACET_FIELDS[name]
            if ids is None:  # the whole catalog: the filter index already holds the answer
                found = {value: len(members) for (kind, value), members in self.by_value.items() if kind == name}
            else:
                found = {}
                for image_id in ids:
                    value = self.entries[image_id].get(field_name)
                    for item in value if isinstance(value, list) else [value]:
                        found[item] = found.get(item, 0) + 1
            top = sorted(
                ((count, value) for value, count in found.items() if count and value), key=lambda p: (-p[0], p[1])
            )
            counts[name] = {value: count for count, value in top[:FACET_VALUES]}
        return counts

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
            ids = self.order
            if allowed is not None:
                ids = sorted(allowed) if len(allowed) * 8 < len(ids) else [i for i in ids if i in allowed]
            if min_width:
                ids = [i for i in ids if self.entries[i].get("width", 0) >= min_width]
            whole = allowed is None and not min_width
            counts = self.facet_counts(None if whole else ids, facets)
            return SearchResult(ids[offset : offset + limit], len(ids), facets=counts)
        # Only the last word is a prefix, the one being typed (as hosted engines do): the others
        # are finished words, so "cat food" does not find "category".
        last = len(words) - 1
        per_word = [self._sources(word, as_prefix=position == last) for position, word in enumerate(words)]
        meant = [self._correction(word, sources) for word, sources in zip(words, per_word, strict=True)]
        fuzzy, suggestion = meant != words, " ".join(meant)
        if not any(per_word):  # past every word's typo budget: the closest catalog words, if any
            corrected = [self.closest_word(word) or word for word in words]
            if corrected != words and any(word in self.weights for word in corrected):
                per_word = [self._sources(word, as_prefix=position == last) for position, word in enumerate(corrected)]
                fuzzy, suggestion = True, " ".join(corrected)
        suggestion = suggestion if fuzzy else ""
        if len(per_word) == 1:
            page, matched = self._single_word(per_word[0], allowed, min_width, offset + limit)
            total = len(matched)
            counts = self.facet_counts(matched, facets)
            return SearchResult(page[offset:], total, fuzzy, suggestion, total > 0 or not fuzzy, counts)
        candidates, keys, every = self._matches(per_word, allowed, min_width)
        page = heapq.nsmallest(offset + limit, candidates, key=lambda i: (*keys[i], i))
        counts = self.facet_counts(candidates, facets)
        return SearchResult(page[offset:], len(candidates), fuzzy, suggestion, every, counts)
