"""More like this: the images closest to one, by perceptual hash, colours and tags (set at publish).

Score of a candidate against the image (0..1): 0.5 x the closeness of the two 64-bit perceptual
hashes (1 for equal ones, falling to 0 at 24 differing bits, short of the 32 of unrelated
pictures; 0 when either is unknown) + 0.3 x the Jaccard overlap of their tags + 0.2 x that
of their colour names. Candidates are not the whole catalog: images sharing a 16-bit band of the
hash (every near-duplicate does), one of the image's rarest tags, or its main colour, each source
capped, so a request costs the same in a catalog of a thousand images as in one of a million.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

HASH_WEIGHT, TAGS_WEIGHT, COLOURS_WEIGHT = 0.5, 0.3, 0.2
BANDS = 4
RAREST_TAGS = 3
MAX_PER_SOURCE = 2000  # candidates taken from one band, tag or colour
MIN_SCORE = 0.2
UNRELATED_BITS = 24


def _overlap(left: Iterable[str], right: Iterable[str]) -> float:
    a, b = set(left), set(right)
    return len(a & b) / len(a | b) if a | b else 0.0


def _hash_closeness(left: str, right: str) -> float:
    if not left or not right:
        return 0.0
    return max(0.0, 1 - (int(left, 16) ^ int(right, 16)).bit_count() / UNRELATED_BITS)


@dataclass
class SimilarIndex:
    """Built once per catalog version beside the search index; read-only afterwards."""

    entries: dict[str, Mapping] = field(default_factory=dict)
    by_band: dict[tuple[int, str], list[str]] = field(default_factory=dict)
    by_tag: dict[str, list[str]] = field(default_factory=dict)
    by_colour: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, entries: Iterable[Mapping]) -> SimilarIndex:
        index = cls()
        for entry in sorted(entries, key=lambda e: e["image_id"]):
            image_id = entry["image_id"]
            index.entries[image_id] = entry
            phash = entry.get("phash", "")
            if phash:
                for band in range(BANDS):
                    index.by_band.setdefault((band, phash[band * 4 : band * 4 + 4]), []).append(image_id)
            for tag in entry.get("tags", []):
                index.by_tag.setdefault(tag, []).append(image_id)
            for colour in entry.get("colours", [])[:1]:
                index.by_colour.setdefault(colour, []).append(image_id)
        return index

    def _candidates(self, entry: Mapping) -> set[str]:
        phash = entry.get("phash", "")
        sources = [self.by_band.get((band, phash[band * 4 : band * 4 + 4]), []) for band in range(BANDS) if phash]
        rarest = sorted(entry.get("tags", []), key=lambda tag: (len(self.by_tag.get(tag, [])), tag))[:RAREST_TAGS]
        sources += [self.by_tag.get(tag, []) for tag in rarest]
        sources += [self.by_colour.get(colour, []) for colour in entry.get("colours", [])[:1]]
        found: set[str] = set()
        for ids in sources:
            found.update(ids[:MAX_PER_SOURCE])
        found.discard(entry["image_id"])
        return found

    def score(self, entry: Mapping, other: Mapping) -> float:
        return (
            HASH_WEIGHT * _hash_closeness(entry.get("phash", ""), other.get("phash", ""))
            + TAGS_WEIGHT * _overlap(entry.get("tags", []), other.get("tags", []))
            + COLOURS_WEIGHT * _overlap(entry.get("colours", []), other.get("colours", []))
        )

    def similar(self, image_id: str, limit: int) -> list[tuple[str, float]]:
        """(id, score) of the closest images, best first (ties by id), at least MIN_SCORE."""
        entry = self.entries[image_id]
        scored = ((round(self.score(entry, self.entries[other]), 4), other) for other in self._candidates(entry))
        best = heapq.nsmallest(limit, ((-score, other) for score, other in scored if score >= MIN_SCORE))
        return [(other, -negative) for negative, other in best]
