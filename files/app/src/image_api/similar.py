"""More like this: the images closest to one, by perceptual hash, colours and tags (set at publish).

Score of a candidate against the image (0..1): 0.5 x the closeness of the two 64-bit perceptual
hashes (1 for equal ones, falling to 0 at 24 differing bits, short of the 32 of unrelated
pictures; 0 when either is unknown) + 0.3 x the Jaccard overlap of their tags + 0.2 x that
of their colour names. Candidates are not the whole catalog: images sharing a 16-bit band of the
hash (every near-duplicate does), one of the image's rarest tags, or its main colour, each source
capped, so a request costs the same in a catalog of a thousand images as in one of a million.
It reads the catalog's columns (columns.py: hashes, tag and colour codes by ordinal), never the
entries themselves.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .columns import CatalogColumns, EntryRecords, Groups, grouped

HASH_WEIGHT, TAGS_WEIGHT, COLOURS_WEIGHT = 0.5, 0.3, 0.2
BANDS = 4
BAND_BITS = 16
RAREST_TAGS = 3
MAX_PER_SOURCE = 2000  # candidates taken from one band, tag or colour
MIN_SCORE = 0.2
UNRELATED_BITS = 24


def _overlap(left: Iterable[int], right: Iterable[int]) -> float:
    a, b = set(left), set(right)
    return len(a & b) / len(a | b) if a | b else 0.0


def _band_key(phash: int, band: int) -> int:
    """The band and the band-th 16 bits of the hash, from its most significant end (its hex digits
    4b..4b+3), as one number."""
    return (band << BAND_BITS) | (phash >> (BAND_BITS * (BANDS - 1 - band))) & 0xFFFF


@dataclass
class SimilarIndex:
    """Built once per catalog version beside the search index; read-only afterwards. Flat
    sequences, like the columns (catalog_file.py maps them from the file the workers share)."""

    columns: CatalogColumns
    by_band: Groups  # band * 2**BAND_BITS + the band's bits -> ordinals
    by_tag: Groups  # tag code -> ordinals
    by_colour: Groups  # main colour's code -> ordinals

    @property
    def entries(self) -> EntryRecords:
        return self.columns.records

    @classmethod
    def build(cls, entries: Iterable[Mapping]) -> SimilarIndex:
        return cls.of(CatalogColumns.build(entries))

    @classmethod
    def of(cls, columns: CatalogColumns, by_tag: Groups | None = None) -> SimilarIndex:
        """The index over the columns; by_tag: the entries by tag code when the search index has
        them already (its tags filter), shared rather than built twice."""
        hashed = np.flatnonzero(np.frombuffer(columns.hashed, dtype=np.uint8)).astype(np.uint32)
        phashes = np.frombuffer(columns.phashes, dtype=np.uint64)[hashed]  # type: ignore[call-overload]
        band_keys = [
            (np.uint64(band << BAND_BITS) | (phashes >> np.uint64(BAND_BITS * (BANDS - 1 - band))) & np.uint64(0xFFFF))
            for band in range(BANDS)
        ]
        by_band = grouped(
            np.concatenate(band_keys).astype(np.int64) if len(hashed) else np.zeros(0, np.int64),
            np.tile(hashed, BANDS),
            BANDS << BAND_BITS,
        )
        colours = columns.facets["colour"]
        ordinals, first = colours.first_values()
        by_colour = grouped(first.astype(np.int64), ordinals.astype(np.uint32), len(colours.values))
        by_tag = by_tag if by_tag is not None else columns.facets["tags"].entries_by_value()
        return cls(columns, by_band, by_tag, by_colour)

    def _candidates(self, ordinal: int) -> set[int]:
        columns = self.columns
        sources: list[Sequence[int]] = []
        if columns.hashed[ordinal]:
            phash = columns.phashes[ordinal]
            sources += [self.by_band.of(_band_key(phash, band)) for band in range(BANDS)]
        tag_names = columns.facets["tags"].values
        rarest = sorted(
            columns.facets["tags"].codes_of(ordinal), key=lambda code: (self.by_tag.size(code), tag_names[code])
        )[:RAREST_TAGS]
        sources += [self.by_tag.of(code) for code in rarest]
        sources += [self.by_colour.of(code) for code in columns.facets["colour"].codes_of(ordinal)[:1]]
        found: set[int] = set()
        for ordinals in sources:
            found.update(ordinals[:MAX_PER_SOURCE])
        found.discard(ordinal)
        return found

    def score(self, ordinal: int, other: int) -> float:
        columns = self.columns
        closeness = 0.0
        if columns.hashed[ordinal] and columns.hashed[other]:
            differing = (columns.phashes[ordinal] ^ columns.phashes[other]).bit_count()
            closeness = max(0.0, 1 - differing / UNRELATED_BITS)
        tags, colours = columns.facets["tags"], columns.facets["colour"]
        return (
            HASH_WEIGHT * closeness
            + TAGS_WEIGHT * _overlap(tags.codes_of(ordinal), tags.codes_of(other))
            + COLOURS_WEIGHT * _overlap(colours.codes_of(ordinal), colours.codes_of(other))
        )

    def similar(self, image_id: str, limit: int) -> list[tuple[str, float]]:
        """(id, score) of the closest images, best first (ties by id), at least MIN_SCORE."""
        ordinal = self.columns.records.ordinal(image_id)
        if ordinal is None:
            raise KeyError(image_id)
        scored = ((round(self.score(ordinal, other), 4), other) for other in self._candidates(ordinal))
        best = heapq.nsmallest(limit, ((-score, other) for score, other in scored if score >= MIN_SCORE))
        return [(self.columns.records.id_of(other), -negative) for negative, other in best]
