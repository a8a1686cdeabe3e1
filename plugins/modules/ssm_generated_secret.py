#!/usr/bin/python
# Copyright: image-delivery contributors
# Apache License 2.0

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ssm_generated_secret
short_description: Generate a secret once, keep it in SSM Parameter Store, and return it
description:
  - Ensures an SSM C(SecureString) parameter exists. When it does not, a random value is generated
    and stored; when it does, the stored value is returned unchanged, so every run (from a laptop or
    from AWX) gets the same secret without it ever being written to the repository or a log.
  - "The task that calls this module must set C(no_log: true) because a module cannot mask a value it
    returns (Ansible would replace the returned value itself with a placeholder)."
  - amazon.aws.ssm_parameter can write a value but does not return it; the aws_ssm lookup reads one
    but cannot create it, and lookups run outside the play's module_defaults.
author: Image Delivery Contributors (@image-delivery)
options:
  name:
    description: Full parameter name, for example C(/image-delivery/origin-secret).
    type: str
    required: true
  state:
    description: Whether the parameter should exist.
    type: str
    choices: [present, absent]
    default: present
  length:
    description: Length of a newly generated value (letters and digits).
    type: int
    default: 48
  description:
    description: Description of the parameter.
    type: str
    default: ""
  key_id:
    description: KMS key for the SecureString; the default is the account's AWS-managed SSM key.
    type: str
  tags:
    description: Tags of a newly created parameter.
    type: dict
    default: {}
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Supports check mode; when the parameter does not exist yet, check mode returns a placeholder value.
"""

EXAMPLES = r"""
- name: Secret that CloudFront sends to the load balancer
  ssm_generated_secret:
    name: /my-stack/origin-secret
    tags:
      Stack: my-stack
  register: origin_secret
  no_log: true

- name: Use it in another no_log task
  ansible.builtin.set_fact:
    origin_header_value: "{{ origin_secret.value }}"
  no_log: true
"""

RETURN = r"""
value:
  description: "The secret. Register it from a task with C(no_log: true)."
  returned: when state is present
  type: str
version:
  description: The parameter version.
  returned: when state is present and not a check-mode creation
  type: int
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.image_delivery.stack.plugins.module_utils.generated_secrets import (
    generate_secret,
    parameter_name_is_valid,
)

CHECK_MODE_PLACEHOLDER = "check-mode-placeholder-secret-value"


def read_parameter(client, name: str) -> dict | None:
    try:
        return client.get_parameter(Name=name, WithDecryption=True, aws_retry=True)["Parameter"]
    except is_boto3_error_code("ParameterNotFound"):
        return None


def ensure_present(module: AnsibleAWSModule, client) -> dict:
    name = module.params["name"]
    existing = read_parameter(client, name)
    if existing is not None:
        return {"changed": False, "value": existing["Value"], "version": existing["Version"]}
    if module.check_mode:
        return {"changed": True, "value": CHECK_MODE_PLACEHOLDER}
    value = generate_secret(module.params["length"])
    request = {
        "Name": name,
        "Value": value,
        "Type": "SecureString",
        "Description": module.params["description"],
        "Overwrite": False,
    }
    if module.params["key_id"]:
        request["KeyId"] = module.params["key_id"]
    if module.params["tags"]:
        request["Tags"] = ansible_dict_to_boto3_tag_list(module.params["tags"])
    try:
        version = client.put_parameter(aws_retry=True, **request)["Version"]
    except is_boto3_error_code("ParameterAlreadyExists"):
        # Another run created it between our read and write: use theirs.
        existing = read_parameter(client, name)
        return {"changed": False, "value": existing["Value"], "version": existing["Version"]}
    return {"changed": True, "value": value, "version": version}


def ensure_absent(module: AnsibleAWSModule, client) -> dict:
    if read_parameter(client, module.params["name"]) is None:
        return {"changed": False}
    if not module.check_mode:
        try:
            client.delete_parameter(Name=module.params["name"], aws_retry=True)
        except is_boto3_error_code("ParameterNotFound"):
            return {"changed": False}
    return {"changed": True}


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            length=dict(type="int", default=48, no_log=False),
            description=dict(type="str", default=""),
            key_id=dict(type="str"),
            tags=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    if not parameter_name_is_valid(module.params["name"]):
        module.fail_json(msg=f"name: {module.params['name']!r} is not a valid SSM parameter name")
    if module.params["length"] < 16:
        module.fail_json(msg="length: a generated secret needs at least 16 characters")
    client = module.client("ssm", retry_decorator=AWSRetry.jittered_backoff())
    try:
        if module.params["state"] == "present":
            result = ensure_present(module, client)
        else:
            result = ensure_absent(module, client)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg=f"Could not manage SSM parameter {module.params['name']}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
