"""Sets of entries as bitmaps over ordinals (bit n of a row: entry n, little-endian bit order, rows
padded to whole 64-bit words), for the queries of more than one word: intersecting two words that
each match a tenth of a million entries is a few microseconds on their bitmaps, where marking and
comparing arrays of every ordinal takes milliseconds (bench/api.py at 1,000,000 entries).

The postings groups large enough to gain (COMMON_SHARE of the catalog or more: a bitmap is then at
most twice their ordinals' bytes) are kept as bitmaps in the catalog file; smaller ones are set
into a row when a query needs them.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

COMMON_SHARE = 1 / 64


def row_bytes(size: int) -> int:
    """The bytes of a row for a catalog of size entries: whole 64-bit words."""
    return -(-size // 64) * 8


def bits_of(ordinals: np.ndarray, size: int) -> np.ndarray:
    """The row of ascending ordinals (no repeats)."""
    row = np.zeros(row_bytes(size), dtype=np.uint8)
    if len(ordinals):
        places = ordinals >> 3
        values = np.left_shift(1, ordinals & 7).astype(np.uint8)
        starts = np.flatnonzero(np.concatenate(([True], places[1:] != places[:-1])))
        row[places[starts]] = np.add.reduceat(values, starts)  # distinct bits of one byte: their sum is their union
    return row


def bits_of_mask(mask: np.ndarray) -> np.ndarray:
    """The row of a boolean mask over ordinals."""
    row = np.zeros(row_bytes(len(mask)), dtype=np.uint8)
    packed = np.packbits(mask, bitorder="little")
    row[: len(packed)] = packed
    return row


def count(row: np.ndarray) -> int:
    return int(np.bitwise_count(row.view(np.uint64)).sum())


def first_ordinals(row: np.ndarray, wanted: int | None = None) -> np.ndarray:
    """The ordinals of the row's first `wanted` set bits (all of them when None), ascending; only
    the words up to the last one needed are unpacked."""
    words = row.view(np.uint64)
    if wanted is not None:
        running = np.cumsum(np.bitwise_count(words))
        if not len(running) or running[-1] == 0 or wanted <= 0:
            return np.zeros(0, dtype=np.int64)
        words = words[: int(np.searchsorted(running, running.dtype.type(wanted))) + 1]
    head = words.view(np.uint8)
    places = np.flatnonzero(head)
    rows, columns = np.nonzero(np.unpackbits(head[places][:, None], axis=1, bitorder="little"))
    found = places[rows] * 8 + columns
    return found if wanted is None else found[:wanted]


@dataclass(frozen=True)
class CommonBitmaps:
    """The rows of the common postings groups: keys (ascending group keys) and their rows, one after
    another in one run of bytes."""

    keys: Sequence[int]
    rows: bytes | memoryview
    size: int

    def row(self, key: int) -> np.ndarray | None:
        place = bisect.bisect_left(self.keys, key)
        if place == len(self.keys) or self.keys[place] != key:
            return None
        return self.row_at(place)

    def row_at(self, place: int) -> np.ndarray:
        """The row of keys[place]."""
        width = row_bytes(self.size)
        return np.frombuffer(self.rows, dtype=np.uint8, count=width, offset=place * width)

    @classmethod
    def build(
        cls, offsets: Sequence[int], members: Sequence[int], size: int, share: float = COMMON_SHARE
    ) -> CommonBitmaps:
        """The rows of the groups (members[offsets[k]:offsets[k + 1]], each ascending) with at
        least that share of the size."""
        lengths = np.diff(np.frombuffer(offsets, dtype=np.uint64).astype(np.int64))  # type: ignore[call-overload]
        keys = np.flatnonzero(lengths >= max(1, size * share))
        ordinals = np.frombuffer(members, dtype=np.uint32)  # type: ignore[call-overload]
        rows = bytearray()
        for key in keys.tolist():
            rows += bits_of(ordinals[offsets[key] : offsets[key + 1]], size).tobytes()
        return cls(array("I", keys.astype(np.uint32).tobytes()), bytes(rows), size)
