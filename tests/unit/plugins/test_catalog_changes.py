"""catalog_changes: the changes from the published catalog, from the cache or from the snapshot,
and the new catalog's snapshot, patched or whole, always the bytes snapshot_bytes writes."""

from __future__ import annotations

import os

import pytest
import yaml
from ansible_collections.image_delivery.stack.plugins.module_utils import catalog_changes as changes_module
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_changes import catalog_changes
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_schema import (
    catalog_version,
    read_snapshot,
    snapshot_bytes,
)
from ansible_collections.image_delivery.stack.plugins.module_utils.image_scan import cache_text, read_cache_text, scan

from tests.helpers.images import image_bytes, write


def scanned(root, cache=None):
    return scan(root, cache=read_cache_text(cache_text(cache)) if cache else None, load_yaml=yaml.safe_load)


def publish(root, cache=None, previous_version="", previous_snapshot=None):
    """One publish as the image_catalog module makes it: the scan, its changes and snapshot, and
    the cache it stores (with the version its entries made)."""
    result = scanned(root, cache)
    found = catalog_changes(result, cache or {}, previous_version, previous_snapshot, True)
    return result, found, {**result.cache, "version": found.version}


@pytest.fixture
def folder(tmp_path):
    write(tmp_path, "a/lake.jpg", image_bytes((64, 48), (10, 90, 200)))
    write(tmp_path, "a/forest.jpg", image_bytes((48, 64), (20, 140, 30)))
    write(tmp_path, "b/cat.png", image_bytes((40, 40), (200, 120, 40), "PNG"))
    write(tmp_path, "b/cat.yml", b"tags: [pet]\n")
    return tmp_path


def change_the_folder(root):
    write(root, "a/lake.jpg", image_bytes((64, 48), (200, 10, 10)))  # new bytes
    os.remove(root / "a/forest.jpg")
    write(root, "b/cat.yml", b"tags: [pet, orange]\n")  # metadata only
    write(root, "c/new.jpg", image_bytes((30, 20), (5, 5, 5)))


def test_a_first_publish_adds_everything_and_writes_the_snapshot_whole(folder):
    result, found, _ = publish(folder)
    entries = result.entries
    assert found.compared_by == "none" and found.compared_with == "" and not found.snapshot_patched
    assert found.changes == {
        "added": ["a-forest", "a-lake", "b-cat"],
        "changed": [],
        "content_changed": [],
        "removed": [],
    }
    assert found.version == catalog_version(entries)
    assert found.snapshot == snapshot_bytes(found.version, entries)
    assert [e["image_id"] for e in found.changed_images] == ["a-forest", "a-lake", "b-cat"]


@pytest.mark.parametrize("known_by", ["cache", "snapshot"])
def test_changes_from_the_cache_or_the_snapshot_are_the_same(folder, known_by):
    """With the cache of the published version the changes come from the lines the scan changed;
    without it (another machine published, the cache was lost) from the published snapshot: the
    same changes, and the same new snapshot, patched from the published one."""
    _, first, cache = publish(folder)
    change_the_folder(folder)
    result, found, _ = publish(folder, cache if known_by == "cache" else None, first.version, first.snapshot)
    assert found.compared_by == known_by and found.compared_with == first.version
    assert found.changes == {
        "added": ["c-new"],
        "changed": ["a-lake", "b-cat"],
        "content_changed": ["a-lake"],
        "removed": ["a-forest"],
    }
    assert [e["image_id"] for e in found.changed_images] == ["a-lake", "b-cat", "c-new"]
    assert "orange" in found.changed_images[1]["tags"]
    assert found.snapshot_patched
    assert found.version == catalog_version(result.entries)
    assert found.snapshot == snapshot_bytes(found.version, result.entries)
    assert read_snapshot(found.snapshot, found.version) == sorted(result.entries, key=lambda e: e["image_id"])


