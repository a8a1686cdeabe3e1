# Copyright: image-delivery contributors
# Apache License 2.0
"""Scan an image folder into catalog entries, incrementally.

A cache maps each relative path to the signature of the files it was built from (the image's and
its sidecar's size and mtime) and to the result (an entry, or the reason it was skipped). A file
whose signature did not change is neither read nor decoded again.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_schema import (
    FORMATS,
    content_key,
    focus_text,
    image_id_for,
    normalise_tags,
    orientation_of,
    text_tokens,
)
from ansible_collections.image_delivery.stack.plugins.module_utils.image_inspect import (
    ImageFacts,
    ImageRejected,
    inspect_image,
)


def _default_yaml_loader() -> Callable[[str], object]:
    try:
        import yaml  # ships with ansible-core

        return yaml.safe_load
    except ImportError:
        return json.loads


DEFAULT_INCLUDE = ["*.jpg", "*.jpeg", "*.png", "*.webp", "*.gif"]
DEFAULT_EXCLUDE = [".*", "*/.*"]
SIDECAR_SUFFIXES = (".yml", ".yaml", ".json")
# 2: entries carry their palette's colour names and a perceptual hash; 3: a placeholder; 4: a focus
CACHE_FORMAT = 4


@dataclass
class ScanResult:
    entries: list[dict]
    skipped: list[dict]  # {"path", "reason"}
    duplicates: list[list[str]]  # groups of image ids with identical bytes
    cache: dict  # the cache to store for the next scan
    stats: dict = field(default_factory=dict)


def matches(relative_path: str, include: Iterable[str], exclude: Iterable[str]) -> bool:
    """Case-insensitive fnmatch on the "/" separated relative path ("*" also matches "/")."""
    lowered = relative_path.lower()
    return any(fnmatch.fnmatchcase(lowered, p.lower()) for p in include) and not any(
        fnmatch.fnmatchcase(lowered, p.lower()) for p in exclude
    )


def list_files(root: Path) -> dict[str, list[int]]:
    """Every regular file under root (symlinks not followed) -> [size, mtime_ns], one stat each."""
    found: dict[str, list[int]] = {}
    folders = [(root, "")]
    while folders:
        folder, prefix = folders.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                relative = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    folders.append((Path(entry.path), relative + "/"))
                elif entry.is_file(follow_symlinks=False):
                    stat = entry.stat(follow_symlinks=False)
                    found[relative] = [stat.st_size, stat.st_mtime_ns]
    return found


def find_images(root: Path, include: Iterable[str], exclude: Iterable[str]) -> list[str]:
    """Sorted relative paths of the files under root that the patterns select."""
    include, exclude = list(include), list(exclude)
    return sorted(relative for relative in list_files(root) if matches(relative, include, exclude))


def sidecar_of(relative: str, files: Mapping[str, list[int]]) -> str | None:
    """The relative path of an image's sidecar (<stem>.yml, .yaml or .json) among the listed files."""
    stem = relative.rsplit(".", 1)[0]
    return next((stem + suffix for suffix in SIDECAR_SUFFIXES if stem + suffix in files), None)


def parse_sidecar(text: str, suffix: str, load_yaml: Callable[[str], object]) -> dict:
    """Title, description and tags from a sidecar's text; ValueError with a reason when malformed."""
    data = json.loads(text) if suffix == ".json" else load_yaml(text)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("a sidecar must be a mapping with title, description, tags and focus")
    unknown = sorted(set(data) - {"title", "description", "tags", "focus"})
    if unknown:
        raise ValueError(f"unknown sidecar keys {unknown}; allowed: title, description, tags, focus")
    tags = data.get("tags", [])
    if isinstance(tags, str):
        tags = [tag for tag in tags.split(",")]
    if not isinstance(tags, list) or not all(isinstance(tag, (str, int)) for tag in tags):
        raise ValueError("sidecar tags must be a list of words or a comma-separated string")
    for key in ("title", "description"):
        if not isinstance(data.get(key, ""), str):
            raise ValueError(f"sidecar {key} must be a string")
    return {
        "title": data.get("title", ""),
        "description": data.get("description", ""),
        "tags": [str(t) for t in tags],
        "focus": parse_focus(data.get("focus")),
    }


def parse_focus(value: object) -> str:
    """A sidecar's focal point, [x, y] in 0..1 of the image as displayed (0, 0 top left), as the
    catalog's "x,y" text; "" without one. ValueError with a reason when malformed."""
    if value is None:
        return ""
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(n, (int, float)) and not isinstance(n, bool) and 0 <= n <= 1 for n in value)
    ):
        raise ValueError(f"sidecar focus must be [x, y] with both between 0 and 1, got {value!r}")
    return focus_text(float(value[0]), float(value[1]))


def humanised_title(relative_path: str) -> str:
    stem = Path(relative_path).stem
    words = " ".join(text_tokens_keep_all(stem))
    return words[:1].upper() + words[1:]


