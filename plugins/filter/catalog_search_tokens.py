"""The catalog_search_tokens filter: the words a search can match for one catalog entry."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_schema import search_tokens

DOCUMENTATION = r"""
name: catalog_search_tokens
short_description: The search tokens of one catalog entry
description:
  - The lower-case tokens of an entry's id, title and tags (tags also split into words), computed by
    the function the image API indexes with, so a play can check what a search will find before it
    publishes.
options:
  _input:
    description: One catalog entry.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check that the launch picture is found by "rocket"
  ansible.builtin.assert:
    that: "'rocket' in (entry | image_delivery.stack.catalog_search_tokens)"
"""

RETURN = r"""
_value:
  description: The entry's search tokens, without duplicates, in first-seen order.
  type: list
  elements: str
"""


def catalog_search_tokens(entry: Mapping) -> list[str]:
    if not isinstance(entry, Mapping):
        raise AnsibleFilterError("catalog_search_tokens expects a catalog entry")
    return search_tokens(entry)


class FilterModule:
    def filters(self) -> dict:
        return {"catalog_search_tokens": catalog_search_tokens}
