#!/usr/bin/python
# Copyright: image-delivery contributors
# Apache License 2.0

from __future__ import annotations

DOCUMENTATION = r"""
---
module: stack_census_info
short_description: List what of one stack still exists (after a teardown, nothing should)
description:
  - Finds the stack's VPC parts, security groups, launch templates, addresses and instances, load
    balancers and target groups, Auto Scaling groups and CloudFront distributions by their C(Stack)
    tag, its alarms by the stack's name prefix, and its bucket, table and edge function by name.
  - Asks only what the deployer policy (docs/iam/deployer-policy.json) grants.
  - Terminated instances and deleted NAT gateways count as gone.
author: Image Delivery Contributors (@image-delivery)
options:
  stack_name:
    description: The stack (its C(Stack) tag and name prefix).
    type: str
    required: true
  buckets:
    description: Bucket names the stack had (from its outputs file).
    type: list
    elements: str
    default: []
  tables:
    description: DynamoDB table names the stack had.
    type: list
    elements: str
    default: []
  functions:
    description: CloudFront Function names the stack had.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: List what is left of the stack
  stack_census_info:
    stack_name: smoke-a1b2c3
    buckets: [smoke-a1b2c3-images-123456789012]
    tables: [smoke-a1b2c3-catalog]
  register: left
  failed_when: left.resources | length > 0
"""

RETURN = r"""
resources:
  description:
    - What still exists, by service (ec2, elbv2, autoscaling, cloudfront, cloudwatch, s3, dynamodb).
    - Empty when nothing is left.
  returned: always
  type: dict
  sample: {"ec2": ["sg-0123456789abcdef0"]}
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.image_delivery.stack.plugins.module_utils.stack_census import census


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            stack_name=dict(type="str", required=True),
            buckets=dict(type="list", elements="str", default=[]),
            tables=dict(type="list", elements="str", default=[]),
            functions=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )

    def client(service: str):
        return module.client(service, retry_decorator=AWSRetry.jittered_backoff())

    try:
        found = census(
            client, module.params["stack_name"], module.params["buckets"], module.params["tables"],
            botocore.exceptions.ClientError, functions=module.params["functions"],
        )  # fmt: skip
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg=f"Could not list what is left of stack {module.params['stack_name']}")
    module.exit_json(changed=False, resources=found)


if __name__ == "__main__":
    main()
