#!/usr/bin/python
# Copyright: image-delivery contributors
# Apache License 2.0

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudfront_origin_access_control
short_description: Manage a CloudFront Origin Access Control (OAC) by name
description:
  - Creates, updates or deletes a CloudFront Origin Access Control, found by its O(name).
  - OAC is AWS's replacement for the legacy Origin Access Identity (OAI) to keep an S3 origin
    private. Neither amazon.aws nor community.aws manages it.
author: Image Delivery Contributors (@image-delivery)
options:
  name:
    description: Name of the origin access control (unique per account).
    type: str
    required: true
  description:
    description: Description.
    type: str
    default: ""
  origin_type:
    description: Kind of origin.
    type: str
    choices: [s3, mediastore, mediapackagev2, lambda]
    default: s3
  signing_behavior:
    description: When CloudFront signs origin requests.
    type: str
    choices: [always, never, no-override]
    default: always
  state:
    description: Whether it should exist. It can only be deleted once no distribution uses it.
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
- name: Private S3 origin for a distribution
  cloudfront_origin_access_control:
    name: my-stack-images
    description: my-stack image bucket
  register: oac
"""

RETURN = r"""
id:
  description: The origin access control id, for C(Origins.Items[].OriginAccessControlId).
  returned: when it exists
  type: str
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def find(client, name: str) -> dict | None:
    marker = ""
    while True:
        page = client.list_origin_access_controls(Marker=marker, aws_retry=True)["OriginAccessControlList"]
        for item in page.get("Items", []):
            if item["Name"] == name:
                return item
        marker = page.get("NextMarker", "")
        if not page.get("IsTruncated") or not marker:
            return None


def desired_config(params: dict) -> dict:
    return {
        "Name": params["name"],
        "Description": params["description"],
        "SigningProtocol": "sigv4",
        "SigningBehavior": params["signing_behavior"],
        "OriginAccessControlOriginType": params["origin_type"],
    }


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            description=dict(type="str", default=""),
            origin_type=dict(type="str", choices=["s3", "mediastore", "mediapackagev2", "lambda"], default="s3"),
            signing_behavior=dict(type="str", choices=["always", "never", "no-override"], default="always"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        supports_check_mode=True,
    )
    client = module.client("cloudfront", retry_decorator=AWSRetry.jittered_backoff())
    params = module.params
    try:
        existing = find(client, params["name"])
        if params["state"] == "absent":
            if existing is None:
                module.exit_json(changed=False)
            if not module.check_mode:
                etag = client.get_origin_access_control(Id=existing["Id"], aws_retry=True)["ETag"]
                client.delete_origin_access_control(Id=existing["Id"], IfMatch=etag, aws_retry=True)
            module.exit_json(changed=True, id=existing["Id"])
        desired = desired_config(params)
        if existing is None:
            if module.check_mode:
                module.exit_json(changed=True)
            created = client.create_origin_access_control(OriginAccessControlConfig=desired, aws_retry=True)
            module.exit_json(changed=True, id=created["OriginAccessControl"]["Id"])
        response = client.get_origin_access_control(Id=existing["Id"], aws_retry=True)
        config = response["OriginAccessControl"]["OriginAccessControlConfig"]
        current = {key: config.get(key, "") for key in desired}
        if current == desired:
            module.exit_json(changed=False, id=existing["Id"])
        if not module.check_mode:
            etag = response["ETag"]
            client.update_origin_access_control(
                Id=existing["Id"], IfMatch=etag, OriginAccessControlConfig=desired, aws_retry=True
            )
        module.exit_json(changed=True, id=existing["Id"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg=f"Could not manage origin access control {params['name']}")


if __name__ == "__main__":
    main()
