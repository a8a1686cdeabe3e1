"""The catalog_objects filter: a catalog's upload list for s3_content_upload."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_schema import upload_object

DOCUMENTATION = r"""
name: catalog_objects
short_description: The upload list of a catalog, for s3_content_upload
description:
  - For each catalog entry, the local file under the image folder, its content-addressed key in the
    bucket and its Content-Type, in the form C(image_delivery.stack.s3_content_upload) takes.
positional: root
options:
  _input:
    description: Catalog entries (C(path), C(key) and C(content_type) are read).
    type: list
    elements: dict
    required: true
  root:
    description: The image folder the entries' paths are relative to.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Upload the originals
  image_delivery.stack.s3_content_upload:
    bucket: "{{ catalog_bucket }}"
    objects: "{{ indexed.images | image_delivery.stack.catalog_objects(catalog_source_dir) }}"
"""

RETURN = r"""
_value:
  description: Dicts with C(src), C(key) and C(content_type).
  type: list
  elements: dict
"""


def catalog_objects(images: list, root: str) -> list[dict]:
    if not isinstance(images, list) or not isinstance(root, str) or not root:
        raise AnsibleFilterError("catalog_objects expects a list of entries and the image folder")
    try:
        return [upload_object(entry, root) for entry in images]
    except (KeyError, TypeError) as error:
        raise AnsibleFilterError(f"catalog_objects: an entry lacks {error}") from error


class FilterModule:
    def filters(self) -> dict:
        return {"catalog_objects": catalog_objects}
