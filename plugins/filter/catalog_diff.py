"""The catalog_diff filter: two image catalogs compared by image id."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_schema import (
    CatalogSchemaError,
    catalog_diff,
    validate_entry,
)

DOCUMENTATION = r"""
name: catalog_diff
short_description: Compare two image catalogs by image id
description:
  - Validates both lists of catalog entries (the fields of plugins/module_utils/catalog_schema.py)
    and compares them by C(image_id). Fails on the first invalid entry, so a hand-edited catalog is
    never published half right.
positional: current
options:
  _input:
    description: The catalog before (for example what C(image_delivery.stack.catalog_table_info) read).
    type: list
    elements: dict
    required: true
  current:
    description: The catalog after (for example what C(image_delivery.stack.image_catalog) indexed).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Say what a publish would change
  ansible.builtin.debug:
    msg: "{{ published.images | image_delivery.stack.catalog_diff(indexed.images) }}"
"""

RETURN = r"""
_value:
  description:
    - Sorted image id lists - C(added), C(removed), C(changed) (any field differs), C(content_changed)
      (the changed ones whose bytes differ) and C(unchanged).
  type: dict
"""


def catalog_diff_filter(previous: list, current: list) -> dict:
    try:
        return catalog_diff([validate_entry(e) for e in previous], [validate_entry(e) for e in current])
    except (CatalogSchemaError, TypeError) as error:
        raise AnsibleFilterError(f"catalog_diff: {error}") from error


class FilterModule:
    def filters(self) -> dict:
        return {"catalog_diff": catalog_diff_filter}
