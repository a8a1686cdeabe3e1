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

from ansible.module_utils.catalog_schema import (
    FORMATS,
    content_key,
    image_id_for,
    normalise_tags,
    orientation_of,
    text_tokens,
)
from ansible.module_utils.image_inspect import ImageFacts, ImageRejected, inspect_image

DEFAULT_INCLUDE = ["*.jpg", "*.jpeg", "*.png", "*.webp", "*.gif"]
DEFAULT_EXCLUDE = [".*", "*/.*"]
SIDECAR_SUFFIXES = (".yml", ".yaml", ".json")
CACHE_FORMAT = 1


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


def find_images(root: Path, include: Iterable[str], exclude: Iterable[str]) -> list[str]:
    """Sorted relative paths of the files under root that the patterns select (symlinks not followed)."""
    include, exclude = list(include), list(exclude)
    found = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            relative = (Path(folder) / name).relative_to(root).as_posix()
            if matches(relative, include, exclude) and not (Path(folder) / name).is_symlink():
                found.append(relative)
    return sorted(found)


def sidecar_for(image_path: Path) -> Path | None:
    for suffix in SIDECAR_SUFFIXES:
        candidate = image_path.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None


def parse_sidecar(text: str, suffix: str, load_yaml: Callable[[str], object]) -> dict:
    """Title, description and tags from a sidecar's text; ValueError with a reason when malformed."""
    data = json.loads(text) if suffix == ".json" else load_yaml(text)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("a sidecar must be a mapping with title, description and tags")
    unknown = sorted(set(data) - {"title", "description", "tags"})
    if unknown:
        raise ValueError(f"unknown sidecar keys {unknown}; allowed: title, description, tags")
    tags = data.get("tags", [])
    if isinstance(tags, str):
        tags = [tag for tag in tags.split(",")]
    if not isinstance(tags, list) or not all(isinstance(tag, (str, int)) for tag in tags):
        raise ValueError("sidecar tags must be a list of words or a comma-separated string")
    for key in ("title", "description"):
        if not isinstance(data.get(key, ""), str):
            raise ValueError(f"sidecar {key} must be a string")
    return {"title": data.get("title", ""), "description": data.get("description", ""), "tags": [str(t) for t in tags]}


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
    }


def file_signature(path: Path | None) -> list[int] | None:
    if path is None:
        return None
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def _index_one(root: Path, relative: str, max_pixels: int, load_yaml: Callable) -> dict:
    """The cache record of one file: its signature plus an entry or a skip reason."""
    image_path = root / relative
    sidecar_path = sidecar_for(image_path)
    record: dict = {"signature": [file_signature(image_path), relative_sidecar(root, sidecar_path)]}
    try:
        data = image_path.read_bytes()
    except OSError as error:
        record["skipped"] = f"unreadable: {error.strerror or error}"
        return record
    try:
        sidecar = {}
        if sidecar_path is not None:
            try:
                sidecar = parse_sidecar(sidecar_path.read_text(encoding="utf-8"), sidecar_path.suffix, load_yaml)
            except (ValueError, OSError, UnicodeDecodeError) as error:
                raise ImageRejected(f"sidecar {sidecar_path.name}: {error}") from None
            except Exception as error:  # YAML parser errors have no common base class we can import here
                raise ImageRejected(f"sidecar {sidecar_path.name}: {error}") from None
        record["entry"] = build_entry(relative, data, inspect_image(data, max_pixels), sidecar)
    except ImageRejected as rejected:
        record["skipped"] = str(rejected)
    return record


def relative_sidecar(root: Path, sidecar_path: Path | None) -> list | None:
    if sidecar_path is None:
        return None
    return [sidecar_path.relative_to(root).as_posix(), *file_signature(sidecar_path)]


def current_signature(root: Path, relative: str) -> list:
    image_path = root / relative
    return [file_signature(image_path), relative_sidecar(root, sidecar_for(image_path))]


def scan(
    root: Path,
    include: Iterable[str] = DEFAULT_INCLUDE,
    exclude: Iterable[str] = DEFAULT_EXCLUDE,
    max_pixels: int = 64_000_000,
    cache: Mapping | None = None,
    workers: int = 0,
    load_yaml: Callable[[str], object] = json.loads,
) -> ScanResult:
    """Index every selected image under root, reusing cached records whose signature still matches."""
    cached = (cache or {}).get("files", {}) if (cache or {}).get("format") == CACHE_FORMAT else {}
    paths = find_images(root, include, exclude)
    records: dict[str, dict] = {}
    to_index = []
    for relative in paths:
        try:
            signature = current_signature(root, relative)
        except OSError:
            signature = None
        previous = cached.get(relative)
        if previous is not None and signature is not None and previous.get("signature") == signature:
            records[relative] = previous
        else:
            to_index.append(relative)
    with ThreadPoolExecutor(max_workers=workers or min(8, (os.cpu_count() or 1) + 1)) as pool:
        indexed = pool.map(lambda rel: _index_one(root, rel, max_pixels, load_yaml), to_index)
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
