"""The API loads a published version from its snapshot in the bucket: one GET, no table scan.

The table here holds the version item only (no entry items): what the API serves can only have
come from the snapshot the item names. A new version with its own snapshot is picked up by the
refresh, and a snapshot that does not match the announced version keeps the catalog it had.
"""

from __future__ import annotations

import time

import pytest
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_schema import (
    catalog_item,
    catalog_version,
    snapshot_bytes,
    snapshot_key,
)

from .conftest import BUCKET, running_api

TABLE = "api-snapshot-catalog"


def announce(local_aws, entries: list[dict], snapshot_entries: list[dict] | None = None) -> str:
    """Write the snapshot (of snapshot_entries, by default the same) and the version item naming it."""
    version = catalog_version(entries)
    local_aws.client("s3").put_object(
        Bucket=BUCKET, Key=snapshot_key(version), Body=snapshot_bytes(version, entries)
        if snapshot_entries is None else snapshot_bytes(catalog_version(snapshot_entries), snapshot_entries),
    )  # fmt: skip
    local_aws.client("dynamodb").put_item(
        TableName=TABLE, Item=catalog_item(version, len(entries), snapshot=snapshot_key(version))
    )
    return version


@pytest.fixture(scope="module")
def snapshot_api(local_aws, published, tmp_path_factory):
    local_aws.client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "image_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "image_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    entries = sorted(published.entries.values(), key=lambda e: e["image_id"])
    announce(local_aws, entries[:3])
    with running_api(local_aws, tmp_path_factory.mktemp("snapshot-api"), table=TABLE) as server:
        yield server, entries


def wait_until(condition, what: str, attempts: int = 100) -> None:
    for _ in range(attempts):
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"never {what}")


def test_the_api_serves_the_snapshot_the_version_item_names(snapshot_api, local_aws):
    server, entries = snapshot_api
    assert local_aws.client("dynamodb").scan(TableName=TABLE)["Count"] == 1  # the version item only
    assert server.json("/readyz")[1]["images"] == 3
    assert server.json(f"/api/images/{entries[0]['image_id']}")[0] == 200
    # A new version: its snapshot is loaded by the workers' refresh.
    announce(local_aws, entries[:5])
    newest = f"/api/images/{entries[4]['image_id']}"
    # Every worker (each refreshes on its own): eight answers in a row from the new version.
    wait_until(lambda: all(server.json(newest)[0] == 200 for _ in range(8)), "served the new version")
    assert server.json("/readyz")[1]["images"] == 5


def test_a_snapshot_of_another_version_keeps_the_loaded_catalog(snapshot_api, local_aws):
    server, entries = snapshot_api
    before = server.json("/readyz")[1]
    announce(local_aws, entries[:2], snapshot_entries=entries[:1])
    refused = (
        f"catalog load failed: CatalogSchemaError: the catalog snapshot holds version {catalog_version(entries[:1])!r}"
    )
    wait_until(lambda: server.log.read_text().count(refused) >= 2, "refused the snapshot in both workers")
    assert server.json("/readyz")[1] == before
