#!/usr/bin/python
# Copyright: image-delivery contributors
# Apache License 2.0

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudfront_distribution_config
short_description: Idempotently create, update or delete a CloudFront distribution from a config document
description:
  - Manages one CloudFront distribution from a C(DistributionConfig) document in the API's own
    shape (C(Quantity) fields are added for you). The distribution is found by its O(comment),
    which must be unique in the account, and checked against O(caller_reference).
  - Compares the desired document with the current one, field by field (only the fields you give),
    and calls C(UpdateDistribution) only when something differs, so a second run reports no change.
    community.aws.cloudfront_distribution rebuilds the config from its arguments and updates on
    every run; it also lacks check mode and Origin Access Control.
  - Secret origin headers are passed apart from the document, as no_log values.
author: Image Delivery Contributors (@image-delivery)
options:
  comment:
    description: The distribution's comment; identifies it (unique per account).
    type: str
    required: true
  caller_reference:
    description:
      - Caller reference used when creating; an existing distribution with another one is an error.
      - Required when O(state=present).
    type: str
    default: ""
  config:
    description:
      - The C(DistributionConfig) without C(CallerReference) and C(Comment), as in the CloudFront API.
      - Required when O(state=present).
    type: dict
  secret_origin_headers:
    description: 'Custom headers per origin id, for example C({"alb": {"X-Origin-Verify": "..."}}); never logged.'
    type: dict
    default: {}
  tags:
    description: Tags of the distribution.
    type: dict
    default: {}
  purge_tags:
    description: Remove tags not in O(tags).
    type: bool
    default: true
  state:
    description:
      - Whether the distribution should exist. Deleting disables it first and waits for that.
      - C(info) only looks the distribution up by O(comment) and changes nothing (O(caller_reference) is
        then ignored), for plays that need the id without managing the distribution.
    type: str
    choices: [present, absent, info]
    default: present
  wait:
    description: Wait until the distribution is deployed after a change (always done before a delete).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 1800
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Supports check mode, reporting the paths that would change in RV(differences).
"""

EXAMPLES = r"""
- name: Distribution in front of a load balancer
  cloudfront_distribution_config:
    comment: my-stack images
    caller_reference: my-stack-distribution
    config:
      Enabled: true
      PriceClass: PriceClass_100
      Origins:
        Items:
          - Id: alb
            DomainName: my-alb-123.eu-west-1.elb.amazonaws.com
            CustomOriginConfig:
              HTTPPort: 80
              HTTPSPort: 443
              OriginProtocolPolicy: http-only
              OriginSslProtocols: {Items: [TLSv1.2]}
      DefaultCacheBehavior:
        TargetOriginId: alb
        ViewerProtocolPolicy: redirect-to-https
        ForwardedValues: {QueryString: true, Cookies: {Forward: none}}
        MinTTL: 0
    secret_origin_headers:
      alb:
        X-Origin-Verify: "{{ origin_secret }}"
    tags:
      Stack: my-stack

- name: Delete it (disables, waits, deletes)
  cloudfront_distribution_config:
    comment: my-stack images
    caller_reference: my-stack-distribution
    state: absent
"""

RETURN = r"""
id:
  description: Distribution id.
  returned: when the distribution exists (or was just created)
  type: str
arn:
  description: Distribution ARN.
  returned: when the distribution exists
  type: str
domain_name:
  description: The C(*.cloudfront.net) domain name.
  returned: when the distribution exists
  type: str
status:
  description: C(InProgress) or C(Deployed).
  returned: when the distribution exists
  type: str
differences:
  description: Paths of the config (and C(Tags)) that differed from the desired ones; no values.
  returned: always
  type: list
  elements: str
