# Copyright: image-delivery contributors
# Apache License 2.0
"""Plan CloudFront invalidations for a catalog change: which paths, in which batches, under which
caller references. Pure functions; the filter and the cloudfront_invalidate module both use them.

Content-addressed keys (``/images/<hash>/...``, the catalog schema's KEY_PREFIX) never change, so
they are never invalidated: the prefix is immutable whatever the rules say. Only
mutable responses are: the ones that depend on the whole catalog (search results, ``/image/<name>``
redirects), and the ones that depend on one entry (its metadata, its resized variants).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_schema import KEY_PREFIX

# CloudFront limits (per distribution, in progress at once).
MAX_FILE_PATHS = 3000
MAX_WILDCARD_PATHS = 15
FREE_PATHS_PER_MONTH = 1000
PRICE_PER_PATH_USD = 0.005
PATH_PLACEHOLDER = "{image_id}"
CONTENT_PATH_PREFIX = f"/{KEY_PREFIX}"


class PlanError(ValueError):
    """Rules or inputs the planner cannot work with."""


@dataclass(frozen=True)
class InvalidationRules:
    on_any_change: tuple[str, ...] = ()  # paths that depend on the whole catalog
    per_entry: tuple[str, ...] = ()  # templates for added, changed and removed ids
    per_content: tuple[str, ...] = ()  # templates for added, content-changed and removed ids
    immutable: tuple[str, ...] = ()  # path prefixes that must never be invalidated
    collapse_above: int = 20  # more paths than this under one folder become "<folder>/*"
    max_wildcards: int = MAX_WILDCARD_PATHS


def is_wildcard(path: str) -> bool:
    return path.endswith("*")


def covers(wildcard: str, path: str) -> bool:
    """Whether a wildcard path (ending in "*") covers another path or wildcard."""
    return is_wildcard(wildcard) and wildcard != path and path.startswith(wildcard[:-1])


def overlaps_immutable(path: str, immutable: Iterable[str]) -> bool:
    stem = path[:-1] if is_wildcard(path) else path
    return any(stem.startswith(prefix) or (is_wildcard(path) and prefix.startswith(stem)) for prefix in immutable)


def check_path(path: str, what: str) -> None:
    if not isinstance(path, str) or not path.startswith("/"):
        raise PlanError(f"{what} {path!r} must be a string starting with '/'")
    if "*" in path[:-1]:
        raise PlanError(f"{what} {path!r}: '*' is only allowed as the last character")
    if any(c.isspace() for c in path):
        raise PlanError(f"{what} {path!r} contains whitespace")


def rules_from(mapping: Mapping) -> InvalidationRules:
    """Rules from a plain mapping (as written in YAML), checked; PlanError names the bad value. The
    content keys' prefix is always immutable, listed or not."""
    if not isinstance(mapping, Mapping):
        raise PlanError(f"invalidation rules must be a mapping, got {type(mapping).__name__}")
    known = set(InvalidationRules.__dataclass_fields__)
    unknown = sorted(set(mapping) - known)
    if unknown:
        raise PlanError(f"unknown invalidation rule keys {unknown}; known: {sorted(known)}")
    values: dict = {}
    for name in ("on_any_change", "per_entry", "per_content", "immutable"):
        paths = mapping.get(name, [])
        if isinstance(paths, str) or not isinstance(paths, Iterable):
            raise PlanError(f"{name} must be a list of paths")
        for path in paths:
            check_path(path, name)
            if name in ("per_entry", "per_content") and PATH_PLACEHOLDER not in path:
                raise PlanError(f"{name} template {path!r} must contain {PATH_PLACEHOLDER}")
            if name not in ("per_entry", "per_content") and "{" in path:
                raise PlanError(f"{name} path {path!r} cannot contain a placeholder")
        values[name] = tuple(paths)
    values["immutable"] = tuple(dict.fromkeys((CONTENT_PATH_PREFIX, *values["immutable"])))
    for name in ("collapse_above", "max_wildcards"):
        if name in mapping:
            number = mapping[name]
            if isinstance(number, bool) or not isinstance(number, int) or number < 1:
                raise PlanError(f"{name} must be a positive integer, got {number!r}")
            values[name] = number
    if values.get("max_wildcards", MAX_WILDCARD_PATHS) > MAX_WILDCARD_PATHS:
        raise PlanError(f"max_wildcards cannot exceed CloudFront's limit of {MAX_WILDCARD_PATHS}")
    rules = InvalidationRules(**values)
    for name in ("on_any_change", "per_entry", "per_content"):
        for path in getattr(rules, name):
            if overlaps_immutable(path.replace(PATH_PLACEHOLDER, "x"), rules.immutable):
                raise PlanError(f"{name} path {path!r} overlaps an immutable prefix {list(rules.immutable)}")
    return rules


