from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.image_delivery.stack.plugins.filter import (
    catalog_diff,
    catalog_objects,
    catalog_search_tokens,
    invalidation_paths,
)

FILTERS = {
    name: function
    for plugin in (invalidation_paths, catalog_diff, catalog_search_tokens, catalog_objects)
    for name, function in plugin.FilterModule().filters().items()
}
RULES = {"on_any_change": ["/api/search*"], "per_entry": ["/api/images/{image_id}"], "immutable": ["/images/"]}


def test_invalidation_paths_plans_from_a_module_change():
    change = {"added": ["a"], "changed": [], "content_changed": [], "removed": [], "unchanged": ["b"]}
    assert FILTERS["invalidation_paths"](change, RULES) == ["/api/images/a", "/api/search*"]


@pytest.mark.parametrize(
    ("change", "rules", "message"),
    [
        ("added", RULES, "expects a change"),
        ({"added": "a"}, RULES, "expects a change"),
        ({"added": ["a"]}, {"per_entry": ["/x"]}, "must contain"),
    ],
)
def test_invalidation_paths_refuses_bad_input(change, rules, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS["invalidation_paths"](change, rules)


def test_catalog_objects_maps_entries_to_uploads():
    entries = [{"path": "a/b.jpg", "key": "images/0/a-b.jpg", "content_type": "image/jpeg"}]
    assert FILTERS["catalog_objects"](entries, "/srv/images/") == [
        {"src": "/srv/images/a/b.jpg", "key": "images/0/a-b.jpg", "content_type": "image/jpeg"}
    ]
    with pytest.raises(AnsibleFilterError, match="lacks"):
        FILTERS["catalog_objects"]([{"path": "x"}], "/srv")


def test_catalog_diff_validates_entries():
    with pytest.raises(AnsibleFilterError, match="catalog_diff"):
        FILTERS["catalog_diff"]([{"image_id": "a"}], [])
