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
from collections.abc import Iterable, Mapping
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
        index.vocabulary = sorted(index.weights)
        for word in index.vocabulary:
            for gram in trigrams(word):
                index.by_trigram.setdefault(gram, set()).add(word)
        return index

    def _word_scores(self, query_word: str) -> dict[str, float]:
        """image_id -> best score of one query word (exact or prefix match)."""
        scores = dict(self.weights.get(query_word, {}))
        if len(query_word) >= MIN_PREFIX:
            start = bisect.bisect_left(self.vocabulary, query_word)
            for word in self.vocabulary[start:]:
                if not word.startswith(query_word):
                    break
                if word == query_word:
                    continue
                for image_id, weight in self.weights[word].items():
                    scores[image_id] = max(scores.get(image_id, 0.0), weight * PREFIX_FACTOR)
        return scores

    def closest_word(self, query_word: str) -> str | None:
        candidates: set[str] = set()
        for gram in trigrams(query_word):
            candidates |= self.by_trigram.get(gram, set())
        scored = [(similarity(query_word, word), word) for word in candidates]
        best = max(scored, default=(0.0, ""), key=lambda pair: (pair[0], -len(pair[1]), pair[1]))
        return best[1] if best[0] >= MIN_SIMILARITY else None

    def _ranked(self, words: list[str]) -> tuple[list[str], bool]:
        per_word = [self._word_scores(word) for word in words]
        totals: dict[str, float] = {}
        hits: dict[str, int] = {}
        for scores in per_word:
            for image_id, score in scores.items():
                totals[image_id] = totals.get(image_id, 0.0) + score
                hits[image_id] = hits.get(image_id, 0) + 1
        every = [i for i in totals if hits[i] == len(words)]
        chosen = every or list(totals)
        chosen.sort(key=lambda i: (-hits[i], -totals[i], i))
        return chosen, bool(every)

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
        fuzzy, suggestion, matched_all = False, "", True
        if words:
            ranked, matched_all = self._ranked(words)
            if not ranked:
                corrected = [self.closest_word(word) or word for word in words]
                if corrected != words:
                    ranked, matched_all = self._ranked(corrected)
                    fuzzy, suggestion = bool(ranked), " ".join(corrected) if ranked else ""
        else:
            ranked = sorted(self.entries)
        ranked = [i for i in ranked if self._passes(self.entries[i], filters or {})]
        return SearchResult(ranked[offset : offset + limit], len(ranked), fuzzy, suggestion, matched_all)

    @staticmethod
    def _passes(entry: Mapping, filters: Mapping) -> bool:
        required_tags = set(filters.get("tags") or [])
        return (
            required_tags <= set(entry.get("tags", []))
            and filters.get("format") in (None, "", entry.get("format"))
            and filters.get("orientation") in (None, "", entry.get("orientation"))
            and entry.get("width", 0) >= int(filters.get("min_width") or 0)
        )
