"""The loaded catalog is held compactly (columns.py): each entry once, as a compressed record that
decodes to the entry as published, and the indexes share one set of columns."""

from __future__ import annotations

import json

import pytest
from image_api import catalog_file
from image_api.catalog import CatalogHolder, in_id_order
from image_api.catalog_schema import validate_entry
from image_api.columns import CatalogColumns


def entry(image_id: str, tags: list[str]) -> dict:
    sha = "ab" * 32
    return validate_entry({
        "image_id": image_id, "name": f"{image_id}.jpg", "path": f"{image_id}.jpg", "title": image_id, "tags": tags,
        "sha256": sha, "key": f"images/{sha[:16]}/{image_id}.jpg", "content_type": "image/jpeg", "format": "jpeg",
        "width": 640, "height": 480, "orientation": "landscape", "bytes": 1000, "colour": "#336699",
        "colours": ["blue"], "phash": "", "placeholder": "", "focus": "",
    })  # fmt: skip


class ListSource:
    def __init__(self, entries: list[dict]) -> None:
        self.entries = entries

    def load(self):
        # As the real sources give them: freshly parsed objects, equal values never the same object.
        return "v1", in_id_order([json.loads(json.dumps(e)) for e in self.entries]), 0


def test_every_record_reads_back_as_its_entry():
    entries = [entry(f"img-{n:03d}", ["lake", f"tag{n % 7}"]) for n in range(21)]
    columns = CatalogColumns.build(reversed(entries))  # any order in: ordinals follow the ids
    records = columns.records
    assert list(records) == [e["image_id"] for e in entries] and len(records) == len(entries)
    for ordinal, original in enumerate(entries):
        assert records.ordinal(original["image_id"]) == ordinal
        assert records[original["image_id"]] == original
    assert "img-999" not in records and records.get("img-999") is None
    with pytest.raises(KeyError):
        records["img-999"]
    assert columns.facets["tags"].of_entry(9) == ["lake", "tag2"] and columns.widths[9] == 640


def test_the_search_and_similar_indexes_share_one_set_of_columns():
    holder = CatalogHolder(ListSource([entry("a", ["lake"]), entry("b", ["sky"])]), refresh_seconds=60)
    assert holder.load()
    loaded = holder.current
    assert loaded.index.columns is loaded.similar.columns
    assert loaded.index.entries["b"] == entry("b", ["sky"])
    changed = loaded.index.entries["b"]
    changed["tags"].append("changed")  # a caller's copy: the catalog is not changed through it
    assert loaded.index.entries["b"]["tags"] == ["sky"]


class ScriptedSource:
    """Gives the entries as given, in that order (a snapshot streams them so)."""

    def __init__(self, version: str, entries: list[dict]) -> None:
        self.version_text, self.entries = version, entries

    def version(self) -> str:
        return self.version_text

    def load(self):
        return self.version_text, iter(self.entries), 0


def test_a_source_out_of_id_order_keeps_the_catalog_loaded_before(tmp_path):
    source = ScriptedSource("v1", [entry("a", ["lake"]), entry("b", ["sky"])])
    for shared_dir in (None, tmp_path):
        holder = CatalogHolder(source, refresh_seconds=60, shared_dir=shared_dir)
        source.version_text, source.entries = "v1", [entry("a", ["lake"]), entry("b", ["sky"])]
        assert holder.load()
        source.version_text, source.entries = "v2", [entry("c", ["sea"]), entry("b", ["sky"]), entry("d", [])]
        assert not holder.refresh_if_changed()
        assert holder.current.version == "v1" and "must be in id order" in holder.last_error
        assert holder.current.index.search("lake").ids == ["a"]
    assert catalog_file.path_for(tmp_path, "v1").exists()  # the shared file of the version still served
