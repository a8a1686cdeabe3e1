#!/usr/bin/python
# Copyright: image-delivery contributors
# Apache License 2.0

from __future__ import annotations

DOCUMENTATION = r"""
---
module: catalog_table_info
short_description: Read the catalog published in the DynamoDB table
description:
  - Returns the entries, the announced catalog version and the invalidation paths still pending from
    an earlier publish run (see catalog_table). Items that do not follow the catalog schema are listed
    in RV(malformed) rather than failing the task.
author: Image Delivery Contributors (@image-delivery)
options:
  table:
    description: Table name.
    type: str
    required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the published catalog
  catalog_table_info:
    table: "{{ storage_table }}"
  register: published
"""

RETURN = r"""
images:
  description: The entries, sorted by id.
  returned: always
  type: list
  elements: dict
version:
  description: The announced catalog version (empty when nothing was published yet).
  returned: always
  type: str
image_count:
  description: The entry count recorded with the version.
  returned: always
  type: int
pending_paths:
  description: Invalidation paths planned by a run that did not confirm them.
  returned: always
  type: list
  elements: str
table_exists:
  description: Whether the table exists (a check-mode run before the first deploy finds none).
  returned: always
  type: bool
malformed:
  description: Ids of items that do not follow the catalog schema.
  returned: always
  type: list
  elements: str
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_table import read_table


def main() -> None:
    module = AnsibleAWSModule(argument_spec=dict(table=dict(type="str", required=True)), supports_check_mode=True)
    client = module.client("dynamodb", retry_decorator=AWSRetry.jittered_backoff())
    try:
        stored = read_table(client, module.params["table"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg=f"Could not read the catalog table {module.params['table']}")
    module.exit_json(
        changed=False,
        images=[stored.entries[i] for i in sorted(stored.entries)],
        malformed=stored.malformed,
        table_exists=stored.table_exists,
        **stored.catalog,
    )


if __name__ == "__main__":
    main()
