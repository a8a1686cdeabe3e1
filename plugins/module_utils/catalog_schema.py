# Copyright: image-delivery contributors
# Apache License 2.0
"""The one definition of a catalog entry, shared by the Ansible plugins and the image API.

Pure Python, standard library only: the collection's modules and filters import it as
``ansible_collections.image_delivery.stack.plugins.module_utils.catalog_schema`` and the API
package vendors this very file at build time, so the two can never disagree on a field.

A catalog entry is a flat dict (see ``ENTRY_FIELDS``). In DynamoDB every entry is one item keyed by
``image_id``; one extra item, ``CATALOG_ITEM_ID``, holds the catalog version that the API polls and
the invalidation paths a publish run has planned but not yet confirmed (a write-ahead record: a run
that dies before invalidating leaves them there, and the next run invalidates them).

Each version is also written whole to the bucket as a snapshot (``snapshot_key``: one gzipped JSON
object, named in the catalog item), which the API loads with one GET instead of scanning the table:
at a million entries a scan is thousands of paged reads per worker, the snapshot one download.
A snapshot is JSON Lines in chunks, each its own gzip member (one gzip stream to any reader): an
entry ends a chunk when its id hashes to a multiple of SNAPSHOT_CHUNK_SPREAD, so a change moves
only the chunks around it, and a publisher patches the previous snapshot (``patch_snapshot``)
instead of compressing a million entries again. The version is a hash of the chunks' digests.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import json.scanner
import re
import unicodedata
import zlib
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping

SCHEMA_VERSION = 1

# Field name -> Python type of its value. Every entry has every field.
ENTRY_FIELDS: dict[str, type] = {
    "image_id": str,  # slug of the path relative to the image folder, without extension
    "name": str,  # file name, e.g. "by-the-water.jpg"
    "path": str,  # path relative to the image folder, "/" separated
    "title": str,
    "tags": list,  # lower-case, unique, sorted strings
    "sha256": str,  # hex digest of the file's bytes
    "key": str,  # content-addressed object key in the bucket
    "content_type": str,
    "format": str,  # jpeg | png | webp | gif
    "width": int,  # as displayed, after EXIF orientation
    "height": int,
    "orientation": str,  # landscape | portrait | square
    "bytes": int,
    "colour": str,  # dominant colour, "#rrggbb"
    "colours": list,  # names (COLOUR_NAMES) of the palette's colours covering 15 % or more, largest first
    "phash": str,  # 64-bit difference hash, 16 hex digits (module_utils/image_hash.py); "" when unknown
    "placeholder": str,  # base64 ThumbHash (module_utils/placeholder.py), painted before the thumbnail; "" when unknown
    "focus": str,  # focal point "x,y" in 0..1 of the image as displayed (the sidecar's focus); "" when none
}
# Fields added after the first release, with the value an item written before them reads as.
_ENTRY_KEYS = frozenset(ENTRY_FIELDS)
_SCAN_JSON = json.scanner.c_make_scanner(json.JSONDecoder())  # (text, index) -> (value, end); no state between calls
_SORTED_FIELDS = tuple(sorted(ENTRY_FIELDS))  # as a snapshot's lines hold them
_SORTED_TYPES = tuple(ENTRY_FIELDS[name] for name in _SORTED_FIELDS)
FIELDS_ADDED_LATER: dict[str, list | str] = {"colours": [], "phash": "", "placeholder": "", "focus": ""}

FORMATS: dict[str, tuple[str, str]] = {
    # format -> (file extension used in keys, Content-Type)
    "jpeg": ("jpg", "image/jpeg"),
    "png": ("png", "image/png"),
    "webp": ("webp", "image/webp"),
    "gif": ("gif", "image/gif"),
}
ORIENTATIONS = ("landscape", "portrait", "square")
# The colour words a person searches with; module_utils/colour_names.py maps a colour to one.
COLOUR_NAMES = ("red", "orange", "yellow", "green", "teal", "blue", "purple", "pink", "brown", "black", "grey", "white")

# The item that carries the catalog's version; slugs never start with "_", so it cannot collide.
CATALOG_ITEM_ID = "_catalog"
# The catalog table's partition key (the storage role creates the table with it).
TABLE_KEY = "image_id"
# Originals live under content-addressed keys below this prefix: a key's bytes never change, so the
# CDN routes the prefix to the bucket, caches it for ever and the planner never invalidates it.
KEY_PREFIX = "images/"
CONTENT_CACHE_CONTROL = "public, max-age=31536000, immutable"
# Catalog snapshots: one object per version below this prefix (not routed by the CDN, which serves
# KEY_PREFIX only); SNAPSHOT_FORMAT changes when their layout does.
SNAPSHOT_PREFIX = "catalog/"
SNAPSHOT_FORMAT = 1
SNAPSHOT_CHUNK_SPREAD = 2048  # an id whose crc32 is a multiple ends a chunk: about this many entries a chunk

_SLUG_SEPARATORS = re.compile(r"[^a-z0-9]+")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # exactly the texts slugify() returns unchanged
_TOKEN = re.compile(r"[a-z0-9]+")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z])(?=[A-Z])")
_COLOUR = re.compile(r"^#[0-9a-f]{6}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_PHASH = re.compile(r"^[0-9a-f]{16}$")
_FOCUS = re.compile(r"^(0(\.\d{1,3})?|1(\.0{1,3})?),(0(\.\d{1,3})?|1(\.0{1,3})?)$")
_PLACEHOLDER = re.compile(r"^[A-Za-z0-9+/]{8,64}={0,2}$")  # base64 of a ThumbHash (5 to 48 bytes)
_STOP_WORDS = frozenset(
    {"a", "an", "and", "at", "by", "for", "from", "in", "is", "of", "on", "the", "this", "that", "to", "with"}
)


class CatalogSchemaError(ValueError):
    """An entry or item that does not follow the schema."""


def _ascii_lower(text: str) -> str:
    if text.isascii():  # what NFKD and dropping non-ASCII would leave unchanged (most texts: fast)
        return text.lower()
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by "-": ``"Animals/Cat Photo"`` -> ``"animals-cat-photo"``."""
    return _SLUG_SEPARATORS.sub("-", _ascii_lower(text)).strip("-")


