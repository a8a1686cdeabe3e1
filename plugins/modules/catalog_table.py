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
  - The new snapshot is the previous one patched with the writes (only its chunks that hold a
    change are compressed again) when that gives exactly the new version; otherwise (no previous
    snapshot, another chunking, a table that drifted from its snapshot) it is written whole.
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
snapshot_patched:
  description: Whether the snapshot written (or that would be) is the previous one patched, not written whole.
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
    SNAPSHOT_PREFIX,
    CatalogSchemaError,
    catalog_item,
    catalog_version,
    patch_snapshot,
    snapshot_bytes,
    snapshot_key,
    validate_entry,
)
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_table import (
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


def patched_snapshot(s3, bucket: str, previous_key: str, version: str, wanted: dict, plan: WritePlan) -> bytes | None:
    """The previous snapshot patched with the plan's writes, when that gives exactly this version
    (the table's entries were the previous snapshot's); None when it must be written whole."""
    if not previous_key:
        return None
    try:
        data = s3.get_object(Bucket=bucket, Key=previous_key, aws_retry=True)["Body"].read()
        changes = {image_id: wanted[image_id] for image_id in plan.put} | dict.fromkeys(plan.delete)
        patched_version, patched = patch_snapshot(data, changes)
    except is_boto3_error_code(["404", "NoSuchKey", "NotFound"]):
        return None
    except CatalogSchemaError:  # a snapshot of another chunking (an older publisher's) or damaged
        return None
    return patched if patched_version == version else None


def delete_snapshots(s3, bucket: str, keep: set[str]) -> None:
    """Delete the snapshots under SNAPSHOT_PREFIX that are not in keep."""
    stale = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=SNAPSHOT_PREFIX):
        stale += [{"Key": item["Key"]} for item in page.get("Contents", []) if item["Key"] not in keep]
    for start in range(0, len(stale), 1000):  # DeleteObjects takes 1,000 keys at most
        s3.delete_objects(Bucket=bucket, Delete={"Objects": stale[start : start + 1000], "Quiet": True}, aws_retry=True)


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            table=dict(type="str", required=True),
            images=dict(type="list", elements="dict"),
            pending_paths=dict(type="list", elements="str", default=[]),
            snapshot_bucket=dict(type="str", default=""),
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
    bucket = params["snapshot_bucket"]
    s3 = module.client("s3", retry_decorator=AWSRetry.jittered_backoff()) if bucket else None
    table = params["table"]
    try:
        stored = read_table(client, table)
        if not stored.table_exists and not module.check_mode:
            module.fail_json(msg=f"table {table} does not exist; run the infrastructure play first")
        plan = plan_writes(stored, entries) if entries is not None else WritePlan([], [])
        version = catalog_version(entries) if entries is not None else stored.catalog["version"]
        count = len(entries) if entries is not None else stored.catalog["image_count"]
        pending = sorted(set(params["pending_paths"]))
        # Pending paths only (no images): the version, and so its snapshot, stays as it is.
        new_snapshot = snapshot_key(version) if bucket else ""
        snapshot = stored.catalog["snapshot"] if entries is None else new_snapshot
        wanted_catalog = {"version": version, "image_count": count, "pending_paths": pending, "snapshot": snapshot}
        catalog_changes = wanted_catalog != stored.catalog
        upload = entries is not None and bool(snapshot) and (catalog_changes or not object_exists(s3, bucket, snapshot))
        changed = bool(plan.put or plan.delete or catalog_changes or upload)
        wanted = {e["image_id"]: e for e in entries} if entries is not None else {}
        data = None
        if upload:
            data = patched_snapshot(s3, bucket, stored.catalog["snapshot"], version, wanted, plan)
        if changed and not module.check_mode:
            previous = stored.catalog
            if pending and pending != previous["pending_paths"] and (plan.put or plan.delete):
                write_catalog_item(
                    client,
                    table,
                    catalog_item(previous["version"], previous["image_count"], pending, previous["snapshot"]),
                )
            if upload:
                write_snapshot(s3, bucket, snapshot, data or snapshot_bytes(version, entries))
            if entries is not None:
                write_entries(client, table, wanted, plan)
            if catalog_changes:
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
        previous_version=stored.catalog["version"],
        snapshot=snapshot,
        snapshot_patched=data is not None,
    )


if __name__ == "__main__":
    main()
