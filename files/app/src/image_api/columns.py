"""The catalog held compactly: what the search and similar-image indexes read about every entry
(width, facet values, perceptual hash) as flat arrays by ordinal, and each entry as JSON text: its
card (the summary a search answer splices in) and the rest of its fields (cards.py).

An entry's ordinal is its place in the catalog sorted by image id, so ordering by ordinal is
ordering by id (the indexes' tie-breaker). Built as the entries stream in, in id order (as the
snapshot holds them), so a loader never holds every entry as a dict: a million entries as dicts
take about 3.5 GB in Python, as columns a small fraction of that (bench/scale.py). Every part is a
flat sequence of numbers or bytes (an array while building, a view of a mapped file once saved:
catalog_file.py), so the workers of an instance share one copy.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .cards import Texts, TextsBuilder, card, entry_of, rest

# Facet name -> the entry field its values come from (a list or one value).
FACET_FIELDS = {"tags": "tags", "colour": "colours", "format": "format", "orientation": "orientation"}
EMPTY: Sequence[int] = array("I")


@dataclass(frozen=True)
class Groups:
    """Numbers grouped by a key (0..len - 1): key k's members are members[offsets[k]:offsets[k + 1]]."""

    offsets: Sequence[int]
    members: Sequence[int]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def of(self, key: int) -> Sequence[int]:
        if not 0 <= key < len(self.offsets) - 1:
            return EMPTY
        return self.members[self.offsets[key] : self.offsets[key + 1]]  # type: ignore[return-value]

    def size(self, key: int) -> int:
        return self.offsets[key + 1] - self.offsets[key] if 0 <= key < len(self.offsets) - 1 else 0

    @classmethod
    def collect(cls, keyed: dict[int, array], keys: int) -> Groups:
        """Groups from key -> members (keys 0..keys - 1; a missing key has none)."""
        offsets, members = array("Q", [0]), array("I")
        for key in range(keys):
            members.extend(keyed.get(key, EMPTY))
            offsets.append(len(members))
        return cls(offsets, members)


def numbers(type_code: str, values: np.ndarray) -> array:
    """A numpy result as an array of the given type (the columns' own sequence type)."""
    found = array(type_code)
    found.frombytes(values.astype(np.dtype(type_code)).tobytes())
    return found


def grouped(keys: np.ndarray, members: np.ndarray, key_count: int) -> Groups:
    """Groups of members by key (0..key_count - 1), each group in the members' given order."""
    order = np.argsort(keys, kind="stable")
    offsets = np.zeros(key_count + 1, dtype=np.uint64)
    np.cumsum(np.bincount(keys, minlength=key_count), out=offsets[1:])
    return Groups(numbers("Q", offsets), numbers("I", members[order]))


@dataclass(frozen=True)
class ValueLists:
    """Each entry's values of one field, by ordinal: the codes groups.of(ordinal) name them in
    values (a list field's items in order; a one-value field has one code an entry)."""

    groups: Groups
    values: list[str]

    def codes_of(self, ordinal: int) -> Sequence[int]:
        return self.groups.of(ordinal)

    def of_entry(self, ordinal: int) -> list[str]:
        return [self.values[code] for code in self.codes_of(ordinal)]

    def entries_by_value(self) -> Groups:
        """The inverse: value code -> the ordinals of the entries with that value, ascending."""
        offsets = np.frombuffer(self.groups.offsets, dtype=np.uint64)  # type: ignore[call-overload]
        codes = np.frombuffer(self.groups.members, dtype=np.uint32)  # type: ignore[call-overload]
        ordinals = np.repeat(np.arange(len(offsets) - 1, dtype=np.uint32), np.diff(offsets).astype(np.int64))
        return grouped(codes, ordinals, len(self.values))

    def first_values(self) -> tuple[np.ndarray, np.ndarray]:
        """(ordinals, code) of each entry's first value, for the entries that have one."""
        offsets = np.frombuffer(self.groups.offsets, dtype=np.uint64).astype(np.int64)  # type: ignore[call-overload]
        ordinals = np.flatnonzero(np.diff(offsets) > 0)
        codes = np.frombuffer(self.groups.members, dtype=np.uint32)  # type: ignore[call-overload]
        return ordinals, codes[offsets[ordinals]]


class ValueListsBuilder:
    def __init__(self) -> None:
        self.offsets, self.codes, self.numbers = array("Q", [0]), array("I"), {}

    def add(self, items: list[str]) -> None:
        numbers, codes = self.numbers, self.codes
        for item in items:
            code = numbers.get(item)
            if code is None:
                code = numbers[item] = len(numbers)
            codes.append(code)
        self.offsets.append(len(codes))

    def add_one(self, item: str) -> None:
        """add([item]), without the list (a one-value field: once an entry)."""
        code = self.numbers.get(item)
        if code is None:
            code = self.numbers[item] = len(self.numbers)
        self.codes.append(code)
        self.offsets.append(len(self.codes))

    def finish(self) -> ValueLists:
        return ValueLists(Groups(self.offsets, self.codes), list(self.numbers))