def test_a_cache_of_another_version_is_not_trusted(folder):
    """The cache made a version that is not the published one (a publish failed after the scan, or
    another machine published since): every entry is compared with the published snapshot."""
    _, first, cache = publish(folder)
    change_the_folder(folder)
    _, second, newer_cache = publish(folder, cache, first.version, first.snapshot)
    # The table still announces the first version (the second publish did not reach it).
    _, again, _ = publish(folder, newer_cache, first.version, first.snapshot)
    assert again.compared_by == "snapshot" and again.changes == second.changes
    assert (again.version, again.snapshot) == (second.version, second.snapshot)


def test_an_unchanged_folder_changes_nothing(folder):
    _, first, cache = publish(folder)
    _, again, _ = publish(folder, cache, first.version, first.snapshot)
    assert again.compared_by == "cache" and not any(again.changes.values()) and again.changed_images == []
    assert (again.version, again.snapshot) == (first.version, first.snapshot) and again.unchanged == 3


def test_without_the_published_snapshot_the_new_one_is_written_whole(folder):
    _, first, cache = publish(folder)
    change_the_folder(folder)
    result, found, _ = publish(folder, cache, first.version, None)
    assert found.compared_by == "cache" and not found.snapshot_patched
    assert found.snapshot == snapshot_bytes(found.version, result.entries)


def test_a_snapshot_of_another_version_is_not_compared_with(folder):
    _, first, _ = publish(folder)
    _, found, _ = publish(folder, None, "0123456789abcdef", first.snapshot)
    assert found.compared_by == "none" and found.compared_with == ""


def change_every_way(root):
    """Each way a folder changes between publishes: new bytes, new metadata, a file gone, one new,
    one no longer an image, one touched (its bytes the same) and one that takes a gone file's id."""
    change_the_folder(root)
    touched = root / "d/same.jpg"
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))  # the same entry
    write(root, "c/broken.jpg", b"not an image")
    write(root, "a/forest.png", image_bytes((48, 64), (20, 140, 31), "PNG"))  # a-forest again, another path


@pytest.mark.parametrize("collisions_known", [True, False])
def test_changes_from_the_replaced_records_are_those_of_every_entry(folder, collisions_known, monkeypatch):
    """Without an id taken by two paths the changes come from the records the scan replaced and
    indexed only (the cache's other records not even read); with the count unknown (an older
    cache) every entry is compared: the same changes."""
    write(folder, "c/broken.jpg", image_bytes((20, 20), (1, 2, 3)))
    write(folder, "d/same.jpg", image_bytes((20, 20), (3, 2, 1)))
    _, first, cache = publish(folder)
    assert cache["collisions"] == 0
    change_every_way(folder)
    if collisions_known:
        monkeypatch.setattr(changes_module, "kept_records", None)  # every entry is not compared
    else:
        del cache["collisions"]
    result, found, after = publish(folder, cache, first.version, first.snapshot)
    assert after["collisions"] == 0 and found.compared_by == "cache"
    assert found.changes == {
        "added": ["c-new"],
        "changed": ["a-forest", "a-lake", "b-cat"],
        "content_changed": ["a-forest", "a-lake"],
        "removed": ["c-broken"],
    }
    assert found.unchanged == 1 and result.stats["indexed"] == 6  # d-same: read again, the same entry
    assert found.snapshot == snapshot_bytes(found.version, result.entries)
    assert found.version == catalog_version(result.entries)


def test_an_id_taken_by_two_paths_compares_every_entry(folder):
    """Two paths with one id (a/lake.jpg and a/lake.png): the first path keeps it. Removing that
    one gives the id to the other, a change found by comparing in order, before and now."""
    write(folder, "a/lake.png", image_bytes((64, 48), (90, 90, 90), "PNG"))
    result, first, cache = publish(folder)
    assert cache["collisions"] == result.collisions == 1
    os.remove(folder / "a/lake.jpg")
    result, found, after = publish(folder, cache, first.version, first.snapshot)
    assert after["collisions"] == 0
    assert found.changes["changed"] == ["a-lake"] and found.changes["content_changed"] == ["a-lake"]
    assert [e["format"] for e in found.changed_images] == ["png"]
    assert found.snapshot == snapshot_bytes(found.version, result.entries)
