"""The loaded catalog holds one copy of each entry, and one object per repeated value."""

from __future__ import annotations

import json

from image_api.catalog import CatalogHolder, share_repeated_values
from image_api.catalog_schema import validate_entry


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
        return "v1", [json.loads(json.dumps(e)) for e in self.entries], 0


def test_repeated_values_become_one_object_and_stay_equal():
    first, second = json.loads(json.dumps(entry("a", ["lake", "sky"]))), json.loads(json.dumps(entry("b", ["sky"])))
    assert first["content_type"] is not second["content_type"]
    share_repeated_values([first, second])
    assert first["content_type"] is second["content_type"] and first["tags"][1] is second["tags"][0]
    assert first == entry("a", ["lake", "sky"]) and second == entry("b", ["sky"])


def test_the_search_and_similar_indexes_share_each_entry():
    holder = CatalogHolder(ListSource([entry("a", ["lake"]), entry("b", ["sky"])]), refresh_seconds=60)
    assert holder.load()
    loaded = holder.current
    assert loaded.index.entries["a"] is loaded.similar.entries["a"]
    assert loaded.index.entries["a"]["format"] is loaded.index.entries["b"]["format"]