def image_id_for(relative_path: str) -> str:
    """The stable id of an image: the slug of its relative path without the extension."""
    stem = relative_path.rsplit(".", 1)[0] if "." in relative_path.rsplit("/", 1)[-1] else relative_path
    return slugify(stem)


def content_key(sha256: str, image_id: str, image_format: str) -> str:
    """Content-addressed object key: ``images/<16 hex of sha256>/<image_id>.<ext>``."""
    if not _SHA256.match(sha256):
        raise CatalogSchemaError(f"not a sha256 hex digest: {sha256!r}")
    if image_format not in FORMATS:
        raise CatalogSchemaError(f"unsupported format {image_format!r}; expected one of {sorted(FORMATS)}")
    return f"{KEY_PREFIX}{sha256[:16]}/{image_id}.{FORMATS[image_format][0]}"


def upload_object(entry: Mapping, root: str) -> dict:
    """What s3_content_upload takes for an entry: its file under the image folder root, its content
    key and Content-Type (KeyError or TypeError when the entry lacks one)."""
    return {"src": f"{root.rstrip('/')}/{entry['path']}", "key": entry["key"], "content_type": entry["content_type"]}


def text_tokens(text: str) -> list[str]:
    """Search tokens of a text: camelCase and separators split, lower-cased, stop words and
    one-character or purely numeric tokens dropped, order kept, no repeats."""
    # A slug (every image id) is its own words joined by "-": split, not searched (a third of the time).
    words = text.split("-") if _SLUG.fullmatch(text) else _words(text)
    seen: dict[str, None] = {}
    for token in words:
        if len(token) > 1 and not token.isdigit() and token not in _STOP_WORDS:
            seen.setdefault(token, None)
    return list(seen)


