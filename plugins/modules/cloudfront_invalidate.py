#!/usr/bin/python
# Copyright: image-delivery contributors
# Apache License 2.0

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudfront_invalidate
short_description: Invalidate CloudFront paths once per change, in batches within CloudFront's limits
description:
  - Creates the invalidations for O(paths) on a distribution. Idempotent, unlike
    community.aws.cloudfront_invalidation (which reports C(changed) on every run) - each batch's
    caller reference is derived from O(version) and the batch's sorted paths, and a batch whose
    reference is among the distribution's recent invalidations is not created again.
  - Splits the paths into batches of at most 3,000 file paths and 15 wildcard paths, retries
    C(TooManyInvalidationsInProgress) with exponential backoff, and optionally waits for completion.
  - In check mode returns the planned batches without creating anything.
  - Returns the invalidation ids and a cost estimate - the paths this distribution's invalidations
    used this calendar month and how many of them go beyond the 1,000 free paths a month (the free
    allowance is per account, so other distributions can make the real figure higher).
author: Image Delivery Contributors (@image-delivery)
options:
  distribution_id:
    description: The distribution's id.
    type: str
    required: true
  paths:
    description: Paths to invalidate, each starting with C(/); C(*) only as the last character.
    type: list
    elements: str
    required: true
  version:
    description: What the paths belong to (for example the catalog version); part of the caller reference.
    type: str
    required: true
  lookback:
    description: How many of the distribution's most recent invalidations to search for an earlier run's batch.
    type: int
    default: 100
  wait:
    description: Wait until every created invalidation is completed.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait with O(wait=true).
    type: int
    default: 900
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Invalidate what a catalog change made stale
  cloudfront_invalidate:
    distribution_id: "{{ cdn_distribution_id }}"
    paths: ["/api/search*", "/image/*", "/api/images/photos-by-the-water"]
    version: "{{ catalog.version }}"
  register: invalidation
"""

RETURN = r"""
batches:
  description: Every batch with its C(caller_reference), C(paths), C(id) (empty in check mode) and C(created).
  returned: always
  type: list
  elements: dict
invalidation_ids:
  description: Ids of the invalidations created by this run.
  returned: always
  type: list
  elements: str
paths_this_month:
  description: Paths in this distribution's invalidations created this calendar month (UTC), including this run's.
  returned: always
  type: int
billable_paths:
  description: Paths this month beyond the 1,000 free ones (0.005 USD each at the time of writing).
  returned: always
  type: int
"""

import datetime
import math
import time

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.image_delivery.stack.plugins.module_utils.invalidation_plan import (
    FREE_PATHS_PER_MONTH,
    PlanError,
    batches,
    billable_paths,
    caller_reference,
    check_path,
)
from ansible_collections.image_delivery.stack.plugins.module_utils.waiting import wait_for


def recent_invalidations(client, distribution_id: str, lookback: int) -> list[dict]:
    """Summaries (Id, CreateTime, Status) of the newest invalidations, newest first."""
    pages = client.get_paginator("list_invalidations").paginate(DistributionId=distribution_id)
    summaries = pages.build_full_result().get("InvalidationList", {}).get("Items") or []
    return sorted(summaries, key=lambda s: s["CreateTime"], reverse=True)[:lookback]


def describe(client, distribution_id: str, invalidation_id: str) -> dict:
    return client.get_invalidation(DistributionId=distribution_id, Id=invalidation_id, aws_retry=True)["Invalidation"]


def wait_completed(client, distribution_id: str, ids: list[str], timeout: int) -> None:
    """Wait for each invalidation with botocore's InvalidationCompleted waiter, all within ``timeout``
    seconds; a WaiterError names the one still in progress."""
    deadline = time.monotonic() + timeout
    for invalidation_id in ids:
        remaining = max(0, math.ceil(deadline - time.monotonic()))
        wait_for(
            client,
            "invalidation_completed",
            remaining,
            delay=min(20, max(1, timeout // 30)),
            DistributionId=distribution_id,
            Id=invalidation_id,
        )


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            distribution_id=dict(type="str", required=True),
            paths=dict(type="list", elements="str", required=True),
            version=dict(type="str", required=True),
            lookback=dict(type="int", default=100),
            wait=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=900),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        for path in params["paths"]:
            check_path(path, "path")
    except PlanError as error:
        module.fail_json(msg=str(error))
    if not params["version"].strip():
        module.fail_json(msg="version must not be empty")
    planned = [
        {"caller_reference": caller_reference(params["version"], b), "paths": b} for b in batches(params["paths"])
    ]
    if not planned:
        module.exit_json(changed=False, batches=[], invalidation_ids=[], paths_this_month=0, billable_paths=0)

    retry = AWSRetry.jittered_backoff(retries=10, delay=3, catch_extra_error_codes=["TooManyInvalidationsInProgress"])
    client = module.client("cloudfront", retry_decorator=retry)
    distribution_id = params["distribution_id"]
    try:
        summaries = recent_invalidations(client, distribution_id, params["lookback"])
        details = [describe(client, distribution_id, s["Id"]) for s in summaries]
        existing = {d["InvalidationBatch"]["CallerReference"]: d["Id"] for d in details}
        month = datetime.datetime.now(datetime.UTC).strftime("%Y-%m")
        paths_this_month = sum(
            d["InvalidationBatch"]["Paths"]["Quantity"] for d in details if d["CreateTime"].strftime("%Y-%m") == month
        )
        created = []
        for batch in planned:
            batch["id"] = existing.get(batch["caller_reference"], "")
            batch["created"] = False
            if batch["id"]:
                continue
            batch["created"] = True
            paths_this_month += len(batch["paths"])
            if module.check_mode:
                continue
            response = client.create_invalidation(
                DistributionId=distribution_id,
                InvalidationBatch={
                    "Paths": {"Quantity": len(batch["paths"]), "Items": batch["paths"]},
                    "CallerReference": batch["caller_reference"],
                },
                aws_retry=True,
            )
            batch["id"] = response["Invalidation"]["Id"]
            created.append(batch["id"])
        if params["wait"] and created:
            wait_completed(client, distribution_id, created, params["wait_timeout"])
    except botocore.exceptions.WaiterError as error:
        module.fail_json(msg=f"invalidations not Completed within {params['wait_timeout']} s: {error}", batches=planned)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg=f"Could not invalidate paths on distribution {distribution_id}")
    module.exit_json(
        changed=any(b["created"] for b in planned),
        batches=planned,
        invalidation_ids=created,
        paths_this_month=paths_this_month,
        billable_paths=billable_paths(paths_this_month, FREE_PATHS_PER_MONTH),
    )


if __name__ == "__main__":
    main()
