#!/usr/bin/python
# Copyright: image-delivery contributors
# Apache License 2.0

from __future__ import annotations

DOCUMENTATION = r"""
---
module: catalog_table_info
short_description: Read the catalog published in the DynamoDB table
description:
  - Returns the announced catalog version and the invalidation paths still pending from an earlier
    publish run (see catalog_table).
  - With O(snapshot_dir), reads only the version item, and keeps a local copy of the version's
    snapshot there (downloaded from O(snapshot_bucket) when the copy is missing or of another
    version), so RV(previous_file) and RV(previous_version) are the catalog to compare a new scan with,
    without reading a million items. When the version names no snapshot, the snapshot is gone, or a
    publish stopped while writing entries (the version item's C(writing)), the table is scanned
    instead and its entries written as the local copy, RV(previous_version) their version.
  - Without O(snapshot_dir), scans the table and returns its entries in RV(images). Items that do
    not follow the catalog schema are listed in RV(malformed) rather than failing the task.
  - The local copy is written in check mode too (a working file of the publish, not the stack's).
author: Image Delivery Contributors (@image-delivery)
options:
  table:
    description: Table name.
    type: str
    required: true
  snapshot_bucket:
    description: Bucket holding the catalog snapshots (see catalog_table).
    type: str
    default: ""
  snapshot_dir:
    description: Folder for the local copy of the published snapshot; other snapshot copies in it are removed.
    type: path
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the published catalog
  catalog_table_info:
    table: "{{ storage_table }}"
  register: published

- name: Read the published version and keep a local copy of its snapshot
  catalog_table_info:
    table: "{{ storage_table }}"
    snapshot_bucket: "{{ storage_bucket }}"
    snapshot_dir: "{{ stack_state_dir }}/published"
  register: published
"""

RETURN = r"""
images:
  description: The entries, sorted by id.
  returned: without O(snapshot_dir)
  type: list
  elements: dict
previous_file:
  description: The local copy of the published catalog's snapshot ("" when nothing is published).
  returned: with O(snapshot_dir)
  type: str
previous_version:
  description: The version of RV(previous_file) (the announced one, or that of the scanned entries).
  returned: with O(snapshot_dir)
  type: str
read_from:
  description: C(snapshot) when the published snapshot was used, C(table) when the table was scanned.
  returned: with O(snapshot_dir)
  type: str
version:
  description: The announced catalog version (empty when nothing was published yet).
  returned: always
  type: str
image_count:
  description: The entry count recorded with the version.
  returned: always
  type: int
snapshot:
  description: The key of the version's snapshot in the bucket ("" when it has none).
  returned: always
  type: str
writing:
  description: The version a publish began writing and did not announce ("" when none).
  returned: always
  type: str
pending_paths:
  description: Invalidation paths planned by a run that did not confirm them.
  returned: always
  type: list
  elements: str
table_exists:
  description: Whether the table exists (a check-mode run before the first deploy finds none).
  returned: always
  type: bool
malformed:
  description: Ids of items that do not follow the catalog schema.
  returned: always
  type: list
  elements: str
"""

import os

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_schema import (
    CATALOG_ITEM_ID,
    TABLE_KEY,
    CatalogSchemaError,
    catalog_version,
    read_catalog_item,
    snapshot_bytes,
    snapshot_version,
)
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_table import read_table
from ansible_collections.image_delivery.stack.plugins.module_utils.local_files import write_atomically


def local_version(path: str) -> str:
    """The version of a local snapshot copy ("" when missing or unreadable)."""
    try:
        with open(path, "rb") as handle:
            return snapshot_version(handle.read(1 << 20))  # the header is in its first member
    except (OSError, CatalogSchemaError):
        return ""


def write_local(folder: str, name: str, data: bytes) -> str:
    """Write a snapshot copy atomically as folder/name and remove the folder's other copies."""
    path = os.path.join(folder, name)
    write_atomically(path, data)
    for other in os.listdir(folder):
        if other != name and other.endswith(".json.gz"):
            os.remove(os.path.join(folder, other))
    return path


def published_copy(module, client, table: str, bucket: str, folder: str) -> dict:
    """The published catalog as a local snapshot copy: the version's own when it can be trusted,
    else the table's entries as scanned."""
    item = client.get_item(TableName=table, Key={TABLE_KEY: {"S": CATALOG_ITEM_ID}}, ConsistentRead=True)
    catalog = read_catalog_item(item.get("Item"))
    if catalog["snapshot"] and bucket and not catalog["writing"]:
        name = os.path.basename(catalog["snapshot"])
        path = os.path.join(folder, name)
        try:
            if local_version(path) != catalog["version"]:
                s3 = module.client("s3", retry_decorator=AWSRetry.jittered_backoff())
                data = s3.get_object(Bucket=bucket, Key=catalog["snapshot"], aws_retry=True)["Body"].read()
                if snapshot_version(data) != catalog["version"]:
                    raise CatalogSchemaError("the snapshot is not of its version")
                path = write_local(folder, name, data)
            return dict(catalog, previous_file=path, previous_version=catalog["version"], read_from="snapshot")
        except is_boto3_error_code(["404", "NoSuchKey", "NotFound"]):
            pass  # lost: the table is read instead
        except CatalogSchemaError as error:  # damaged, or not the version it is named for
            module.warn(f"the snapshot {catalog['snapshot']} is not usable ({error}): reading the table instead")
    stored = read_table(client, table)
    entries = [stored.entries[i] for i in sorted(stored.entries)]
    if not entries:
        return dict(catalog, previous_file="", previous_version="", read_from="table", malformed=stored.malformed)
    version = catalog_version(entries)
    path = write_local(folder, f"scanned-{version}.json.gz", snapshot_bytes(version, entries))
    return dict(catalog, previous_file=path, previous_version=version, read_from="table", malformed=stored.malformed)


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            table=dict(type="str", required=True),
            snapshot_bucket=dict(type="str", default=""),
            snapshot_dir=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    client = module.client("dynamodb", retry_decorator=AWSRetry.jittered_backoff())
    table = module.params["table"]
    try:
        if module.params["snapshot_dir"]:
            try:
                found = published_copy(
                    module, client, table, module.params["snapshot_bucket"], module.params["snapshot_dir"]
                )
            except client.exceptions.ResourceNotFoundException:
                found = dict(
                    read_catalog_item(None),
                    previous_file="",
                    previous_version="",
                    read_from="table",
                    table_exists=False,
                )
            module.exit_json(changed=False, **{"malformed": [], "table_exists": True, **found})
        stored = read_table(client, table)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg=f"Could not read the catalog table {table}")
    module.exit_json(
        changed=False,
        images=[stored.entries[i] for i in sorted(stored.entries)],
        malformed=stored.malformed,
        table_exists=stored.table_exists,
        **stored.catalog,
    )


if __name__ == "__main__":
    main()
