"""Publishing the catalog: S3 objects, table items and invalidations on the local endpoint.

One stack is built with a small image folder of its own; each test then changes that folder the way
a user would (add, edit, re-tag, delete, break a file) and checks the endpoint's state through boto3
and the run's publish report.
"""

from __future__ import annotations

import json
import shutil

import pytest
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_schema import (
    from_item,
    read_catalog_item,
    read_snapshot,
    snapshot_key,
)

from tests.helpers.images import image_bytes, write
from tests.helpers.playbook import PROJECT_ROOT
from tests.helpers.reliability import record

from .conftest import outputs_of

STACK = "it-catalog"
DEMO = PROJECT_ROOT / "files/images"
SEED = ["photos/by-the-water.jpg", "photos/by-the-water.yml", "icons/cat-icon.gif", "science/coffee-cup.png",
        "science/coffee-cup.yml", "wallpapers/wood-dark.webp", "exif/forest-path-rotated.jpg"]  # fmt: skip
CATALOG_ITEM = "_catalog"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    for relative in SEED:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DEMO / relative, root / relative)
    return root


@pytest.fixture(scope="module")
def publish(playbook, folder):
    def run(*args: str, expect_success: bool = True, **extra_vars):
        result = playbook("playbooks/catalog.yml", *args, stack=STACK, catalog_source_dir=str(folder), **extra_vars)
        if expect_success:
            assert result.returncode == 0, result.tail()
        return result

    return run


@pytest.fixture(scope="module")
def stack(playbook, folder):
    run = playbook("site.yml", stack=STACK, catalog_source_dir=str(folder))
    assert run.returncode == 0, run.tail()
    yield outputs_of(STACK)
    playbook("playbooks/teardown.yml", stack=STACK)


def report() -> dict:
    return json.loads((PROJECT_ROOT / ".state" / STACK / "catalog-report.json").read_text())


def objects(s3, bucket: str) -> dict[str, dict]:
    found = s3.list_objects_v2(Bucket=bucket, Prefix="images/").get("Contents", [])
    return {o["Key"]: o for o in found}


def items(ddb, table: str) -> dict[str, dict]:
    return {i["image_id"]["S"]: i for i in ddb.scan(TableName=table, ConsistentRead=True)["Items"]}


def invalidations(cloudfront, distribution_id: str) -> list[dict]:
    """The distribution's invalidations, without their Status (InProgress, then Completed, as on AWS)."""
    listed = cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"].get("Items", [])
    found = [cloudfront.get_invalidation(DistributionId=distribution_id, Id=i["Id"])["Invalidation"] for i in listed]
    return [{key: value for key, value in invalidation.items() if key != "Status"} for invalidation in found]


@pytest.fixture(scope="module")
def aws(local_aws):
    return {name: local_aws.client(name) for name in ("s3", "dynamodb", "cloudfront")}


def test_first_publish_uploads_every_image_under_its_content_key(stack, aws):
    stored = objects(aws["s3"], stack["bucket"])
    table = items(aws["dynamodb"], stack["table"])
    entries = {k: v for k, v in table.items() if k != CATALOG_ITEM}
    assert len(entries) == 5  # seven files: five images and two sidecars
    assert {e["key"]["S"] for e in entries.values()} == set(stored)
    head = aws["s3"].head_object(Bucket=stack["bucket"], Key=entries["photos-by-the-water"]["key"]["S"])
    assert head["ContentType"] == "image/jpeg"
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    assert entries["photos-by-the-water"]["title"]["S"] == "Wooden jetty by the water"
    rotated = entries["exif-forest-path-rotated"]
    assert (rotated["width"]["N"], rotated["height"]["N"]) == ("1200", "750")
    assert table[CATALOG_ITEM]["version"]["S"] == stack["catalog_version"]
    assert "pending_paths" not in table[CATALOG_ITEM]
    # The version's snapshot, named by the version item, holds exactly the table's entries.
    assert table[CATALOG_ITEM]["snapshot"]["S"] == snapshot_key(stack["catalog_version"])
    assert snapshot_entries(aws, stack) == {image_id: from_item(item) for image_id, item in entries.items()}


def snapshot_entries(aws, stack) -> dict[str, dict]:
    catalog = read_catalog_item(items(aws["dynamodb"], stack["table"])[CATALOG_ITEM])
    data = aws["s3"].get_object(Bucket=stack["bucket"], Key=catalog["snapshot"])["Body"].read()
    return {entry["image_id"]: entry for entry in read_snapshot(data, catalog["version"])}


def snapshots(aws, stack) -> list[str]:
    return [o["Key"] for o in aws["s3"].list_objects_v2(Bucket=stack["bucket"], Prefix="catalog/").get("Contents", [])]


