"""The demo set's search index (the image API package imports from files/app/src: pyproject.toml's pythonpath)."""

from __future__ import annotations

import pytest

from tests.helpers.playbook import PROJECT_ROOT


@pytest.fixture(scope="session")
def demo_index():
    """The demo set (files/images) as the publisher indexes it, and its search index."""
    from ansible_collections.image_delivery.stack.plugins.module_utils.image_scan import scan
    from image_api.search import SearchIndex

    entries = scan(PROJECT_ROOT / "files/images").entries
    return SearchIndex.build(entries), entries
