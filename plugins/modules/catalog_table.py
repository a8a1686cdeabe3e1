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
  - With O(snapshot_bucket), each version is also written whole to that bucket as one gzipped JSON
    object (C(catalog/<version>.json.gz)) before the version item names it, so the image API loads
    a version with one GET instead of scanning the table; snapshots of versions before the previous
    one are deleted after the switch.
  - With O(catalog_file) (the new catalog's snapshot, as the image_catalog module writes it) instead
    of O(images), the file is the snapshot uploaded, and when the table still announces
    O(changes_from), the version the image_catalog module compared with, only O(changed_images) are
    put and O(removed) deleted, without reading the table's entries. Otherwise (another version was
    published since, a publish stopped while writing entries, nothing to compare with) the table is
    scanned and made to hold exactly the file's entries.
  - While it writes entries, the version item names the version being written (C(writing)), so a
    run that stops half way makes the next one read the table rather than trust the snapshot.
  - Without O(images), only the pending paths are updated (the entries and version stay).
  - In check mode reports what would be written.
author: Image Delivery Contributors (@image-delivery)
options:
  table:
    description: Table name (partition key C(image_id), string).
    type: str
    required: true
  images:
    description: The whole catalog, as returned by the image_catalog module. Mutually exclusive with O(catalog_file).
    type: list
    elements: dict
  catalog_file:
    description: The new catalog's snapshot file (the image_catalog module's O(catalog_file)).
    type: path
  changes_from:
    description: The version the changes in O(changed_images) and O(removed) are from ("" for none).
    type: str
    default: ""
  changed_images:
    description: The entries added or changed since O(changes_from).
    type: list
    elements: dict
    default: []
  removed:
    description: The ids removed since O(changes_from).
    type: list
    elements: str
    default: []
  pending_paths:
    description: Invalidation paths to record as pending; C([]) clears them.
    type: list
    elements: str
    default: []
  snapshot_bucket:
    description: Bucket to write the catalog snapshot to; empty for none.
    type: str
    default: ""
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
snapshot:
  description: The snapshot's key in O(snapshot_bucket) that the version item names ("" without one).
  returned: always
  type: str
read_table:
  description: Whether the table's entries were read to plan the writes (not only the changes given).
  returned: always
  type: bool
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_schema import (
    CATALOG_ITEM_ID,
    SNAPSHOT_PREFIX,
    TABLE_KEY,
    CatalogSchemaError,
    catalog_item,
    catalog_version,
    read_catalog_item,
    read_snapshot,
    snapshot_bytes,
    snapshot_header,
    snapshot_key,
    validate_entry,
)
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_table import (
    StoredCatalog,
    WritePlan,
    plan_writes,
    read_table,
    write_catalog_item,
    write_entries,
)


def object_exists(s3, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key, aws_retry=True)
    except is_boto3_error_code(["404", "NoSuchKey", "NotFound"]):
        return False
    return True


def write_snapshot(s3, bucket: str, key: str, data: bytes) -> None:
    s3.put_object(
        Bucket=bucket, Key=key, Body=data, ContentType="application/json", ContentEncoding="gzip", aws_retry=True
    )


def delete_snapshots(s3, bucket: str, keep: set[str]) -> None:
    """Delete the snapshots under SNAPSHOT_PREFIX that are not in keep."""
    stale = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=SNAPSHOT_PREFIX):
        stale += [{"Key": item["Key"]} for item in page.get("Contents", []) if item["Key"] not in keep]
    for start in range(0, len(stale), 1000):  # DeleteObjects takes 1,000 keys at most
        s3.delete_objects(Bucket=bucket, Delete={"Objects": stale[start : start + 1000], "Quiet": True}, aws_retry=True)