def test_a_rerun_without_changes_changes_nothing(stack, publish, aws):
    before = invalidations(aws["cloudfront"], stack["cloudfront_distribution_id"])
    run = publish()
    assert run.changed == 0, run.changed_tasks
    assert report()["uploaded"] == [] and report()["invalidation_paths"] == []
    assert invalidations(aws["cloudfront"], stack["cloudfront_distribution_id"]) == before


def newest_invalidation_paths(aws, stack) -> list[str]:
    found = invalidations(aws["cloudfront"], stack["cloudfront_distribution_id"])
    newest = max(found, key=lambda i: i["CreateTime"])
    return sorted(newest["InvalidationBatch"]["Paths"]["Items"])


def test_adding_an_image_uploads_writes_and_invalidates_only_it(stack, publish, aws, folder):
    write(folder, "photos/new-sunrise.jpg", image_bytes((320, 200), (250, 160, 40)))
    publish()
    done = report()
    assert done["added"] == ["photos-new-sunrise"] and done["changed"] == [] and done["removed"] == []
    assert len(done["uploaded"]) == 1 and done["written"] == ["photos-new-sunrise"] and done["deleted"] == []
    expected = ["/api/images/photos-new-sunrise", "/api/search*", "/image/*", "/img/photos-new-sunrise*"]
    assert done["invalidation_paths"] == expected
    assert newest_invalidation_paths(aws, stack) == expected
    assert done["uploaded"][0] in objects(aws["s3"], stack["bucket"])
    assert "photos-new-sunrise" in snapshot_entries(aws, stack)
    assert done["snapshot_patched"] is True  # the previous snapshot with the one chunk that changed
    assert len(snapshots(aws, stack)) == 2  # this version's and the previous one (workers may still load it)


def test_editing_an_image_uploads_the_new_bytes_under_a_new_key(stack, publish, aws, folder):
    old_key = items(aws["dynamodb"], stack["table"])["icons-cat-icon"]["key"]["S"]
    write(folder, "icons/cat-icon.gif", image_bytes((64, 64), (20, 20, 20), "GIF"))
    publish()
    done = report()
    assert done["changed"] == ["icons-cat-icon"] and done["written"] == ["icons-cat-icon"]
    new_key = items(aws["dynamodb"], stack["table"])["icons-cat-icon"]["key"]["S"]
    assert new_key != old_key and done["uploaded"] == [new_key]
    assert old_key in objects(aws["s3"], stack["bucket"])  # old content stays for caches still holding it
    expected = ["/api/images/icons-cat-icon", "/api/search*", "/image/*", "/img/icons-cat-icon*"]
    assert done["invalidation_paths"] == expected


def test_retagging_changes_metadata_without_upload_or_variant_invalidation(stack, publish, folder):
    write(folder, "science/coffee-cup.yml", b"title: Espresso\ntags: [coffee, crema]\n")
    publish()
    done = report()
    assert done["changed"] == ["science-coffee-cup"] and done["uploaded"] == []
    assert done["invalidation_paths"] == ["/api/images/science-coffee-cup", "/api/search*", "/image/*"]


def test_deleting_an_image_removes_its_entry_and_invalidates_it(stack, publish, aws, folder):
    (folder / "wallpapers/wood-dark.webp").unlink()
    publish()
    done = report()
    assert done["removed"] == ["wallpapers-wood-dark"] and done["deleted"] == ["wallpapers-wood-dark"]
    assert done["uploaded"] == [] and done["written"] == []
    assert "wallpapers-wood-dark" not in items(aws["dynamodb"], stack["table"])
    assert "/img/wallpapers-wood-dark*" in done["invalidation_paths"]
    assert "wallpapers-wood-dark" not in snapshot_entries(aws, stack)
    assert len(snapshots(aws, stack)) == 2


def test_a_lost_snapshot_is_written_again(stack, publish, aws):
    catalog = read_catalog_item(items(aws["dynamodb"], stack["table"])[CATALOG_ITEM])
    aws["s3"].delete_object(Bucket=stack["bucket"], Key=catalog["snapshot"])
    assert publish().changed == 1
    assert report()["read_table"] is False  # the table still announces the version the scan compared with
    table_ids = {image_id for image_id in items(aws["dynamodb"], stack["table"]) if image_id != CATALOG_ITEM}
    assert snapshot_entries(aws, stack).keys() == table_ids
    assert publish().changed == 0


