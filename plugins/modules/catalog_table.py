#!/usr/bin/python
# Copyright: image-delivery contributors
# Apache License 2.0

from __future__ import annotations

DOCUMENTATION = r"""
---
module: catalog_table
short_description: Make the DynamoDB catalog table hold exactly the given catalog
description:
  - Reads the table, then writes only what differs - new and changed entries are put, entries no longer
    in O(images) (and items that do not follow the catalog schema) are deleted, in batches of 25 with
    unprocessed items retried.
  - Keeps one extra item (C(image_id=_catalog)) holding the catalog version, which the image API polls
    to reload, the entry count, and O(pending_paths) - invalidation paths a publish run has planned
    but not yet confirmed. Pending paths are written before the entries (write-ahead), and the
    version after them, so the API never sees a version whose entries are not all written.
  - Without O(images), only the pending paths are updated (the entries and version stay).
  - In check mode reports what would be written.
author: Image Delivery Contributors (@image-delivery)
options:
  table:
    description: Table name (partition key C(image_id), string).
    type: str
    required: true
  images:
    description: The whole catalog, as returned by the image_catalog module.
    type: list
    elements: dict
  pending_paths:
    description: Invalidation paths to record as pending; C([]) clears them.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Publish the catalog, recording the invalidation still to do
  catalog_table:
    table: "{{ storage_table }}"
    images: "{{ catalog.images }}"
    pending_paths: "{{ planned_paths }}"

- name: Confirm the invalidation
  catalog_table:
    table: "{{ storage_table }}"
    pending_paths: []
"""

RETURN = r"""
put:
  description: Ids written (or that would be).
  returned: always
  type: list
  elements: str
deleted:
  description: Ids deleted (or that would be).
  returned: always
  type: list
  elements: str
version:
  description: The catalog version now announced.
  returned: always
  type: str
previous_version:
  description: The version the table announced before.
  returned: always
  type: str
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_schema import (
    CatalogSchemaError,
    catalog_item,
    catalog_version,
    validate_entry,
)
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_table import (
    WritePlan,
    plan_writes,
    read_table,
    write_catalog_item,
    write_entries,
)


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            table=dict(type="str", required=True),
            images=dict(type="list", elements="dict"),
            pending_paths=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    images = params["images"]
    try:
        entries = None if images is None else [validate_entry(entry) for entry in images]
    except CatalogSchemaError as error:
        module.fail_json(msg=f"images: {error}")
    if entries is not None and len({e["image_id"] for e in entries}) != len(entries):
        module.fail_json(msg="images: duplicate image_id values")

    client = module.client("dynamodb", retry_decorator=AWSRetry.jittered_backoff())
    table = params["table"]
    try:
        stored = read_table(client, table)
        if not stored.table_exists and not module.check_mode:
            module.fail_json(msg=f"table {table} does not exist; run the infrastructure play first")
        plan = plan_writes(stored, entries) if entries is not None else WritePlan([], [])
        version = catalog_version(entries) if entries is not None else stored.catalog["version"]
        count = len(entries) if entries is not None else stored.catalog["image_count"]
        pending = sorted(set(params["pending_paths"]))
        wanted_catalog = {"version": version, "image_count": count, "pending_paths": pending}
        catalog_changes = wanted_catalog != stored.catalog
        changed = bool(plan.put or plan.delete or catalog_changes)
        if changed and not module.check_mode:
            if pending and pending != stored.catalog["pending_paths"] and (plan.put or plan.delete):
                previous = stored.catalog
                write_catalog_item(client, table, catalog_item(previous["version"], previous["image_count"], pending))
            if entries is not None:
                write_entries(client, table, {e["image_id"]: e for e in entries}, plan)
            if catalog_changes:
                write_catalog_item(client, table, catalog_item(version, count, pending))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg=f"Could not publish the catalog to table {table}")
    except RuntimeError as error:
        module.fail_json(msg=str(error))
    module.exit_json(
        changed=changed,
        put=plan.put,
        deleted=plan.delete,
        version=version,
        previous_version=stored.catalog["version"],
    )


if __name__ == "__main__":
    main()