def text_tokens_keep_all(text: str) -> list[str]:
    """Words of a file name for a title: separators become spaces, nothing dropped."""
    return [word for word in "".join(c if c.isalnum() else " " for c in text).split() if word]


def build_entry(relative_path: str, data: bytes, facts: ImageFacts, sidecar: Mapping) -> dict:
    """One catalog entry from the file's bytes, its inspected facts and its sidecar."""
    image_id = image_id_for(relative_path)
    sha256 = hashlib.sha256(data).hexdigest()
    path_words = text_tokens(relative_path.rsplit(".", 1)[0])
    description = sidecar.get("description") or facts.description
    title = sidecar.get("title") or facts.title or facts.description or humanised_title(relative_path)
    tags = normalise_tags([*path_words, *sidecar.get("tags", []), *text_tokens(description), *facts.keywords])
    return {
        "image_id": image_id,
        "name": relative_path.rsplit("/", 1)[-1],
        "path": relative_path,
        "title": title.strip(),
        "tags": tags,
        "sha256": sha256,
        "key": content_key(sha256, image_id, facts.format),
        "content_type": FORMATS[facts.format][1],
        "format": facts.format,
        "width": facts.width,
        "height": facts.height,
        "orientation": orientation_of(facts.width, facts.height),
        "bytes": len(data),
        "colour": facts.colour,
        "colours": facts.colours,
        "phash": facts.phash,
        "placeholder": facts.placeholder,
        "focus": sidecar.get("focus", ""),
    }


def signature_of(relative: str, files: Mapping[str, list[int]]) -> list:
    """What a cached record is valid for: the image's size and mtime, and its sidecar's."""
    sidecar = sidecar_of(relative, files)
    return [files[relative], None if sidecar is None else [sidecar, *files[sidecar]]]


def _index_one(root: Path, relative: str, files: Mapping, max_pixels: int, load_yaml: Callable) -> dict:
    """The cache record of one file: its signature plus an entry or a skip reason."""
    record: dict = {"signature": signature_of(relative, files)}
    sidecar = sidecar_of(relative, files)
    try:
        data = (root / relative).read_bytes()
    except OSError as error:
        record["skipped"] = f"unreadable: {error.strerror or error}"
        return record
    try:
        details = {}
        if sidecar is not None:
            suffix = "." + sidecar.rsplit(".", 1)[1]
            try:
                details = parse_sidecar((root / sidecar).read_text(encoding="utf-8"), suffix, load_yaml)
            except Exception as error:  # any parse error (JSON, YAML, encoding) is the sidecar's fault
                raise ImageRejected(f"sidecar {sidecar.rsplit('/', 1)[-1]}: {error}") from None
        record["entry"] = build_entry(relative, data, inspect_image(data, max_pixels), details)
    except ImageRejected as rejected:
        record["skipped"] = str(rejected)
    return record


def scan(
    root: Path,
    include: Iterable[str] = DEFAULT_INCLUDE,
    exclude: Iterable[str] = DEFAULT_EXCLUDE,
    max_pixels: int = 64_000_000,
    cache: Mapping | None = None,
    workers: int = 0,
    load_yaml: Callable[[str], object] | None = None,
) -> ScanResult:
    """Index every selected image under root, reusing cached records whose signature still matches."""
    load_yaml = load_yaml or _default_yaml_loader()
    cached = (cache or {}).get("files", {}) if (cache or {}).get("format") == CACHE_FORMAT else {}
    files = list_files(root)
    include, exclude = list(include), list(exclude)
    paths = sorted(relative for relative in files if matches(relative, include, exclude))
    records: dict[str, dict] = {}
    to_index = []
    for relative in paths:
        previous = cached.get(relative)
        if previous is not None and previous.get("signature") == signature_of(relative, files):
            records[relative] = previous
        else:
            to_index.append(relative)
    with ThreadPoolExecutor(max_workers=workers or min(8, (os.cpu_count() or 1) + 1)) as pool:
        indexed = pool.map(lambda rel: _index_one(root, rel, files, max_pixels, load_yaml), to_index)
        for relative, record in zip(to_index, indexed, strict=True):
            records[relative] = record

    entries, skipped, owners = [], [], {}
    for relative in paths:
        record = records[relative]
        if "skipped" in record:
            skipped.append({"path": relative, "reason": record["skipped"]})
            continue
        entry = record["entry"]
        owner = owners.setdefault(entry["image_id"], relative)
        if owner != relative:
            skipped.append({"path": relative, "reason": f"image_id {entry['image_id']!r} is already used by {owner}"})
            continue
        entries.append(entry)
    by_content: dict[str, list[str]] = {}
    for entry in entries:
        by_content.setdefault(entry["sha256"], []).append(entry["image_id"])
    duplicates = sorted(sorted(ids) for ids in by_content.values() if len(ids) > 1)
    return ScanResult(
        entries=entries,
        skipped=skipped,
        duplicates=duplicates,
        cache={"format": CACHE_FORMAT, "files": records},
        stats={"files": len(paths), "indexed": len(to_index), "from_cache": len(paths) - len(to_index)},
    )
