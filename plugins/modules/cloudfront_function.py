#!/usr/bin/python
# Copyright: image-delivery contributors
# Apache License 2.0

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudfront_function
short_description: Create, update, publish or delete a CloudFront Function
description:
  - Manages one CloudFront Function by O(name), its code and config in the DEVELOPMENT stage and,
    with O(publish=true), the same in the LIVE stage that distributions run.
  - Compares the code and config of both stages with the desired ones and calls C(UpdateFunction)
    or C(PublishFunction) only when they differ, so a second run reports no change. Neither
    amazon.aws nor community.aws manages CloudFront Functions.
  - Associate the returned O(name)'s C(arn) in a cache behavior's C(FunctionAssociations)
    (for example with M(image_delivery.stack.cloudfront_distribution_config)). A function can only
    be deleted once no distribution associates it.
author: Image Delivery Contributors (@image-delivery)
options:
  name:
    description: Name of the function (1-64 letters, digits, C(-) and C(_); unique per account).
    type: str
    required: true
  code:
    description: The function's JavaScript source (at most 10 KB). Required when O(state=present).
    type: str
  comment:
    description: Comment stored with the function.
    type: str
    default: ""
  runtime:
    description: The JavaScript runtime.
    type: str
    choices: [cloudfront-js-1.0, cloudfront-js-2.0]
    default: cloudfront-js-2.0
  publish:
    description: Publish the code to the LIVE stage (what distributions run) when it differs.
    type: bool
    default: true
  state:
    description: Whether the function should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Supports check mode.
"""

EXAMPLES = r"""
- name: Normalise Accept for the image behavior's cache key
  image_delivery.stack.cloudfront_function:
    name: my-stack-image-format
    comment: fmt=auto
    code: "{{ lookup('ansible.builtin.file', 'image_format.js') }}"
  register: image_format

- name: Remove it once no distribution uses it
  image_delivery.stack.cloudfront_function:
    name: my-stack-image-format
    state: absent
"""

RETURN = r"""
arn:
  description: The function's ARN, for C(FunctionAssociations.Items[].FunctionARN).
  returned: when it exists (not for a create in check mode)
  type: str
  sample: arn:aws:cloudfront::123456789012:function/my-stack-image-format
stage:
  description: The stage that holds the desired code after the run (LIVE once published).
  returned: when O(state=present)
  type: str
  sample: LIVE
"""

import re

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.image_delivery.stack.plugins.module_utils.cloudfront_function import (
    NAME_PATTERN,
    RUNTIMES,
    Stage,
    check_code,
    desired_config,
    plan,
)


def read_stage(client, name: str, stage: str) -> tuple[Stage | None, str, str]:
    """The stage's config and code, its ETag and the function's ARN; (None, "", "") if it has none."""
    try:
        described = client.describe_function(Name=name, Stage=stage, aws_retry=True)
    except is_boto3_error_code("NoSuchFunctionExists"):
        return None, "", ""
    code = client.get_function(Name=name, Stage=stage, aws_retry=True)["FunctionCode"].read()
    summary = described["FunctionSummary"]
    return Stage(summary["FunctionConfig"], code), described["ETag"], summary["FunctionMetadata"]["FunctionARN"]


def ensure_present(module: AnsibleAWSModule, client) -> None:
    params = module.params
    code = params["code"].encode()
    try:
        check_code(code)
    except ValueError as error:
        module.fail_json(msg=f"Function {params['name']}: {error}")
    config = desired_config(params["comment"], params["runtime"])
    development, etag, arn = read_stage(client, params["name"], "DEVELOPMENT")
    live = read_stage(client, params["name"], "LIVE")[0] if development is not None else None
    steps = plan(development, live, config, code, params["publish"])
    stage = "LIVE" if params["publish"] else "DEVELOPMENT"
    if module.check_mode or not steps.changed:
        module.exit_json(changed=steps.changed, arn=arn, stage=stage)
    if steps.create:
        created = client.create_function(Name=params["name"], FunctionConfig=config, FunctionCode=code, aws_retry=True)
        etag, arn = created["ETag"], created["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]
    elif steps.update:
        etag = client.update_function(
            Name=params["name"], IfMatch=etag, FunctionConfig=config, FunctionCode=code, aws_retry=True
        )["ETag"]
    if steps.publish:
        client.publish_function(Name=params["name"], IfMatch=etag, aws_retry=True)
    module.exit_json(changed=True, arn=arn, stage=stage)


def ensure_absent(module: AnsibleAWSModule, client) -> None:
    name = module.params["name"]
    development, etag, arn = read_stage(client, name, "DEVELOPMENT")
    if development is None:
        module.exit_json(changed=False)
    if not module.check_mode:
        try:
            client.delete_function(Name=name, IfMatch=etag, aws_retry=True)
        except is_boto3_error_code("FunctionInUse") as error:
            module.fail_json_aws(
                error, msg=f"Function {name} is still associated with a distribution: delete or change that first"
            )
    module.exit_json(changed=True, arn=arn)


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            code=dict(type="str"),
            comment=dict(type="str", default=""),
            runtime=dict(type="str", choices=list(RUNTIMES), default="cloudfront-js-2.0"),
            publish=dict(type="bool", default=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        required_if=[("state", "present", ["code"])],
        supports_check_mode=True,
    )
    if not re.match(NAME_PATTERN, module.params["name"]):
        module.fail_json(msg=f"name must be 1-64 letters, digits, - and _; got {module.params['name']!r}")
    client = module.client("cloudfront", retry_decorator=AWSRetry.jittered_backoff())
    try:
        if module.params["state"] == "absent":
            ensure_absent(module, client)
        ensure_present(module, client)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg=f"Could not manage CloudFront function {module.params['name']}")


if __name__ == "__main__":
    main()