def _words(text: str) -> list[str]:
    """A text's runs of lower-case ASCII letters and digits, camelCase split."""
    spaced = text if text.islower() else _CAMEL_BOUNDARY.sub(" ", text)  # no capital, no boundary
    return _TOKEN.findall(_ascii_lower(spaced))


def normalise_tags(tags: Iterable[str]) -> list[str]:
    """Tags lower-cased, trimmed, inner whitespace collapsed, de-duplicated and sorted."""
    cleaned = {" ".join(_ascii_lower(str(tag)).split()) for tag in tags}
    return sorted(tag for tag in cleaned if tag)


def search_tokens(entry: Mapping) -> list[str]:
    """Every token a search can match for an entry: id, title and tags (tags split into words too)."""
    tokens: dict[str, None] = {}
    for text in (entry.get("image_id", ""), entry.get("title", ""), *entry.get("tags", [])):
        for token in text_tokens(text):
            tokens.setdefault(token, None)
    return list(tokens)


def focus_text(x: float, y: float) -> str:
    """A focal point as the catalog writes it: "x,y", three decimals at most."""
    return ",".join(f"{value:.3f}".rstrip("0").rstrip(".") for value in (x, y))


def focus_point(text: str) -> tuple[float, float] | None:
    """The catalog's "x,y" focal point as numbers; None for ""."""
    if not text:
        return None
    x, y = text.split(",")
    return float(x), float(y)


def orientation_of(width: int, height: int) -> str:
    if width == height:
        return "square"
    return "landscape" if width > height else "portrait"


def validate_entry(entry: Mapping) -> dict:
    """Return a copy of ``entry`` checked against the schema; raise CatalogSchemaError otherwise."""
    check_entry(entry)
    return dict(entry)


def check_entry(entry: Mapping) -> None:
    """Raise CatalogSchemaError unless ``entry`` follows the schema (validate_entry without the
    copy, for an entry the caller has just parsed)."""
    if not isinstance(entry, Mapping):
        raise CatalogSchemaError(f"a catalog entry must be a mapping, got {type(entry).__name__}")
    if entry.keys() != _ENTRY_KEYS:
        missing = sorted(_ENTRY_KEYS - set(entry))
        unknown = sorted(set(entry) - _ENTRY_KEYS)
        raise CatalogSchemaError(f"entry {entry.get('image_id')!r}: missing fields {missing}, unknown fields {unknown}")
    # A snapshot's entries have their keys sorted (snapshot_bytes) and every value of its exact
    # type: checked at once. Any other entry, field by field.
    if tuple(entry) != _SORTED_FIELDS or tuple(map(type, entry.values())) != _SORTED_TYPES:
        _check_types(entry)
    image_id = entry["image_id"]
    if not _SLUG.fullmatch(image_id):  # what slugify leaves unchanged
        raise CatalogSchemaError(f"image_id {image_id!r} is not a slug")
    if entry["format"] not in FORMATS:
        raise CatalogSchemaError(f"entry {image_id!r}: unsupported format {entry['format']!r}")
    if entry["key"] != content_key(entry["sha256"], image_id, entry["format"]):
        raise CatalogSchemaError(f"entry {image_id!r}: key {entry['key']!r} is not its content key")
    if entry["orientation"] != orientation_of(entry["width"], entry["height"]):
        raise CatalogSchemaError(f"entry {image_id!r}: orientation does not match {entry['width']}x{entry['height']}")
    if entry["width"] <= 0 or entry["height"] <= 0 or entry["bytes"] <= 0:
        raise CatalogSchemaError(f"entry {image_id!r}: width, height and bytes must be positive")
    if not _COLOUR.match(entry["colour"]):
        raise CatalogSchemaError(f"entry {image_id!r}: colour {entry['colour']!r} is not #rrggbb")
    if entry["phash"] and not _PHASH.match(entry["phash"]):
        raise CatalogSchemaError(f"entry {image_id!r}: phash {entry['phash']!r} is not 16 hex digits")
    if entry["placeholder"] and not _PLACEHOLDER.match(entry["placeholder"]):
        shown = entry["placeholder"][:20]
        raise CatalogSchemaError(f"entry {image_id!r}: placeholder {shown!r} is not a base64 ThumbHash")
    if entry["focus"] and not _FOCUS.match(entry["focus"]):
        raise CatalogSchemaError(f"entry {image_id!r}: focus {entry['focus'][:20]!r} is not x,y between 0 and 1")
    colours = entry["colours"]
    if not all(name in COLOUR_NAMES for name in colours) or len(set(colours)) != len(colours):
        raise CatalogSchemaError(f"entry {image_id!r}: colours must be distinct names of {', '.join(COLOUR_NAMES)}")
    if not tags_are_normal(entry["tags"]):
        raise CatalogSchemaError(f"entry {image_id!r}: tags must be lower-case, unique and sorted")


