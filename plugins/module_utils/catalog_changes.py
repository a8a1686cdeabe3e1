# Copyright: image-delivery contributors
# Apache License 2.0
"""What a scan changed in the published catalog, and the new catalog's snapshot.

The published catalog is known two ways: the scan cache records the version its entries made,
so when that is the published version the changes are the lines the scan changed (a million
entries compared without reading any); otherwise every entry is compared with the published
snapshot's. The new snapshot is the previous one patched with the changes (only the chunks that
hold one are compressed again), or, without a previous one to patch, written whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_schema import (
    CatalogSchemaError,
    iter_snapshot_lines,
    parse_json_line,
    patch_snapshot,
    snapshot_of_lines,
    snapshot_version,
    version_of_lines,
)
from ansible_collections.image_delivery.stack.plugins.module_utils.image_scan import (
    CACHE_FORMAT,
    ScanResult,
    kept_records,
)


@dataclass
class CatalogChanges:
    version: str  # the new catalog's
    changes: dict[str, list[str]]  # added, changed, content_changed, removed: sorted ids
    changed_images: list[dict]  # the added and changed entries, sorted by id
    compared_by: str  # "cache", "snapshot" or "none"
    compared_with: str  # the version the changes are from ("" when none)
    snapshot: bytes = b""  # the new catalog's snapshot, when asked for
    snapshot_patched: bool = False  # the previous snapshot patched, not written whole
    unchanged: int = field(default=0)
    hashes_before: dict[str, str] = field(default_factory=dict)  # the previous entries' phash (from the cache)


def catalog_changes(
    result: ScanResult,
    cache: Mapping,
    previous_version: str,
    previous_snapshot: bytes | None,
    want_snapshot: bool,
) -> CatalogChanges:
    """The changes from the published catalog (previous_version, whose snapshot previous_snapshot
    may be) to the scan's, and the new catalog's version and (want_snapshot) its snapshot."""
    snapshot_usable = bool(previous_version) and previous_snapshot is not None
    snapshot_usable = snapshot_usable and _version(previous_snapshot) == previous_version
    hashes_before: dict[str, str] = {}
    touched: set[str] | None = None  # the ids that may differ, when known without comparing all
    if previous_version and cache.get("format") == CACHE_FORMAT and cache.get("version") == previous_version:
        compared_by = "cache"
        if cache.get("collisions") == 0 and result.collisions == 0:
            before, before_shas, hashes_before, touched = _replaced_entries(result)
        else:  # an id taken by two paths, before or now: which path's entry it had is found in order
            records = cache.get("files", {})
            kept = kept_records({path: records[path] for path in sorted(records)})
            before, before_shas, hashes_before = kept.lines, kept.shas, kept.hashes
    elif snapshot_usable:
        before, before_shas = lines_of_snapshot(previous_snapshot, previous_version)
        compared_by = "snapshot"
    else:
        before, before_shas, compared_by = {}, {}, "none"
    current = result.lines
    added, changed, removed = [], [], []
    if touched is not None:
        for image_id in touched:
            line, earlier = current.get(image_id), before.get(image_id)
            if line is None:
                if earlier is not None:
                    removed.append(image_id)
            elif earlier is None:
                added.append(image_id)
            elif earlier != line:
                changed.append(image_id)
    else:
        for image_id, line in current.items():  # one pass; a line reused from the cache is the same object
            earlier = before.get(image_id)
            if earlier is None:
                added.append(image_id)
            elif earlier is not line and earlier != line:
                changed.append(image_id)
        if len(current) - len(added) != len(before):
            removed = list(before.keys() - current.keys())
    added.sort()
    changed.sort()
    removed.sort()
    changes = {
        "added": added,
        "changed": changed,
        "content_changed": [i for i in changed if result.shas[i] != before_shas[i]],
        "removed": removed,
    }
    found = CatalogChanges(
        version="",
        changes=changes,
        changed_images=[parse_json_line(current[i].encode("utf-8")) for i in sorted(added + changed)],
        compared_by=compared_by,
        compared_with=previous_version if compared_by != "none" else "",
        unchanged=len(current) - len(added) - len(changed),
        hashes_before=hashes_before,
    )
    if not want_snapshot:
        found.version = version_of_lines(current)
        return found
    if compared_by != "none" and snapshot_usable:
        patch = {i: current[i] for i in added + changed} | dict.fromkeys(removed)
        try:
            found.version, found.snapshot = patch_snapshot(previous_snapshot, patch)
            found.snapshot_patched = True
            return found
        except CatalogSchemaError:
            pass  # another chunking (an older publisher's): written whole
    found.snapshot = snapshot_of_lines(None, current)
    found.version = snapshot_version(found.snapshot)
    return found


def _replaced_entries(result: ScanResult) -> tuple[dict, dict, dict, set[str]]:
    """The previous entries of the records the scan replaced (their lines, sha256 and phash by id),
    and the ids that may differ: theirs and those of the records it indexed. Every other id kept
    its path's record, so its entry is the one it had (when no id is taken by two paths, before or
    now: then an id has one path, and it is a replaced or indexed one when its entry could differ)."""
    lines, shas, hashes = {}, {}, {}
    for record in result.replaced.values():
        if "id" in record:
            image_id = record["id"]
            lines[image_id], shas[image_id], hashes[image_id] = record["line"], record["sha256"], record["phash"]
    records = result.cache["files"]
    touched = set(lines) | {records[p]["id"] for p in result.indexed if "id" in records[p]}
    return lines, shas, hashes, touched


def lines_of_snapshot(data: bytes, version: str) -> tuple[dict[str, str], dict[str, str]]:
    """A snapshot's entries as their lines and their sha256, by image id."""
    lines, shas = {}, {}
    for entry, line in iter_snapshot_lines(data, version):
        lines[entry["image_id"]] = line.decode("utf-8").rstrip("\n")
        shas[entry["image_id"]] = entry["sha256"]
    return lines, shas


def _version(data: bytes) -> str:
    try:
        return snapshot_version(data)
    except CatalogSchemaError:
        return ""
