"""In-memory search over catalog entries: ranked token and prefix matches, typo-tolerant fallback.

Ranking: every query word scores against an entry's words, weighted by where they come from (tags 3,
title 2, id and path 1); an exact word counts fully, a word that merely starts with the query word
(two letters or more) counts half. Entries matching every query word come first; when none does,
entries matching some words are returned, most words first. When no word matches at all, each
query word is replaced by the closest catalog word by trigram similarity and the search is run
again, flagged ``fuzzy`` with the suggestion, so a query near anything in the catalog finds it.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from .catalog_schema import text_tokens

FIELD_WEIGHTS = (("tags", 3.0), ("title", 2.0), ("image_id", 1.0))
PREFIX_FACTOR = 0.5
MIN_PREFIX = 2
MIN_SIMILARITY = 0.3


def trigrams(word: str) -> set[str]:
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def similarity(left: str, right: str) -> float:
    """Jaccard similarity of the two words' trigram sets (1.0 for equal words)."""
    a, b = trigrams(left), trigrams(right)
    return len(a & b) / len(a | b)


@dataclass
class SearchResult:
    ids: list[str]  # ranked image ids of this page
    total: int  # matches before paging
    fuzzy: bool = False
    suggestion: str = ""
    matched_all_words: bool = True


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

    @classmethod
    def build(cls, entries: Iterable[Mapping]) -> SearchIndex:
        index = cls()
        for entry in entries:
            image_id = entry["image_id"]
            index.entries[image_id] = dict(entry)
            for field_name, weight in FIELD_WEIGHTS:
                value = entry.get(field_name, "")
                texts = value if isinstance(value, list) else [value]
                for word in (w for text in texts for w in text_tokens(text)):
                    postings = index.weights.setdefault(word, {})
                    postings[image_id] = max(postings.get(image_id, 0.0), weight)
            for tag in entry.get("tags", []):
                index.by_value.setdefault(("tags", tag), set()).add(image_id)
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

    def _scored_stream(self, word: str, factor: float) -> Iterator[tuple[float, str]]:
        postings = self.weights[word]
        return ((-factor * postings[image_id], image_id) for image_id in self.ranked[word])

    def _single_word(self, word: str, allowed: set[str] | None, min_width: int, wanted: int) -> tuple[list, int]:
        """Top ids for one word without scoring every match: the precomputed ranked lists of the word
        and of its extensions are merged lazily in score order. Returns (ids, total matches)."""
        extensions = self._extensions(word)
        sources = [(1.0, word)] if word in self.weights else []
        sources += [(PREFIX_FACTOR, extension) for extension in extensions]
        streams = [self._scored_stream(w, factor) for factor, w in sources]
        page, seen = [], set()
        for _score, image_id in heapq.merge(*streams):
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
        matched = set(self.weights.get(word, ())).union(*(self.weights[w].keys() for w in extensions))
        if allowed is not None:
            matched &= allowed
        if min_width:
            matched = {i for i in matched if self.entries[i].get("width", 0) >= min_width}
        return page, len(matched)

    def _word_scores(self, query_word: str) -> dict[str, float]:
        """image_id -> best score of one query word (exact or prefix match)."""
        exact = self.weights.get(query_word, {})
        extensions = [self.weights[word] for word in self._extensions(query_word)]
        if not extensions:
            return exact
        scores: dict[str, float] = {}
        for postings in extensions:
            for image_id, weight in postings.items():
                half = weight * PREFIX_FACTOR
                if scores.get(image_id, 0.0) < half:
                    scores[image_id] = half
        scores.update((i, w) for i, w in exact.items() if w > scores.get(i, 0.0))
        return scores

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
        for name in ("format", "orientation"):
            if filters.get(name):
                sets.append(self.by_value.get((name, filters[name]), set()))
        allowed = set.intersection(*sorted(sets, key=len)) if sets else None
        return allowed, int(filters.get("min_width") or 0)

    def _matching_ids(self, word: str) -> frozenset[str]:
        extensions = self._extensions(word)
        exact = self.id_sets.get(word, frozenset())
        return exact.union(*(self.id_sets[w] for w in extensions)) if extensions else exact

    def _sources(self, word: str) -> list[tuple[dict[str, float], float]]:
        """The postings a query word scores from: its own (full weight) and its extensions' (half)."""
        sources = [(self.weights[word], 1.0)] if word in self.weights else []
        return sources + [(self.weights[w], PREFIX_FACTOR) for w in self._extensions(word)]

    @staticmethod
    def _score(image_id: str, sources: list[tuple[dict[str, float], float]]) -> float:
        return max(postings.get(image_id, 0.0) * factor for postings, factor in sources)

    def _matches(self, words: list[str], allowed: set[str] | None, min_width: int) -> tuple[list, dict, dict, bool]:
        """Candidate ids with their summed scores and matched-word counts; whether all words matched.
        Entries matching every word are found by intersecting precomputed id sets, and only they
        are scored; only when there are none are the partial matches scored."""
        id_sets = sorted((self._matching_ids(word) for word in words), key=len)
        common = id_sets[0].intersection(*id_sets[1:])
        if common:
            per_word = [self._sources(word) for word in words]
            totals = {i: sum(self._score(i, sources) for sources in per_word) for i in common}
            hits = None
        else:  # no entry has every word: rank those with most words
            totals, hits = {}, {}
            for scores in (self._word_scores(word) for word in words):
                for image_id, score in scores.items():
                    totals[image_id] = totals.get(image_id, 0.0) + score
                    hits[image_id] = hits.get(image_id, 0) + 1
        every = bool(common)
        candidates = list(totals)
        if allowed is not None:
            candidates = [i for i in candidates if i in allowed]
        if min_width:
            candidates = [i for i in candidates if self.entries[i].get("width", 0) >= min_width]
        return candidates, totals, hits or {}, every

    def search(
        self,
        query: str,
        filters: Mapping | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> SearchResult:
        """Ranked ids for a query (an empty query lists everything by id), after filters
        (tags: all required; format; orientation; min_width), paged by offset and limit."""
        words = text_tokens(query)
        allowed, min_width = self._allowed(filters or {})
        if not words:
            ids = self.order
            if allowed is not None:
                ids = sorted(allowed) if len(allowed) * 8 < len(ids) else [i for i in ids if i in allowed]
            if min_width:
                ids = [i for i in ids if self.entries[i].get("width", 0) >= min_width]
            return SearchResult(ids[offset : offset + limit], len(ids))
        fuzzy, suggestion = False, ""
        if not any(word in self.weights or self._extensions(word) for word in words):
            corrected = [self.closest_word(word) or word for word in words]
            if corrected != words and any(word in self.weights for word in corrected):
                words, fuzzy, suggestion = corrected, True, " ".join(corrected)
        if len(words) == 1:
            page, total = self._single_word(words[0], allowed, min_width, offset + limit)
            return SearchResult(page[offset:], total, fuzzy, suggestion, total > 0 or not fuzzy)
        candidates, totals, hits, every = self._matches(words, allowed, min_width)
        page = heapq.nsmallest(offset + limit, candidates, key=lambda i: (-hits.get(i, 1), -totals[i], i))
        return SearchResult(page[offset:], len(candidates), fuzzy, suggestion, every)
