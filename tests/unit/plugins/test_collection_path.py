"""The collection_path lookup: files shipped in the collection, found wherever it is installed
(tests/unit/collection/test_collection.py runs it from a built tarball)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleLookupError
from ansible_collections.image_delivery.stack.plugins.lookup.collection_path import (
    COLLECTION_ROOT,
    LookupModule,
    collection_paths,
)

from tests.helpers.playbook import PROJECT_ROOT


def test_in_place_the_collection_root_is_this_repository_with_links_resolved():
    assert PROJECT_ROOT.resolve() == COLLECTION_ROOT
    assert LookupModule().run(["files/web", "."]) == [str(COLLECTION_ROOT / "files/web"), str(COLLECTION_ROOT)]


@pytest.mark.parametrize("relative", ["/etc/passwd", "../outside", "files/../../outside", ""])
def test_paths_outside_the_collection_are_refused(relative):
    with pytest.raises(AnsibleLookupError, match="must be a path inside the collection"):
        collection_paths([relative])


def test_a_missing_path_fails_naming_it(tmp_path):
    (tmp_path / "files").mkdir()
    assert collection_paths(["files"], root=tmp_path) == [str(tmp_path / "files")]
    with pytest.raises(AnsibleLookupError, match="'files/web' is not in the collection"):
        collection_paths(["files/web"], root=tmp_path)
