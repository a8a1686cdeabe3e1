"""Each entry as two JSON texts, written once when a catalog version is loaded: its card, which a
search answer splices in as the entry's summary (no record decoded and encoded again per answer:
that was four fifths of a search answer's time, bench/api.py), and the rest of its fields. The
entry whole (record) is read back from the two, for the answers about one image.

A card holds what the summary takes from the entry (CARD_FIELDS and the aspect ratio) as JSON
members, then a NUL byte (which JSON text never holds raw) and the original's object key. The
parts that depend on the API's settings (its CDN base URL, the widths and the signing key) are
added per answer: the URLs (app.py). Neither text is compressed: compressing a million entries took
a fifth of their cold load (bench/scale.py).
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring

from .catalog_schema import ENTRY_FIELDS

# The entry's fields in a summary, in this order, then its aspect ratio.
CARD_FIELDS = ("title", "tags", "width", "height", "format", "orientation", "colour", "colours", "placeholder")
# The entry's other fields (the id is the catalog's, the key the card's), in the schema's order.
REST_FIELDS = tuple(name for name in ENTRY_FIELDS if name not in (*CARD_FIELDS, "image_id", "key"))
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


def rest(entry: Mapping) -> bytes:
    """The entry's REST_FIELDS as JSON members (a field it lacks is left out)."""
    return _ENCODE({name: entry[name] for name in REST_FIELDS if name in entry})[1:-1].encode()


def entry_of(
    image_id: str, card_text: bytes | bytearray | memoryview, rest_text: bytes | bytearray | memoryview
) -> dict:
    """The entry whole again, from its id, card and rest (a field it lacked stays out)."""
    members, key = split_card(card_text)
    entry = json.loads(f"{{{members},{str(rest_text, 'utf-8')}}}" if rest_text else f"{{{members}}}")
    del entry["aspect_ratio"]
    entry = {name: value for name, value in entry.items() if value is not None}  # what a partial card lacked
    entry["image_id"] = image_id
    if key:
        entry["key"] = key
    return entry


@dataclass(frozen=True)
class Texts:
    """A text for every entry by ordinal: one run of bytes, entry n's at run[offsets[n]:offsets[n + 1]]."""

    run: bytes | bytearray | memoryview
    offsets: Sequence[int]

    def of(self, ordinal: int) -> bytes | bytearray | memoryview:
        return self.run[self.offsets[ordinal] : self.offsets[ordinal + 1]]

    def __len__(self) -> int:
        return len(self.offsets) - 1


class TextsBuilder:
    def __init__(self) -> None:
        self.run, self.offsets = bytearray(), array("Q", [0])

    def add(self, text: bytes) -> None:
        self.run += text
        self.offsets.append(len(self.run))

    def finish(self) -> Texts:
        return Texts(self.run, self.offsets)  # not copied: a million cards are 250 MB
