"""Parsing and bounding of the search query string."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .catalog_schema import COLOUR_NAMES, FORMATS, ORIENTATIONS, normalise_tags
from .config import Settings
from .errors import bad_request

IMAGE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_ID_LENGTH = 200
MAX_TAGS = 10
MAX_MIN_WIDTH = 100_000
# "_" is read and ignored: a cache buster (any value) for clients that must reach the origin, as
# jQuery's cache: false sends it; being known, it is the one parameter that changes nothing.
SEARCH_PARAMETERS = ("q", "tags", "format", "orientation", "colour", "min_width", "limit", "cursor", "facets", "_")
FACETS = ("tags", "colour", "format", "orientation")


@dataclass(frozen=True)
class SearchQuery:
    text: str
    filters: dict = field(default_factory=dict)
    limit: int = 20
    offset: int = 0
    facets: tuple[str, ...] = ()


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))["o"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeEncodeError):
        raise bad_request("cursor is not one this API returned") from None
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= 10_000_000:
        raise bad_request("cursor is not one this API returned")
    return offset


def bounded_int(query: Mapping[str, str], name: str, low: int, high: int, default: int) -> int:
    raw = query.get(name, "")
    if raw == "":
        return default
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses (a 500, not a 400).
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 7 or not low <= int(raw) <= high:
        raise bad_request(f"{name} must be an integer from {low} to {high}, got {raw[:20]!r}")
    return int(raw)


def parse_search(query: Mapping[str, str], settings: Settings) -> SearchQuery:
    text = query.get("q", "")
    if len(text) > settings.max_query_length:
        raise bad_request(f"q is longer than {settings.max_query_length} characters")
    tags = normalise_tags(t for t in query.get("tags", "").split(",") if t.strip())
    if len(tags) > MAX_TAGS:
        raise bad_request(f"at most {MAX_TAGS} tags")
    image_format = query.get("format", "")
    if image_format and image_format not in FORMATS:
        raise bad_request(f"format must be one of {', '.join(FORMATS)}")
    orientation = query.get("orientation", "")
    if orientation and orientation not in ORIENTATIONS:
        raise bad_request(f"orientation must be one of {', '.join(ORIENTATIONS)}")
    colour = query.get("colour", "")
    if colour and colour not in COLOUR_NAMES:
        raise bad_request(f"colour must be one of {', '.join(COLOUR_NAMES)}")
    facets = tuple(dict.fromkeys(name.strip() for name in query.get("facets", "").split(",") if name.strip()))
    unknown_facets = [name for name in facets if name not in FACETS]
    if unknown_facets:
        raise bad_request(f"facets are any of {', '.join(FACETS)}, not {', '.join(unknown_facets)[:60]}")
    min_width = bounded_int(query, "min_width", 0, MAX_MIN_WIDTH, 0)
    limit = bounded_int(query, "limit", 1, settings.max_search_limit, settings.search_limit)
    offset = decode_cursor(query["cursor"]) if query.get("cursor") else 0
    filters = {
        "tags": tags,
        "format": image_format,
        "orientation": orientation,
        "colour": colour,
        "min_width": min_width,
    }
    return SearchQuery(text, filters, limit, offset, facets)


def checked_image_id(image_id: str) -> str:
    if len(image_id) > MAX_ID_LENGTH or not IMAGE_ID.match(image_id):
        raise bad_request("an image id is lower-case letters, digits and single hyphens")
    return image_id
