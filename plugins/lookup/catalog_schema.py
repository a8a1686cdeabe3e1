"""Lookup plugin: the catalog schema's fixed values, for the roles that must agree with it."""

from __future__ import annotations

DOCUMENTATION = r"""
name: catalog_schema
short_description: Values fixed by the catalog schema (content key prefix, table key, Cache-Control)
description:
  - The catalog schema (C(plugins/module_utils/catalog_schema.py)) is the one place these values
    live; the app validates entries against it. Roles read them through this lookup instead of
    copying them, so the storage table, the CDN's content behaviour, the upload and the invalidation
    planner cannot drift apart.
options:
  _terms:
    description:
      - Names of the values, one or more of C(key_prefix) (the originals' key prefix, C(images/)),
        C(table_key) (the catalog table's partition key) and C(content_cache_control) (the
        Cache-Control of content-addressed originals).
    required: true
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Route the originals' keys to the bucket
  ansible.builtin.set_fact:
    content_path_pattern: "/{{ lookup('image_delivery.stack.catalog_schema', 'key_prefix') }}*"
"""

RETURN = r"""
_raw:
  description: The values, in the order asked.
  type: list
  elements: str
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_schema import (
    CONTENT_CACHE_CONTROL,
    KEY_PREFIX,
    TABLE_KEY,
)

SCHEMA_VALUES = {
    "key_prefix": KEY_PREFIX,
    "table_key": TABLE_KEY,
    "content_cache_control": CONTENT_CACHE_CONTROL,
}


def schema_values(names: list[str]) -> list[str]:
    unknown = [name for name in names if name not in SCHEMA_VALUES]
    if unknown:
        raise AnsibleLookupError(f"catalog_schema: unknown value(s) {unknown}; known: {sorted(SCHEMA_VALUES)}")
    return [SCHEMA_VALUES[name] for name in names]


class LookupModule(LookupBase):
    def run(self, terms: list, variables: dict | None = None, **kwargs) -> list[str]:
        return schema_values([str(term) for term in terms])