def _check_types(entry: Mapping) -> None:
    for field, kind in ENTRY_FIELDS.items():
        value = entry[field]
        if type(value) is kind:  # the common case, and the only int accepted (bool is an int too)
            continue
        if kind is int or not isinstance(value, kind):
            article = "an integer" if kind is int else kind.__name__
            raise CatalogSchemaError(f"entry {entry['image_id']!r}: {field} must be {article}, got {value!r}")


def tags_are_normal(tags: list) -> bool:
    """Whether tags are as normalise_tags leaves them (checked without normalising: a loader
    checks a million entries' tags)."""
    for place, tag in enumerate(tags):
        if not (type(tag) is str and tag and tag.isascii() and tag == tag.lower() and tag == " ".join(tag.split())):
            return False
        if place and tags[place - 1] >= tag:
            return False
    return True


def catalog_version(entries: Iterable[Mapping], spread: int | None = None) -> str:
    """A version that changes exactly when any entry changes: 16 hex of a hash of the digests of
    the sorted entries' snapshot chunks (the same version snapshot_bytes and patch_snapshot give)."""
    return version_of_lines({entry["image_id"]: snapshot_line(entry) for entry in entries}, spread)


def version_of_lines(lines: Mapping[str, str], spread: int | None = None) -> str:
    """catalog_version of the entries given as their snapshot_line by image id."""
    runs = _runs([(image_id, _line_of(lines[image_id])) for image_id in sorted(lines)], spread or SNAPSHOT_CHUNK_SPREAD)
    return _version_of([hashlib.sha256(b"".join(run)).hexdigest() for _, run in runs])


def catalog_diff(previous: Iterable[Mapping], current: Iterable[Mapping]) -> dict[str, list[str]]:
    """Compare two catalogs by image_id.

    Returns sorted id lists: ``added``, ``removed``, ``changed`` (any field differs),
    ``content_changed`` (the subset of ``changed`` whose bytes differ) and ``unchanged``.
    """
    before = {entry["image_id"]: entry for entry in previous}
    after = {entry["image_id"]: entry for entry in current}
    common = before.keys() & after.keys()
    changed = sorted(i for i in common if dict(before[i]) != dict(after[i]))
    return {
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": changed,
        "content_changed": [i for i in changed if before[i]["sha256"] != after[i]["sha256"]],
        "unchanged": sorted(common - set(changed)),
    }


def to_item(entry: Mapping) -> dict:
    """A validated entry as a DynamoDB item in the low-level attribute-value format."""
    item: dict[str, dict] = {}
    for field, value in validate_entry(entry).items():
        if ENTRY_FIELDS[field] is int:
            item[field] = {"N": str(value)}
        elif ENTRY_FIELDS[field] is list:
            item[field] = {"L": [{"S": tag} for tag in value]}
        else:
            item[field] = {"S": value}
    return item