class EntryRecords(Mapping[str, dict]):
    """image id -> entry, read back on each access from its card and the rest of its fields
    (cards.py; a new dict each time: callers may change it). Ids are kept as one run of UTF-8 bytes
    in id order, found by bisection, so a million of them are a few tens of MB and no Python
    objects. Read-only."""

    def __init__(
        self, ids: bytes | bytearray | memoryview, id_offsets: Sequence[int], cards: Texts, rests: Texts
    ) -> None:
        self.id_bytes, self.id_offsets = ids, id_offsets
        self.cards, self.rests = cards, rests

    def id_of(self, ordinal: int) -> str:
        return bytes(self.id_bytes[self.id_offsets[ordinal] : self.id_offsets[ordinal + 1]]).decode()

    def ordinal(self, image_id: str) -> int | None:
        if not isinstance(image_id, str):
            return None
        key, ids, offsets = image_id.encode(), self.id_bytes, self.id_offsets
        low, high = 0, len(self)
        while low < high:
            middle = (low + high) // 2
            if bytes(ids[offsets[middle] : offsets[middle + 1]]) < key:
                low = middle + 1
            else:
                high = middle
        if low < len(self) and bytes(ids[offsets[low] : offsets[low + 1]]) == key:
            return low
        return None

    def record(self, ordinal: int) -> dict:
        return entry_of(self.id_of(ordinal), self.cards.of(ordinal), self.rests.of(ordinal))

    def __getitem__(self, image_id: str) -> dict:
        ordinal = self.ordinal(image_id)
        if ordinal is None:
            raise KeyError(image_id)
        return self.record(ordinal)

    def __contains__(self, image_id: object) -> bool:
        return isinstance(image_id, str) and self.ordinal(image_id) is not None

    def __iter__(self) -> Iterator[str]:
        return (self.id_of(ordinal) for ordinal in range(len(self)))

    def __len__(self) -> int:
        return len(self.id_offsets) - 1


@dataclass(frozen=True)
class CatalogColumns:
    """One catalog version, compact: the records, and the fields the indexes read, by ordinal."""

    records: EntryRecords  # each entry's card (its summary as JSON text) and the rest of it
    widths: Sequence[int]
    facets: dict[str, ValueLists]  # FACET_FIELDS' names
    phashes: Sequence[int]  # the 64-bit perceptual hash, 0 when unknown
    hashed: bytes | memoryview  # 1 where the perceptual hash is known

    @classmethod
    def build(cls, entries: Iterable[Mapping]) -> CatalogColumns:
        """The columns of entries in any order (sorted here; a loader streams them through
        ColumnsBuilder in id order instead)."""
        builder = ColumnsBuilder()
        for entry in sorted(entries, key=lambda entry: entry["image_id"]):
            builder.add(entry)
        return builder.finish()

    def __len__(self) -> int:
        return len(self.widths)


class OutOfOrder(ValueError):
    """An entry came with an id not above the one before it."""


class ColumnsBuilder:
    """Columns built one entry at a time, in strictly increasing id order."""

    def __init__(self) -> None:
        self.last_id = ""
        self.ids, self.id_offsets = bytearray(), array("Q", [0])
        self.widths, self.phashes, self.hashed = array("I"), array("Q"), bytearray()
        self.facets = {name: ValueListsBuilder() for name in FACET_FIELDS}
        self._facet_fields = [(self.facets[name], field_name) for name, field_name in FACET_FIELDS.items()]
        self.cards, self.rests = TextsBuilder(), TextsBuilder()

    def add(self, entry: Mapping) -> int:
        """Adds the entry and returns its ordinal."""
        image_id = entry["image_id"]
        if self.widths and image_id <= self.last_id:
            raise OutOfOrder(f"entry {image_id!r} comes after {self.last_id!r}: entries must be in id order")
        self.last_id = image_id
        self.ids += image_id.encode()
        self.id_offsets.append(len(self.ids))
        self.widths.append(entry.get("width", 0))
        phash = entry.get("phash", "")
        self.phashes.append(int(phash, 16) if phash else 0)
        self.hashed.append(1 if phash else 0)
        self.cards.add(card(entry))
        self.rests.add(rest(entry))
        for facet, field_name in self._facet_fields:
            value = entry.get(field_name, "")
            if type(value) is list:
                facet.add(value)
            else:
                facet.add_one(value)
        return len(self.widths) - 1

    def finish(self) -> CatalogColumns:
        facets = {name: builder.finish() for name, builder in self.facets.items()}
        # The runs of bytes are handed over, not copied (the build's peak memory is theirs).
        records = EntryRecords(self.ids, self.id_offsets, self.cards.finish(), self.rests.finish())
        return CatalogColumns(records, self.widths, facets, self.phashes, self.hashed)
