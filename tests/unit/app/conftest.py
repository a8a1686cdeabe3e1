"""Import the image API package from the source tree; the demo set's search index."""

from __future__ import annotations

import sys

import pytest

from tests.helpers.playbook import PROJECT_ROOT

APP_SOURCE = str(PROJECT_ROOT / "files/app/src")
if APP_SOURCE not in sys.path:
    sys.path.insert(0, APP_SOURCE)


@pytest.fixture(scope="session")
def demo_index():
    """The demo set (files/images) as the publisher indexes it, and its search index."""
    from ansible_collections.image_delivery.stack.plugins.module_utils.image_scan import scan
    from image_api.search import SearchIndex

    entries = scan(PROJECT_ROOT / "files/images").entries
    return SearchIndex.build(entries), entries