"""


try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.image_delivery.stack.plugins.module_utils.cloudfront_config import (
    config_differences,
    find_by_comment,
    merged_config,
    with_origin_headers,
    with_quantities,
)
from ansible_collections.image_delivery.stack.plugins.module_utils.waiting import wait_for


class Distributions:
    """The CloudFront calls this module makes, with retries."""

    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.client = module.client("cloudfront", retry_decorator=AWSRetry.jittered_backoff())

    def find(self, comment: str) -> dict | None:
        summaries = []
        paginator = self.client.get_paginator("list_distributions")
        for page in paginator.paginate():
            summaries.extend(page.get("DistributionList", {}).get("Items", []))
        matches = find_by_comment(summaries, comment)
        if len(matches) > 1:
            self.module.fail_json(msg=f"{len(matches)} distributions have the comment {comment!r}; it must be unique")
        return matches[0] if matches else None

    def config(self, distribution_id: str) -> tuple[dict, str]:
        response = self.client.get_distribution_config(Id=distribution_id, aws_retry=True)
        return response["DistributionConfig"], response["ETag"]

    def tags(self, arn: str) -> dict:
        return boto3_tag_list_to_ansible_dict(
            self.client.list_tags_for_resource(Resource=arn, aws_retry=True)["Tags"].get("Items", [])
        )

    def wait_deployed(self, distribution_id: str, timeout: int) -> dict:
        """The distribution once Deployed; a WaiterError after ``timeout`` seconds."""
        wait_for(
            self.client, "distribution_deployed", timeout, delay=min(30, max(1, timeout // 60)), Id=distribution_id
        )
        return self.client.get_distribution(Id=distribution_id, aws_retry=True)["Distribution"]


def summary(distribution: dict) -> dict:
    return {
        "id": distribution["Id"],
        "arn": distribution["ARN"],
        "domain_name": distribution["DomainName"],
        "status": distribution["Status"],
    }


def ensure_present(module: AnsibleAWSModule, api: Distributions) -> dict:
    params = module.params
    try:
        desired = with_quantities(
            with_origin_headers(
                {**params["config"], "CallerReference": params["caller_reference"], "Comment": params["comment"]},
                params["secret_origin_headers"],
            )
        )
    except (ValueError, KeyError) as error:
        module.fail_json(msg=f"config: {error}")
    existing = api.find(params["comment"])
    if existing is None:
        if module.check_mode:
            return {"changed": True, "differences": ["(create)"]}
        created = api.client.create_distribution_with_tags(
            DistributionConfigWithTags={
                "DistributionConfig": desired,
                "Tags": {"Items": ansible_dict_to_boto3_tag_list(params["tags"])},
            },
            aws_retry=True,
        )["Distribution"]
        if params["wait"]:
            created = api.wait_deployed(created["Id"], params["wait_timeout"])
        return {"changed": True, "differences": ["(create)"], **summary(created)}

    current, etag = api.config(existing["Id"])
    if current.get("CallerReference") != params["caller_reference"]:
        module.fail_json(
            msg=f"The distribution with comment {params['comment']!r} has caller reference "
            f"{current.get('CallerReference')!r}, not {params['caller_reference']!r}"
        )
    differences = config_differences(current, desired)
    tags_to_set, tags_to_remove = compare_aws_tags(api.tags(existing["ARN"]), params["tags"], params["purge_tags"])
    if tags_to_set or tags_to_remove:
        differences.append("Tags")
    if not differences or module.check_mode:
        return {"changed": bool(differences), "differences": differences, **summary(existing)}

    distribution = existing
    if any(path != "Tags" for path in differences):
        distribution = api.client.update_distribution(
            Id=existing["Id"], IfMatch=etag, DistributionConfig=merged_config(current, desired), aws_retry=True
        )["Distribution"]
    if tags_to_set:
        api.client.tag_resource(
            Resource=existing["ARN"], Tags={"Items": ansible_dict_to_boto3_tag_list(tags_to_set)}, aws_retry=True
        )
    if tags_to_remove:
        api.client.untag_resource(Resource=existing["ARN"], TagKeys={"Items": tags_to_remove}, aws_retry=True)
    if params["wait"]:
        distribution = api.wait_deployed(existing["Id"], params["wait_timeout"])
    return {"changed": True, "differences": differences, **summary({**existing, **distribution})}


def look_up(module: AnsibleAWSModule, api: Distributions) -> dict:
    existing = api.find(module.params["comment"])
    return {"changed": False, "differences": [], **(summary(existing) if existing else {})}


def ensure_absent(module: AnsibleAWSModule, api: Distributions) -> dict:
    existing = api.find(module.params["comment"])
    if existing is None:
        return {"changed": False, "differences": []}
    if module.check_mode:
        return {"changed": True, "differences": ["(delete)"], **summary(existing)}
    current, etag = api.config(existing["Id"])
    if current.get("Enabled"):
        etag = api.client.update_distribution(
            Id=existing["Id"], IfMatch=etag, DistributionConfig={**current, "Enabled": False}, aws_retry=True
        )["ETag"]
    api.wait_deployed(existing["Id"], module.params["wait_timeout"])
    etag = api.config(existing["Id"])[1]
    try:
        api.client.delete_distribution(Id=existing["Id"], IfMatch=etag, aws_retry=True)
    except is_boto3_error_code("NoSuchDistribution"):
        # Deleted by someone else while we waited: the goal (absent) is reached all the same.
        return {"changed": False, "differences": [], **summary(existing)}
    return {"changed": True, "differences": ["(delete)"], **summary(existing)}


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            comment=dict(type="str", required=True),
            caller_reference=dict(type="str", default=""),
            config=dict(type="dict"),
            secret_origin_headers=dict(type="dict", default={}, no_log=True),
            tags=dict(type="dict", default={}),
            purge_tags=dict(type="bool", default=True),
            state=dict(type="str", choices=["present", "absent", "info"], default="present"),
            wait=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=1800),
        ),
        required_if=[("state", "present", ["config", "caller_reference"])],
        supports_check_mode=True,
    )
    api = Distributions(module)
    try:
        ensure = {"present": ensure_present, "absent": ensure_absent, "info": look_up}[module.params["state"]]
        result = ensure(module, api)
    except botocore.exceptions.WaiterError as error:
        module.fail_json(
            msg=f"The distribution {module.params['comment']!r} was not Deployed within "
            f"{module.params['wait_timeout']} s: {error}"
        )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg="Could not manage the CloudFront distribution")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
