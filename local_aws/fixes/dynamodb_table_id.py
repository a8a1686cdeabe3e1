"""DynamoDB DescribeTable: add the `TableId` that real DynamoDB returns.

Upstream gap (moto 5.2.5): `Table.describe()` has `# 'TableId': 'string'` commented out, so
community.aws.dynamodb_table fails on its second run with KeyError 'table_id'.
"""

from __future__ import annotations

import uuid
from typing import Any

from ._patching import Fix


def table_id_for(table_arn: str) -> str:
    """A stable UUID per table ARN (real DynamoDB returns a random UUID fixed at creation)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, table_arn))


def _patches() -> list[tuple[Any, str, Any]]:
    from moto.dynamodb.models.table import Table

    original_describe = Table.describe

    def describe(self: Table, base_key: str = "TableDescription") -> dict[str, Any]:
        result = original_describe(self, base_key)
        result[base_key].setdefault("TableId", table_id_for(self.table_arn))
        return result

    return [(Table, "describe", describe)]


FIX = Fix(
    name="dynamodb-table-id",
    upstream_gap="DescribeTable lacks TableId (community.aws.dynamodb_table: KeyError 'table_id')",
    patches=_patches,
)