def test_an_image_deleted_from_the_bucket_is_uploaded_again_when_the_bucket_is_verified(stack, publish, aws):
    """A publish looks at the changes only: an object deleted behind its back stays missing until a
    run with catalog_verify_bucket, which uploads it again (and only it), then changes nothing."""
    table = items(aws["dynamodb"], stack["table"])
    key = table["icons-cat-icon"]["key"]["S"]
    aws["s3"].delete_object(Bucket=stack["bucket"], Key=key)
    assert publish().changed == 0 and key not in objects(aws["s3"], stack["bucket"])
    assert publish(catalog_verify_bucket=True).changed == 1
    assert report()["uploaded"] == [key] and key in objects(aws["s3"], stack["bucket"])
    assert aws["s3"].head_object(Bucket=stack["bucket"], Key=key)["ContentType"] == "image/gif"
    assert publish(catalog_verify_bucket=True).changed == 0


def test_a_publish_stopped_while_writing_entries_is_repaired_from_the_table(stack, publish, aws, folder):
    """A run stopped after it began writing entries (the version item names the version it was
    writing) left the table neither version's: here an entry is lost. The next run does not trust
    the published snapshot: it reads the table, writes what it lacks and clears the mark."""
    ddb, table = aws["dynamodb"], stack["table"]
    catalog = read_catalog_item(items(ddb, table)[CATALOG_ITEM])
    ddb.update_item(
        TableName=table,
        Key={"image_id": {"S": CATALOG_ITEM}},
        UpdateExpression="SET writing = :v",
        ExpressionAttributeValues={":v": {"S": "0123456789abcdef"}},
    )
    ddb.delete_item(TableName=table, Key={"image_id": {"S": "photos-by-the-water"}})
    write(folder, "photos/drift-check.jpg", image_bytes((200, 120), (10, 90, 200)))
    publish()
    done = report()
    # Compared with what the table holds: the lost entry is added again, with the new image.
    assert done["added"] == ["photos-by-the-water", "photos-drift-check"] and done["read_table"] is True
    assert done["written"] == ["photos-by-the-water", "photos-drift-check"]
    stored = items(ddb, table)
    assert "writing" not in stored[CATALOG_ITEM] and "photos-by-the-water" in stored
    assert snapshot_entries(aws, stack).keys() == {image_id for image_id in stored if image_id != CATALOG_ITEM}
    assert read_catalog_item(stored[CATALOG_ITEM])["version"] != catalog["version"]
    assert publish().changed == 0


def test_a_corrupt_image_is_skipped_and_the_catalog_stays_intact(stack, publish, aws, folder):
    before = items(aws["dynamodb"], stack["table"])
    write(folder, "photos/broken.jpg", image_bytes((300, 200))[:300])
    publish()
    done = report()
    assert [s["path"] for s in done["skipped"]] == ["photos/broken.jpg"]
    assert "corrupt" in done["skipped"][0]["reason"]
    assert items(aws["dynamodb"], stack["table"]) == before
    strict = publish(expect_success=False, catalog_fail_on_skipped=True)
    assert strict.returncode != 0 and "photos/broken.jpg" in strict.output
    (folder / "photos/broken.jpg").unlink()
    record("corrupt-image", f"skipped: {done['skipped'][0]['reason']}; catalog unchanged ({len(before)} items)",
           "skipped with a reason, catalog intact", True, items=len(before))  # fmt: skip


def test_check_mode_reports_a_change_and_writes_nothing(stack, publish, aws, folder):
    before = (objects(aws["s3"], stack["bucket"]), items(aws["dynamodb"], stack["table"]))
    write(folder, "photos/dry-run.png", image_bytes((50, 50), (1, 2, 3), "PNG"))
    run = publish("--check")
    assert run.changed > 0
    assert (objects(aws["s3"], stack["bucket"]), items(aws["dynamodb"], stack["table"])) == before
    (folder / "photos/dry-run.png").unlink()
    assert publish().changed == 0


def test_an_interrupted_run_is_completed_once_by_the_next(stack, publish, aws):
    """A run that recorded its plan but died before invalidating: the next run invalidates the
    pending paths exactly once and clears them."""
    ddb, table = aws["dynamodb"], stack["table"]
    ddb.update_item(
        TableName=table,
        Key={"image_id": {"S": CATALOG_ITEM}},
        UpdateExpression="SET pending_paths = :p",
        ExpressionAttributeValues={":p": {"L": [{"S": "/api/images/photos-by-the-water"}]}},
    )
    count = len(invalidations(aws["cloudfront"], stack["cloudfront_distribution_id"]))
    publish()
    assert newest_invalidation_paths(aws, stack) == ["/api/images/photos-by-the-water"]
    assert "pending_paths" not in items(ddb, table)[CATALOG_ITEM]
    assert publish().changed == 0
    assert len(invalidations(aws["cloudfront"], stack["cloudfront_distribution_id"])) == count + 1