def affected_paths(changes: Mapping, rules: InvalidationRules) -> set[str]:
    """Every mutable path a catalog change makes stale, before any collapsing."""
    entry_ids = {*changes.get("added", []), *changes.get("changed", []), *changes.get("removed", [])}
    content_ids = {*changes.get("added", []), *changes.get("content_changed", []), *changes.get("removed", [])}
    if not entry_ids:
        return set()
    paths = set(rules.on_any_change)
    paths.update(t.replace(PATH_PLACEHOLDER, i) for t in rules.per_entry for i in entry_ids)
    paths.update(t.replace(PATH_PLACEHOLDER, i) for t in rules.per_content for i in content_ids)
    return paths


def _without_covered(paths: set[str]) -> set[str]:
    """Drop every path a wildcard in the set covers: O(paths x path length) prefix lookups."""
    stems = {p[:-1] for p in paths if is_wildcard(p)}

    def covered(path: str) -> bool:
        own = path[:-1] if is_wildcard(path) else None
        return any(path[:end] in stems and path[:end] != own for end in range(len(path) + 1))

    return {p for p in paths if not covered(p)}


def _parent_wildcard(path: str) -> str:
    stem = path[:-1] if is_wildcard(path) else path
    if stem.endswith("/"):  # "/img/*" -> "/*"
        stem = stem[:-1]
    return stem[: stem.rindex("/") + 1] + "*"


def _depth(path: str) -> int:
    return path.rstrip("*").rstrip("/").count("/")


def _collapse(paths: set[str], rules: InvalidationRules, threshold: int) -> set[str]:
    """Replace every group of more than `threshold` paths in one folder by the folder's wildcard."""
    groups: dict[str, list[str]] = {}
    for path in paths:
        if path != "/*":
            groups.setdefault(_parent_wildcard(path), []).append(path)
    result = set(paths)
    for parent, members in groups.items():
        if len(members) > threshold and not overlaps_immutable(parent, rules.immutable):
            result.difference_update(members)
            result.add(parent)
    return _without_covered(result)


def plan_paths(changes: Mapping, rules: InvalidationRules, pending: Iterable[str] = ()) -> list[str]:
    """The minimal sorted path list covering a change (plus paths still pending from an earlier run).

    Groups of more than ``rules.collapse_above`` paths in one folder collapse to the folder's
    wildcard (one billed path instead of many); if the wildcards then exceed ``rules.max_wildcards``,
    the deepest ones collapse into their parents until they fit. Nothing overlapping an immutable
    prefix is ever produced.
    """
    pending = list(pending)
    for path in pending:
        check_path(path, "pending path")
    paths = _without_covered(affected_paths(changes, rules) | set(pending))
    for path in paths:
        if overlaps_immutable(path, rules.immutable):
            raise PlanError(f"path {path!r} overlaps an immutable prefix {list(rules.immutable)}")
    paths = _collapse(paths, rules, rules.collapse_above)
    while sum(map(is_wildcard, paths)) > rules.max_wildcards:
        deepest = max(_depth(p) for p in paths if is_wildcard(p))
        if deepest == 0:
            raise PlanError(f"more than {rules.max_wildcards} top-level wildcards are needed: {sorted(paths)}")
        collapsible = {p for p in paths if _depth(p) == deepest}
        merged = _collapse(collapsible, rules, 0)
        if merged == collapsible:
            raise PlanError(f"cannot fit the change into {rules.max_wildcards} wildcards: {sorted(paths)}")
        paths = _without_covered((paths - collapsible) | merged)
    return sorted(paths)


def batches(paths: Iterable[str], max_files: int = MAX_FILE_PATHS, max_wildcards: int = MAX_WILDCARD_PATHS):
    """Split paths into invalidation batches within CloudFront's per-request limits."""
    paths = sorted(set(paths))
    wildcards = [p for p in paths if is_wildcard(p)]
    files = [p for p in paths if not is_wildcard(p)]
    result = []
    while wildcards or files:
        batch = wildcards[:max_wildcards] + files[:max_files]
        wildcards, files = wildcards[max_wildcards:], files[max_files:]
        result.append(sorted(batch))
    return result


def caller_reference(version: str, batch: Iterable[str]) -> str:
    """The same change (catalog version and paths) always gets the same reference, so a rerun
    recognises an invalidation it already created."""
    digest = hashlib.sha256(json.dumps(sorted(batch)).encode()).hexdigest()[:20]
    return f"catalog-{version}-{digest}"


def billable_paths(paths_this_month: int, free_paths: int = FREE_PATHS_PER_MONTH) -> int:
    return max(0, paths_this_month - free_paths)
