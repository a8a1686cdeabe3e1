#!/usr/bin/python
# Copyright: image-delivery contributors
# Apache License 2.0

from __future__ import annotations

DOCUMENTATION = r"""
---
module: s3_content_upload
short_description: Upload content-addressed files to S3, skipping the ones already there
description:
  - For keys that name their content (a hash in the key), an object that exists with the right size
    is the right object. The module lists the bucket once per key prefix (or, for up to 1,000 files,
    asks for each key, as a bucket of a million images is a thousand pages of listing) and uploads only
    the files whose key is missing or has another size, with the given Content-Type and Cache-Control.
  - One call for the whole set, unlike a loop over amazon.aws.s3_object (one module start-up and
    at least one request per file even when nothing changes).
  - With O(catalog_file), every entry of a catalog snapshot is made sure of as well (its file under
    O(source_dir)), a repair for objects deleted from the bucket behind the publisher's back, which a
    publish of the changes alone does not see. It reads the whole snapshot and lists the prefix.
  - Never deletes - old content keys stay for caches and clients still holding them; expire them with
    a lifecycle rule.
  - In check mode lists what would be uploaded.
author: Image Delivery Contributors (@image-delivery)
options:
  bucket:
    description: Bucket name.
    type: str
    required: true
  objects:
    description: Files to upload.
    type: list
    elements: dict
    default: []
    suboptions:
      src:
        description: Local file.
        type: path
        required: true
      key:
        description: Object key.
        type: str
        required: true
      content_type:
        description: Content-Type of the object.
        type: str
        required: true
  catalog_file:
    description:
      - A catalog snapshot (as M(image_delivery.stack.image_catalog) writes it) whose every entry must
        have its object too, uploaded from O(source_dir) joined with the entry's C(path) when missing.
    type: path
  source_dir:
    description: The image folder the entries of O(catalog_file) are from. Required with O(catalog_file).
    type: path
  cache_control:
    description:
      - Cache-Control of uploaded objects.
      - Defaults to the catalog schema's, for content-addressed originals (C(immutable), one year).
    type: str
  prefix:
    description:
      - The prefix every key starts with; only this part of the bucket is listed.
      - Defaults to the catalog schema's content key prefix (C(images/)).
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Upload new images under their content keys
  s3_content_upload:
    bucket: "{{ storage_bucket }}"
    objects: "{{ catalog.images | catalog_objects(image_folder) }}"

- name: Make sure every image of the catalog is in the bucket (objects deleted behind our back)
  s3_content_upload:
    bucket: "{{ storage_bucket }}"
    catalog_file: "{{ indexed.catalog_file }}"
    source_dir: "{{ image_folder }}"
"""

RETURN = r"""
uploaded:
  description: Keys uploaded by this run (or that would be, in check mode).
  returned: always
  type: list
  elements: str
present:
  description: Number of keys that were already in the bucket with the right size.
  returned: always
  type: int
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
    CONTENT_CACHE_CONTROL,
    KEY_PREFIX,
    CatalogSchemaError,
    iter_snapshot,
    snapshot_version,
    upload_object,
)
from ansible_collections.image_delivery.stack.plugins.module_utils.local_files import read_bytes

HEAD_AT_MOST = 1000  # files asked for one by one; more, and the prefix is listed (1,000 keys a page)


def existing_sizes(client, bucket: str, prefix: str, keys: list[str], bucket_may_be_missing: bool) -> dict[str, int]:
    """The sizes of the keys that exist in the bucket."""
    sizes = {}
    try:
        if len(keys) <= HEAD_AT_MOST:
            for key in keys:
                try:
                    sizes[key] = client.head_object(Bucket=bucket, Key=key, aws_retry=True)["ContentLength"]
                except is_boto3_error_code(["404", "NoSuchKey", "NotFound"]):
                    continue
        else:
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    sizes[item["Key"]] = item["Size"]
    except is_boto3_error_code("NoSuchBucket"):
        if not bucket_may_be_missing:
            raise
    return sizes


def catalog_file_objects(path: str, source_dir: str) -> list[dict]:
    """The upload list of every entry of a catalog snapshot file: its file under source_dir, its
    content key and Content-Type (CatalogSchemaError when the file is not a snapshot)."""
    data = read_bytes(path)
    if data is None:
        raise CatalogSchemaError("no such file")
    return [upload_object(entry, source_dir) for entry in iter_snapshot(data, snapshot_version(data))]


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            bucket=dict(type="str", required=True),
            objects=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(
                    src=dict(type="path", required=True),
                    key=dict(type="str", required=True, no_log=False),
                    content_type=dict(type="str", required=True),
                ),
            ),
            catalog_file=dict(type="path"),
            source_dir=dict(type="path"),
            cache_control=dict(type="str"),
            prefix=dict(type="str"),
        ),
        required_together=[("catalog_file", "source_dir")],
        supports_check_mode=True,
    )
    params = dict(module.params)
    params["cache_control"] = params["cache_control"] or CONTENT_CACHE_CONTROL
    params["prefix"] = KEY_PREFIX if params["prefix"] is None else params["prefix"]
    if params["catalog_file"]:
        try:
            params["objects"] = params["objects"] + catalog_file_objects(params["catalog_file"], params["source_dir"])
        except (OSError, CatalogSchemaError) as error:
            module.fail_json(msg=f"could not read the catalog file {params['catalog_file']}: {error}")
    outside = [o["key"] for o in params["objects"] if not o["key"].startswith(params["prefix"])]
    if outside:
        module.fail_json(msg=f"keys outside the prefix {params['prefix']!r}: {outside[:5]}")
    missing = [o["src"] for o in params["objects"] if not os.path.isfile(o["src"])]
    if missing:
        module.fail_json(msg=f"files not found: {missing[:5]}")

    client = module.client("s3", retry_decorator=AWSRetry.jittered_backoff())
    uploaded = []
    try:
        # In check mode before the first deploy the bucket does not exist yet: everything would be uploaded.
        wanted = {o["key"]: o for o in params["objects"]}
        sizes = existing_sizes(
            client, params["bucket"], params["prefix"], sorted(wanted), bucket_may_be_missing=module.check_mode
        )
        to_upload = sorted(k for k, o in wanted.items() if sizes.get(k) != os.path.getsize(o["src"]))
        for key in to_upload:
            if not module.check_mode:
                with open(wanted[key]["src"], "rb") as body:
                    client.put_object(
                        Bucket=params["bucket"],
                        Key=key,
                        Body=body,
                        ContentType=wanted[key]["content_type"],
                        CacheControl=params["cache_control"],
                        aws_retry=True,
                    )
            uploaded.append(key)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg=f"Could not upload to s3://{params['bucket']}", uploaded=uploaded)
    module.exit_json(changed=bool(uploaded), uploaded=uploaded, present=len(wanted) - len(to_upload))


if __name__ == "__main__":
    main()
