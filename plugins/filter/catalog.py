"""Filters for the image catalog: diffs, search tokens, upload lists and the invalidation plan."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.image_delivery.stack.plugins.module_utils import catalog_schema as _schema
from ansible_collections.image_delivery.stack.plugins.module_utils import invalidation_plan as _planner

CatalogSchemaError = _schema.CatalogSchemaError
catalog_diff = _schema.catalog_diff
search_tokens = _schema.search_tokens
validate_entry = _schema.validate_entry
PlanError = _planner.PlanError
plan_paths = _planner.plan_paths
rules_from = _planner.rules_from

DOCUMENTATION = r"""
name: invalidation_paths
short_description: The minimal CloudFront invalidation paths for a catalog change
description:
  - From a catalog change (the C(changes) that the image_catalog module returns, or a catalog_diff)
    and the distribution's path rules, the sorted list of paths to invalidate. Content-addressed
    keys are never in it; groups of more than C(collapse_above) paths in one folder collapse to the
    folder's wildcard; never more than C(max_wildcards) (at most 15) wildcards.
  - Also provided by this file, documented in EXAMPLES - C(catalog_diff), C(catalog_search_tokens),
    C(catalog_objects).
positional: rules
options:
  _input:
    description: The change, with id lists C(added), C(changed), C(content_changed), C(removed).
    type: dict
    required: true
  rules:
    description:
      - C(on_any_change) (paths stale after any change), C(per_entry) and C(per_content) (templates
        with C({image_id}) for changed entries and changed bytes), C(immutable) (prefixes never
        invalidated), C(collapse_above), C(max_wildcards).
    type: dict
    required: true
  pending:
    description: Paths left pending by an earlier run, merged into the plan.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Plan the invalidation of a publish run
  ansible.builtin.set_fact:
    paths: "{{ catalog.changes | invalidation_paths(catalog_invalidation_rules, pending=published.pending_paths) }}"

- name: Compare two catalogs
  ansible.builtin.debug:
    msg: "{{ old_images | catalog_diff(new_images) }}"

- name: Words a search can match for an entry
  ansible.builtin.debug:
    msg: "{{ entry | catalog_search_tokens }}"

- name: Files to upload (src, key, content_type) for a catalog read from a folder
  ansible.builtin.debug:
    msg: "{{ catalog.images | catalog_objects('/srv/images') }}"
"""

RETURN = r"""
_value:
  description: Sorted invalidation paths (empty when nothing changed).
  type: list
  elements: str
"""

CHANGE_KEYS = ("added", "changed", "content_changed", "removed")


def invalidation_paths(changes: Mapping, rules: Mapping, pending: list | None = None) -> list[str]:
    if not isinstance(changes, Mapping) or not all(isinstance(changes.get(key, []), list) for key in CHANGE_KEYS):
        raise AnsibleFilterError(f"invalidation_paths expects a change with id lists {list(CHANGE_KEYS)}")
    try:
        return plan_paths(changes, rules_from(rules), pending or [])
    except PlanError as error:
        raise AnsibleFilterError(f"invalidation_paths: {error}") from error


def catalog_diff_filter(previous: list, current: list) -> dict:
    try:
        return catalog_diff([validate_entry(e) for e in previous], [validate_entry(e) for e in current])
    except (CatalogSchemaError, TypeError) as error:
        raise AnsibleFilterError(f"catalog_diff: {error}") from error


def catalog_search_tokens(entry: Mapping) -> list[str]:
    if not isinstance(entry, Mapping):
        raise AnsibleFilterError("catalog_search_tokens expects a catalog entry")
    return search_tokens(entry)


def catalog_objects(images: list, root: str) -> list[dict]:
    """Upload list for s3_content_upload: the local file, its content key and Content-Type."""
    if not isinstance(images, list) or not isinstance(root, str) or not root:
        raise AnsibleFilterError("catalog_objects expects a list of entries and the image folder")
    try:
        return [
            {"src": f"{root.rstrip('/')}/{e['path']}", "key": e["key"], "content_type": e["content_type"]}
            for e in images
        ]
    except (KeyError, TypeError) as error:
        raise AnsibleFilterError(f"catalog_objects: an entry lacks {error}") from error


class FilterModule:
    def filters(self) -> dict:
        return {
            "invalidation_paths": invalidation_paths,
            "catalog_diff": catalog_diff_filter,
            "catalog_search_tokens": catalog_search_tokens,
            "catalog_objects": catalog_objects,
        }
