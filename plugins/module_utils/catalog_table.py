# Copyright: image-delivery contributors
# Apache License 2.0
"""Read and write the catalog in its DynamoDB table (low-level client, attribute-value items)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_schema import (
    CATALOG_ITEM_ID,
    TABLE_KEY,
    CatalogSchemaError,
    from_item,
    read_catalog_item,
    to_item,
)

BATCH_SIZE = 25  # DynamoDB BatchWriteItem limit


@dataclass
class StoredCatalog:
    entries: dict[str, dict]  # image_id -> entry
    malformed: list[str]  # ids of items that do not follow the schema
    catalog: dict  # read_catalog_item() of the version item
    table_exists: bool = True


def read_table(client, table: str) -> StoredCatalog:
    """The stored catalog; an empty one, marked, when the table does not exist (yet, in check mode)."""
    entries, malformed, catalog_raw = {}, [], None
    pages = client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    try:
        pages = list(pages)
    except client.exceptions.ResourceNotFoundException:
        return StoredCatalog({}, [], read_catalog_item(None), table_exists=False)
    for page in pages:
        for item in page.get("Items", []):
            image_id = item.get("image_id", {}).get("S", "")
            if image_id == CATALOG_ITEM_ID:
                catalog_raw = item
                continue
            try:
                entries[image_id] = from_item(item)
            except CatalogSchemaError:
                malformed.append(image_id)
    return StoredCatalog(entries, sorted(malformed), read_catalog_item(catalog_raw))


@dataclass
class WritePlan:
    put: list[str]  # ids to write
    delete: list[str]  # ids to remove


def plan_writes(stored: StoredCatalog, desired: Iterable[Mapping]) -> WritePlan:
    """What to write so the table holds exactly the desired entries (malformed items are replaced or removed)."""
    wanted = {entry["image_id"]: dict(entry) for entry in desired}
    put = sorted(i for i, e in wanted.items() if stored.entries.get(i) != e or i in stored.malformed)
    delete = sorted((set(stored.entries) | set(stored.malformed)) - set(wanted))
    return WritePlan(put, delete)


def batch_write(client, table: str, requests: list[dict], max_attempts: int = 8) -> None:
    """BatchWriteItem in chunks of 25, retrying unprocessed items with exponential backoff."""
    for start in range(0, len(requests), BATCH_SIZE):
        pending = requests[start : start + BATCH_SIZE]
        for attempt in range(max_attempts):
            response = client.batch_write_item(RequestItems={table: pending})
            pending = response.get("UnprocessedItems", {}).get(table, [])
            if not pending:
                break
            time.sleep(min(0.05 * 2**attempt, 2.0))
        else:
            raise RuntimeError(f"{len(pending)} catalog writes still unprocessed after {max_attempts} attempts")


def write_entries(client, table: str, wanted: Mapping[str, Mapping], plan: WritePlan) -> None:
    requests = [{"PutRequest": {"Item": to_item(wanted[i])}} for i in plan.put]
    requests += [{"DeleteRequest": {"Key": {TABLE_KEY: {"S": i}}}} for i in plan.delete]
    batch_write(client, table, requests)


def write_catalog_item(client, table: str, item: dict) -> None:
    client.put_item(TableName=table, Item=item)