def from_item(item: Mapping) -> dict:
    """The entry a DynamoDB item (low-level format) holds; raises CatalogSchemaError when malformed.
    Attributes it does not know are left out (a newer publisher's), fields added since an item was
    written take their default (an older publisher's), so a rolling upgrade reads both."""
    entry: dict = {}
    try:
        for field, kind in ENTRY_FIELDS.items():
            if field not in item and field in FIELDS_ADDED_LATER:
                default = FIELDS_ADDED_LATER[field]
                entry[field] = list(default) if isinstance(default, list) else default
                continue
            value = item[field]
            if kind is int:
                entry[field] = int(value["N"])
            elif kind is list:
                entry[field] = [element["S"] for element in value.get("L", [])]
            else:
                entry[field] = value["S"]
    except (KeyError, TypeError, ValueError) as error:
        raise CatalogSchemaError(f"item {item.get('image_id')!r} is not a catalog entry: {error!r}") from error
    return validate_entry(entry)


def catalog_item(
    version: str, image_count: int, pending_paths: Iterable[str] = (), snapshot: str = "", writing: str = ""
) -> dict:
    """The DynamoDB item that announces a catalog version (and any invalidation still to confirm),
    naming the version's snapshot in the bucket when there is one; ``writing`` names the version a
    publish is writing the entries of (until it announces it: the table's entries may be neither
    version's, and the next publish reads the table, not the snapshot)."""
    item = {
        "image_id": {"S": CATALOG_ITEM_ID},
        "schema": {"N": str(SCHEMA_VERSION)},
        "version": {"S": version},
        "image_count": {"N": str(image_count)},
    }
    paths = sorted(set(pending_paths))
    if paths:
        item["pending_paths"] = {"L": [{"S": path} for path in paths]}
    if snapshot:
        item["snapshot"] = {"S": snapshot}
    if writing:
        item["writing"] = {"S": writing}
    return item


def read_catalog_item(item: Mapping | None) -> dict:
    """The plain values of the catalog item (empty version when the table has none yet)."""
    if not item:
        return {"version": "", "image_count": 0, "pending_paths": [], "snapshot": "", "writing": ""}
    return {
        "version": item.get("version", {}).get("S", ""),
        "image_count": int(item.get("image_count", {}).get("N", "0")),
        "pending_paths": [path["S"] for path in item.get("pending_paths", {}).get("L", [])],
        "snapshot": item.get("snapshot", {}).get("S", ""),
        "writing": item.get("writing", {}).get("S", ""),
    }


def snapshot_key(version: str) -> str:
    return f"{SNAPSHOT_PREFIX}{version}.json.gz"


def snapshot_bytes(version: str, entries: Iterable[Mapping], spread: int | None = None) -> bytes:
    """The version's snapshot: a header line, then one entry per line sorted by id (JSON Lines, so
    a reader can index entries as they stream in, never holding them all as objects), in chunks of
    about ``spread`` entries, each its own gzip member without a time stamp: the same catalog
    always gives the same bytes. The header lists the chunks (first id, entries, digest, bytes)."""
    spread = spread or SNAPSHOT_CHUNK_SPREAD
    ordered = sorted(entries, key=lambda e: e["image_id"])
    runs = _runs([(entry["image_id"], _line_of(entry)) for entry in ordered], spread)
    return _assemble(version, spread, [_chunk_of(ids, lines) for ids, lines in runs])


def patch_snapshot(
    data: bytes, changes: Mapping[str, Mapping | str | None], spread: int | None = None
) -> tuple[str, bytes]:
    """The snapshot after changes (image_id -> its new entry or its snapshot_line, or None to
    remove it) and its version: byte for byte what snapshot_bytes gives for the changed catalog,
    but only the chunks that hold a change are decompressed and compressed again; the others are
    copied. Raises
    CatalogSchemaError when data is not a chunked snapshot of this spread (write it whole)."""
    spread = spread or SNAPSHOT_CHUNK_SPREAD
    header, members = _snapshot_members(data, spread)
    chunks = [tuple(chunk) for chunk in header["chunks"]]
    firsts = [chunk[0] for chunk in chunks]
    by_chunk: dict[int, dict[str, Mapping | str | None]] = {}
    for image_id, entry in changes.items():
        by_chunk.setdefault(max(bisect_right(firsts, image_id) - 1, 0), {})[image_id] = entry
    if not chunks:  # an empty catalog: everything is new
        by_chunk, members = ({0: dict(changes)}, [b""]) if changes else ({}, [])
        chunks = [("", 0, "", 0)] if changes else []
    patched: list[tuple[tuple, bytes]] = []
    number = 0
    while number < len(chunks):
        if number not in by_chunk:
            patched.append((chunks[number], members[number]))
            number += 1
            continue
        lines: dict[str, bytes] = {}
        while True:  # this chunk, and the next ones while the last line no longer ends a chunk
            lines.update(_member_lines(members[number]))
            for image_id, entry in by_chunk.get(number, {}).items():
                if entry is None:
                    lines.pop(image_id, None)
                else:
                    lines[image_id] = _line_of(entry)
            number += 1
            last = max(lines) if lines else None
            if number == len(chunks) or (last is not None and _ends_chunk(last, spread)):
                break
        ordered = sorted(lines.items())
        patched += [_chunk_of(ids, run) for ids, run in _runs(ordered, spread)]
    return _version_of([chunk[2] for chunk, _ in patched]), _assemble(None, spread, patched)


