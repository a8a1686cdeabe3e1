"""A loaded catalog version as one file that every worker of an instance maps (read-only, shared
through the page cache), so an instance holds one copy of it, not one per worker, and only the
first worker to see a version builds it (the others wait for its file, then map it in a moment).

Layout: MAGIC, the header's length (8 bytes, little-endian), the header (JSON: the version, the
vocabulary, the facet values and, per named section, its offset, length and array type code),
then the sections (each 8-byte aligned): the columns', the search index's and the similar-image
index's flat sequences. The file is written under a temporary name and renamed into place, so a
reader sees a whole file or none; it is only read on the machine that wrote it (native byte order).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import mmap
import os
import tempfile
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path

from .bitmaps import CommonBitmaps
from .cards import Texts
from .columns import CatalogColumns, EntryRecords, Groups, ValueLists
from .search import SearchIndex
from .similar import SimilarIndex
from .typos import DeletionIndex

MAGIC = b"IMGCAT01"
# The layout's version: part of a file's name, so a release that changes the layout (or how records
# are blocked) builds its own file beside the one an older release's workers may still map.
LAYOUT = 7
ALIGNMENT = 8
SUFFIX = ".catalog"

Indexes = tuple[CatalogColumns, SearchIndex, SimilarIndex]
# What a build gives: the version built, its indexes and how many entries were malformed.
Built = tuple[str, Indexes, int]


def _sections(columns: CatalogColumns, index: SearchIndex, similar: SimilarIndex) -> dict[str, Sequence | bytes]:
    records = columns.records
    sections: dict[str, Sequence | bytes] = {
        "ids": records.id_bytes, "id_offsets": records.id_offsets,
        "cards": records.cards.run, "card_offsets": records.cards.offsets,
        "rests": records.rests.run, "rest_offsets": records.rests.offsets,
        "widths": columns.widths, "phashes": columns.phashes, "hashed": columns.hashed,
        "postings.offsets": index.postings.offsets, "postings.members": index.postings.members,
        "typos.hashes": index.deletions.hashes, "typos.words": index.deletions.words,
        "bitmaps.keys": index.bitmaps.keys, "bitmaps.rows": index.bitmaps.rows,
    }  # fmt: skip
    for name, lists in columns.facets.items():
        sections[f"facet.{name}.offsets"] = lists.groups.offsets
        sections[f"facet.{name}.members"] = lists.groups.members
        sections[f"value.{name}.offsets"] = index.by_value[name].offsets
        sections[f"value.{name}.members"] = index.by_value[name].members
        sections[f"value.{name}.bitmap_keys"] = index.facet_bitmaps[name].keys
        sections[f"value.{name}.bitmap_rows"] = index.facet_bitmaps[name].rows
    for name in ("by_band", "by_colour"):  # by_tag is the search index's tags filter (value.tags)
        groups = getattr(similar, name)
        sections[f"similar.{name}.offsets"], sections[f"similar.{name}.members"] = groups.offsets, groups.members
    return sections


def _as_bytes(sequence: Sequence | bytes) -> tuple[bytes | memoryview, str]:
    if isinstance(sequence, (bytes, bytearray)):
        return sequence, "B"
    view = memoryview(sequence)  # type: ignore[arg-type]
    return view.cast("B"), view.format


def save(path: Path, version: str, indexes: Indexes, malformed: int = 0) -> None:
    """Writes the version's columns and indexes to path (atomically: renamed into place)."""
    columns, index, similar = indexes
    layout, parts, position = {}, [], 0
    for name, sequence in _sections(columns, index, similar).items():
        data, type_code = _as_bytes(sequence)
        layout[name] = [position, len(data), type_code]
        parts.append(data)
        position += len(data)
        padding = -position % ALIGNMENT
        parts.append(b"\0" * padding)
        position += padding
    header = json.dumps({
        "version": version, "malformed": malformed, "vocabulary": index.vocabulary, "sections": layout,
        "values": {name: lists.values for name, lists in columns.facets.items()},
    }, separators=(",", ":")).encode()  # fmt: skip
    header += b" " * (-(len(MAGIC) + 8 + len(header)) % ALIGNMENT)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-", suffix=SUFFIX)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(MAGIC + len(header).to_bytes(8, "little") + header)
            for part in parts:
                handle.write(part)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(path: Path) -> Built:
    """The version, indexes and malformed count saved at path; the indexes' sequences are views of
    the mapped file (nothing copied)."""
    with path.open("rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    view = memoryview(mapped)
    if bytes(view[: len(MAGIC)]) != MAGIC:
        raise ValueError(f"{path} is not a catalog file")
    length = int.from_bytes(view[len(MAGIC) : len(MAGIC) + 8], "little")
    start = len(MAGIC) + 8
    header = json.loads(bytes(view[start : start + length]))
    body = start + length

    def section(name: str):
        offset, size, type_code = header["sections"][name]
        data = view[body + offset : body + offset + size]
        return data if type_code == "B" else data.cast(type_code)

    def groups(prefix: str) -> Groups:
        return Groups(section(f"{prefix}.offsets"), section(f"{prefix}.members"))

    values = header["values"]
    cards, rests = Texts(section("cards"), section("card_offsets")), Texts(section("rests"), section("rest_offsets"))
    records = EntryRecords(section("ids"), section("id_offsets"), cards, rests)
    facets = {name: ValueLists(groups(f"facet.{name}"), values[name]) for name in values}
    columns = CatalogColumns(records, section("widths"), facets, section("phashes"), section("hashed"))
    by_value = {name: groups(f"value.{name}") for name in values}
    deletions = DeletionIndex(section("typos.hashes"), section("typos.words"))
    bitmaps = CommonBitmaps(section("bitmaps.keys"), section("bitmaps.rows"), len(columns))
    facet_bitmaps = {
        name: CommonBitmaps(section(f"value.{name}.bitmap_keys"), section(f"value.{name}.bitmap_rows"), len(columns))
        for name in values
    }
    index = SearchIndex(columns, header["vocabulary"], groups("postings"), by_value, deletions, bitmaps, facet_bitmaps)
    similar = SimilarIndex(columns, groups("similar.by_band"), by_value["tags"], groups("similar.by_colour"))
    return header["version"], (columns, index, similar), header["malformed"]


@contextmanager
def _locked(path: Path):
    with path.open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        yield


def path_for(folder: Path, version: str) -> Path:
    """The version's file in this layout (named by a digest: a version is the table's text, not a
    file name)."""
    return folder / f"{hashlib.sha256(f'{LAYOUT}:{version}'.encode()).hexdigest()[:32]}{SUFFIX}"


def shared(folder: Path, version: str, build: Callable[[], Built]) -> Built:
    """The version's indexes from the instance's file in folder: mapped when a worker has built it
    already, else built here (one worker at a time: the others wait for it, then map its file;
    a build may find a newer version than the one asked for, and gives that). Files of other
    versions are removed once one is in place (a worker still mapping one keeps it until it lets
    go: the mapping holds the file)."""
    path = path_for(folder, version)
    if not path.exists():
        with _locked(folder / ".build.lock"):
            if not path.exists():
                built, indexes, malformed = build()
                path = path_for(folder, built)
                save(path, built, indexes, malformed)
    for other in folder.glob(f"*{SUFFIX}"):
        if other != path:
            other.unlink(missing_ok=True)
    return load(path)
