#!/usr/bin/python
# Copyright: image-delivery contributors
# Apache License 2.0

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ec2_managed_prefix_list_info
short_description: Look up EC2 managed prefix lists by name
description:
  - Returns the managed prefix lists whose names are given, for example the AWS-managed
    C(com.amazonaws.global.cloudfront.origin-facing) list to open a load balancer to CloudFront only.
  - Neither amazon.aws nor community.aws has a module for DescribeManagedPrefixLists.
author: Image Delivery Contributors (@image-delivery)
options:
  names:
    description: Prefix list names to look up. Empty returns every list the account can see.
    type: list
    elements: str
    default: []
  fail_on_missing:
    description: Fail when a name in O(names) matches no prefix list.
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Find CloudFront's origin-facing addresses
  ec2_managed_prefix_list_info:
    names: [com.amazonaws.global.cloudfront.origin-facing]
  register: cloudfront_prefix_list

- name: Allow HTTP from CloudFront only
  amazon.aws.ec2_security_group:
    name: alb
    description: load balancer
    rules:
      - proto: tcp
        ports: [80]
        ip_prefix: "{{ cloudfront_prefix_list.prefix_lists[0].prefix_list_id }}"
"""

RETURN = r"""
prefix_lists:
  description: The matching prefix lists, in the order of O(names) when names are given.
  returned: always
  type: list
  elements: dict
  contains:
    prefix_list_id:
      description: The prefix list id.
      type: str
      sample: pl-4fa04526
    prefix_list_name:
      description: The prefix list name.
      type: str
      sample: com.amazonaws.global.cloudfront.origin-facing
    address_family:
      description: IPv4 or IPv6.
      type: str
    max_entries:
      description: How many entries the list may hold (counts against security group rule quotas).
      type: int
    owner_id:
      description: The owner, C(AWS) for AWS-managed lists.
      type: str
    tags:
      description: The tags as a dict.
      type: dict
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict


def describe_prefix_lists(client, names: list[str]) -> list[dict]:
    filters = [{"Name": "prefix-list-name", "Values": names}] if names else []
    paginator = client.get_paginator("describe_managed_prefix_lists")
    return paginator.paginate(Filters=filters).build_full_result()["PrefixLists"]


def to_ansible(prefix_list: dict) -> dict:
    result = camel_dict_to_snake_dict({k: v for k, v in prefix_list.items() if k != "Tags"})
    result["tags"] = boto3_tag_list_to_ansible_dict(prefix_list.get("Tags", []))
    return result


def order_by_names(prefix_lists: list[dict], names: list[str]) -> tuple[list[dict], list[str]]:
    """The lists in the order of `names`, and the names that matched nothing."""
    if not names:
        return prefix_lists, []
    by_name = {p["prefix_list_name"]: p for p in prefix_lists}
    return [by_name[n] for n in names if n in by_name], [n for n in names if n not in by_name]


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            names=dict(type="list", elements="str", default=[]),
            fail_on_missing=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    client = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())
    names = module.params["names"]
    try:
        found = [to_ansible(p) for p in describe_prefix_lists(client, names)]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg="Could not describe managed prefix lists")
    ordered, missing = order_by_names(found, names)
    if missing and module.params["fail_on_missing"]:
        module.fail_json(msg=f"No managed prefix list named {', '.join(missing)}", prefix_lists=ordered)
    module.exit_json(changed=False, prefix_lists=ordered)


if __name__ == "__main__":
    main()