def snapshot_line(entry: Mapping) -> str:
    """An entry's line in a snapshot, without its newline: compact JSON, keys sorted."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _line_of(entry: Mapping | str) -> bytes:
    """An entry's line in a snapshot (an entry, or its snapshot_line), UTF-8, ending in a newline."""
    return (entry if isinstance(entry, str) else snapshot_line(entry)).encode("utf-8") + b"\n"


def snapshot_of_lines(version: str | None, lines: Mapping[str, str], spread: int | None = None) -> bytes:
    """snapshot_bytes from the entries' snapshot_line by image id (version None: the chunks' own,
    which is catalog_version's), for a caller that keeps entries as their lines."""
    spread = spread or SNAPSHOT_CHUNK_SPREAD
    runs = _runs([(image_id, _line_of(lines[image_id])) for image_id in sorted(lines)], spread)
    return _assemble(version, spread, [_chunk_of(ids, run) for ids, run in runs])


def snapshot_header(data: bytes) -> dict:
    """A snapshot's header: format, version, entries (CatalogSchemaError when it has none)."""
    try:
        header = json.loads(zlib.decompressobj(wbits=31).decompress(data))
    except (zlib.error, ValueError) as error:
        raise CatalogSchemaError(f"the catalog snapshot has no header: {error!r}") from error
    if (
        not isinstance(header, dict)
        or not isinstance(header.get("version"), str)
        or type(header.get("entries")) is not int
    ):
        raise CatalogSchemaError("the catalog snapshot has no header naming its version and entries")
    return header


def snapshot_version(data: bytes) -> str:
    """The version a snapshot's header names (CatalogSchemaError when it has none)."""
    return snapshot_header(data)["version"]


def _ends_chunk(image_id: str, spread: int) -> bool:
    return zlib.crc32(image_id.encode("utf-8")) % spread == 0


def _runs(pairs: list[tuple[str, bytes]], spread: int) -> list[tuple[list[str], list[bytes]]]:
    """Sorted (id, line) pairs cut into chunks: after each id that ends one, and at the end."""
    runs, ids, lines = [], [], []
    for image_id, line in pairs:
        ids.append(image_id)
        lines.append(line)
        if _ends_chunk(image_id, spread):
            runs.append((ids, lines))
            ids, lines = [], []
    if ids:
        runs.append((ids, lines))
    return runs


def _chunk_of(ids: list[str], lines: list[bytes]) -> tuple[tuple, bytes]:
    """A chunk's header record (first id, entries, digest of its lines, bytes) and gzip member."""
    text = b"".join(lines)
    member = gzip.compress(text, compresslevel=6, mtime=0)
    return (ids[0], len(ids), hashlib.sha256(text).hexdigest(), len(member)), member


def _version_of(digests: list[str]) -> str:
    return hashlib.sha256(f"{SCHEMA_VERSION}:{','.join(digests)}".encode()).hexdigest()[:16]


