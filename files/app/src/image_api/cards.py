"""The cards a search answer lists: each entry's summary as JSON text, written once when a catalog
version is loaded, so an answer splices the texts of its page instead of decoding records and
encoding them again (that was four fifths of a search answer's time, bench/api.py).

A card holds what the summary takes from the entry (CARD_FIELDS and the aspect ratio) as JSON
members, then a NUL byte (which JSON text never holds raw) and the original's object key. The
parts that depend on the API's settings (its CDN base URL, the widths and the signing key) are
added per answer: the URLs (app.py).
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring

# The entry's fields in a summary, in this order, then its aspect ratio.
CARD_FIELDS = ("title", "tags", "width", "height", "format", "orientation", "colour", "colours", "placeholder")
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_TEXT = encode_basestring  # a str as JSON text, as _ENCODE writes it
_KEY_MARK = b"\0"  # split_card splits there


def card(entry: Mapping) -> bytes:
    """The entry's card: its summary fields as JSON members, then NUL and its object key."""
    try:  # a loaded entry is whole and validated: its fields written straight (half the time)
        return _whole_card(entry)
    except (KeyError, TypeError, ZeroDivisionError):
        return _partial_card(entry)


def _whole_card(entry: Mapping) -> bytes:
    text, width, height = _TEXT, entry["width"], entry["height"]
    return (
        f'"title":{text(entry["title"])},"tags":[{",".join(map(text, entry["tags"]))}],'
        f'"width":{width:d},"height":{height:d},"format":{text(entry["format"])},'
        f'"orientation":{text(entry["orientation"])},"colour":{text(entry["colour"])},'
        f'"colours":[{",".join(map(text, entry["colours"]))}],"placeholder":{text(entry["placeholder"])},'
        f'"aspect_ratio":{round(width / height, 4)!r}\0{entry["key"]}'
    ).encode()


def _partial_card(entry: Mapping) -> bytes:
    """The card of an entry that lacks fields (as in tests of the index alone): those are null."""
    fields = {name: entry.get(name) for name in CARD_FIELDS}
    width, height = entry.get("width"), entry.get("height")
    fields["aspect_ratio"] = round(width / height, 4) if width and height else None
    return _ENCODE(fields)[1:-1].encode() + _KEY_MARK + entry.get("key", "").encode()


def split_card(text: bytes | memoryview) -> tuple[str, str]:
    """(JSON members, object key) of a card."""
    members, _, key = str(text, "utf-8").partition("\0")
    return members, key


@dataclass(frozen=True)
class Cards:
    """Every entry's card by ordinal: one run of bytes, entry n's at run[offsets[n]:offsets[n + 1]]."""

    run: bytes | bytearray | memoryview
    offsets: Sequence[int]

    def of(self, ordinal: int) -> bytes | bytearray | memoryview:
        return self.run[self.offsets[ordinal] : self.offsets[ordinal + 1]]

    def __len__(self) -> int:
        return len(self.offsets) - 1


class CardsBuilder:
    def __init__(self) -> None:
        self.run, self.offsets = bytearray(), array("Q", [0])

    def add(self, entry: Mapping) -> None:
        self.run += card(entry)
        self.offsets.append(len(self.run))

    def finish(self) -> Cards:
        return Cards(self.run, self.offsets)  # not copied: a million cards are 250 MB