def read_version_item(client, table: str) -> StoredCatalog:
    """The table as its version item only (its entries not read); marked missing when it is."""
    try:
        item = client.get_item(TableName=table, Key={TABLE_KEY: {"S": CATALOG_ITEM_ID}}, ConsistentRead=True)
    except client.exceptions.ResourceNotFoundException:
        return StoredCatalog({}, [], read_catalog_item(None), table_exists=False)
    return StoredCatalog({}, [], read_catalog_item(item.get("Item")))


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            table=dict(type="str", required=True),
            images=dict(type="list", elements="dict"),
            catalog_file=dict(type="path"),
            changes_from=dict(type="str", default=""),
            changed_images=dict(type="list", elements="dict", default=[]),
            removed=dict(type="list", elements="str", default=[]),
            pending_paths=dict(type="list", elements="str", default=[]),
            snapshot_bucket=dict(type="str", default=""),
        ),
        mutually_exclusive=[("images", "catalog_file")],
        supports_check_mode=True,
    )
    params = module.params
    data, header = None, {}
    if params["catalog_file"]:
        try:
            with open(params["catalog_file"], "rb") as handle:  # its error, not read_bytes's None, is the reason
                data = handle.read()
            header = snapshot_header(data)
        except (OSError, CatalogSchemaError) as error:
            module.fail_json(msg=f"catalog_file: {error}")
    try:
        changed_images = [validate_entry(entry) for entry in params["changed_images"]]
        entries = None if params["images"] is None else [validate_entry(entry) for entry in params["images"]]
    except CatalogSchemaError as error:
        module.fail_json(msg=f"images: {error}")
    if entries is not None and len({e["image_id"] for e in entries}) != len(entries):
        module.fail_json(msg="images: duplicate image_id values")

    client = module.client("dynamodb", retry_decorator=AWSRetry.jittered_backoff())
    bucket = params["snapshot_bucket"]
    s3 = module.client("s3", retry_decorator=AWSRetry.jittered_backoff()) if bucket else None
    table = params["table"]
    try:
        stored = read_version_item(client, table)
        previous = stored.catalog
        trusted = (
            bool(previous["version"]) and previous["version"] == params["changes_from"] and not previous["writing"]
        )
        if data is not None and trusted:
            # The table announces the version the changes are from: they are the writes to make.
            wanted = {entry["image_id"]: entry for entry in changed_images}
            plan = WritePlan(sorted(wanted), sorted(set(params["removed"]) - set(wanted)))
        elif data is not None or entries is not None:
            if data is not None:
                try:
                    entries = read_snapshot(data, header["version"])
                except CatalogSchemaError as error:
                    module.fail_json(msg=f"catalog_file: {error}")
            stored = read_table(client, table)
            previous = stored.catalog
            plan = plan_writes(stored, entries)
            wanted = {e["image_id"]: e for e in entries}
        else:
            plan, wanted = WritePlan([], []), {}
        if not stored.table_exists and not module.check_mode:
            module.fail_json(msg=f"table {table} does not exist; run the infrastructure play first")
        if data is not None:
            version, count = header["version"], header["entries"]
        elif entries is not None:
            version, count = catalog_version(entries), len(entries)
        else:  # pending paths only: the version, and so its snapshot, stays as it is
            version, count = previous["version"], previous["image_count"]
        pending = sorted(set(params["pending_paths"]))
        new_snapshot = snapshot_key(version) if bucket else ""
        writes_catalog = data is not None or entries is not None
        snapshot = new_snapshot if writes_catalog else previous["snapshot"]
        wanted_catalog = {"version": version, "image_count": count, "pending_paths": pending, "snapshot": snapshot}
        catalog_changes = wanted_catalog != {key: previous[key] for key in wanted_catalog} or bool(previous["writing"])
        upload = writes_catalog and bool(snapshot) and (catalog_changes or not object_exists(s3, bucket, snapshot))
        changed = bool(plan.put or plan.delete or catalog_changes or upload)
        if changed and not module.check_mode:
            if plan.put or plan.delete:
                # Write-ahead: the pending paths, and the version whose entries are being written.
                write_catalog_item(
                    client,
                    table,
                    catalog_item(previous["version"], previous["image_count"], pending, previous["snapshot"], version),
                )
            if upload:
                write_snapshot(s3, bucket, snapshot, data if data is not None else snapshot_bytes(version, entries))
            write_entries(client, table, wanted, plan)
            if catalog_changes or plan.put or plan.delete:
                write_catalog_item(client, table, catalog_item(version, count, pending, snapshot))
            if upload:
                # Workers still loading the previous version keep it; older ones go.
                delete_snapshots(s3, bucket, keep={snapshot, previous["snapshot"]})
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg=f"Could not publish the catalog to table {table}")
    except RuntimeError as error:
        module.fail_json(msg=str(error))
    module.exit_json(
        changed=changed,
        put=plan.put,
        deleted=plan.delete,
        version=version,
        previous_version=previous["version"],
        snapshot=snapshot,
        read_table=not (data is not None and trusted),
    )


if __name__ == "__main__":
    main()