def _assemble(version: str | None, spread: int, chunks: list[tuple[tuple, bytes]]) -> bytes:
    """A snapshot from its chunks (version None: the chunks' own)."""
    header = {
        "format": SNAPSHOT_FORMAT,
        "version": version or _version_of([chunk[2] for chunk, _ in chunks]),
        "entries": sum(chunk[1] for chunk, _ in chunks),
        "chunk_spread": spread,
        "chunks": [list(chunk) for chunk, _ in chunks],
    }
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    return b"".join([gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0), *(m for _, m in chunks)])


def _snapshot_members(data: bytes, spread: int) -> tuple[dict, list[bytes]]:
    """A chunked snapshot's header and its chunks' gzip members."""
    reader = zlib.decompressobj(wbits=31)  # one gzip member: the header's
    try:
        header = json.loads(reader.decompress(data))
    except (zlib.error, ValueError) as error:
        raise CatalogSchemaError(f"the catalog snapshot has no header: {error}") from error
    if not isinstance(header, dict) or header.get("chunk_spread") != spread or not reader.eof:
        raise CatalogSchemaError(f"the catalog snapshot is not in chunks of spread {spread}")
    if header.get("version") != _version_of([chunk[2] for chunk in header.get("chunks", [])]):
        raise CatalogSchemaError("the catalog snapshot's version is not its chunks'")
    rest, members, offset = reader.unused_data, [], 0
    for chunk in header.get("chunks", []):
        members.append(rest[offset : offset + chunk[3]])
        offset += chunk[3]
    if offset != len(rest):
        raise CatalogSchemaError("the catalog snapshot's chunks do not add up to its length")
    return header, members


def _member_lines(member: bytes) -> dict[str, bytes]:
    """A chunk's lines by image id."""
    if not member:
        return {}
    lines = gzip.decompress(member).splitlines(keepends=True)
    return {parse_json_line(line)["image_id"]: line for line in lines}


def parse_json_line(line: bytes) -> object:
    """One JSON value, as json.loads reads it but without its checks of encoding and leading
    whitespace (a snapshot's lines are UTF-8 and start with their value): a third less time a line,
    of a million lines. ValueError when the line is not exactly one JSON value."""
    text = line.decode("utf-8")
    try:
        value, end = _SCAN_JSON(text, 0)
    except StopIteration as error:  # the scanner's way to say that no value starts there
        raise ValueError(f"no JSON value at character {error.value}") from None
    if text[end:].strip():
        raise ValueError(f"more than one JSON value in the line (from character {end})")
    return value


def iter_snapshot(data: bytes, version: str) -> Iterator[dict]:
    """The entries of a snapshot as they are decompressed, validated; the snapshot must be of this
    version and hold as many entries as its header says (CatalogSchemaError otherwise)."""
    return (entry for entry, _line in iter_snapshot_lines(data, version))


def iter_snapshot_lines(data: bytes, version: str) -> Iterator[tuple[dict, bytes]]:
    """As iter_snapshot, each entry with its line (its compact JSON, kept as the API's record)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            header = json.loads(stream.readline() or b"null")
            if not isinstance(header, dict) or header.get("format") != SNAPSHOT_FORMAT:
                raise CatalogSchemaError(f"the catalog snapshot is not of format {SNAPSHOT_FORMAT}")
            if header.get("version") != version:
                raise CatalogSchemaError(
                    f"the catalog snapshot holds version {header.get('version')!r}, not {version!r}"
                )
            count = 0
            for line in stream:
                entry = parse_json_line(line)
                check_entry(entry)  # parsed here: no copy needed
                yield entry, line
                count += 1
    except CatalogSchemaError:
        raise
    except (OSError, EOFError, ValueError) as error:  # gzip and JSON failures
        raise CatalogSchemaError(f"the catalog snapshot is not gzipped JSON lines: {error}") from error
    if count != header.get("entries"):
        raise CatalogSchemaError(f"the catalog snapshot holds {count} entries, its header says {header.get('entries')}")


def read_snapshot(data: bytes, version: str) -> list[dict]:
    """Every entry of a snapshot (see iter_snapshot)."""
    return list(iter_snapshot(data, version))
