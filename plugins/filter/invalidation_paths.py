"""The invalidation_paths filter: the minimal CloudFront invalidation of a catalog change."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.image_delivery.stack.plugins.module_utils.invalidation_plan import (
    PlanError,
    plan_paths,
    rules_from,
)

DOCUMENTATION = r"""
name: invalidation_paths
short_description: The minimal CloudFront invalidation paths for a catalog change
description:
  - From a catalog change (the C(changes) that the image_catalog module returns, or a catalog_diff)
    and the distribution's path rules, the sorted list of paths to invalidate. Content-addressed
    keys are never in it; groups of more than C(collapse_above) paths in one folder collapse to the
    folder's wildcard; never more than C(max_wildcards) (at most 15) wildcards.
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


class FilterModule:
    def filters(self) -> dict:
        return {"invalidation_paths": invalidation_paths}
