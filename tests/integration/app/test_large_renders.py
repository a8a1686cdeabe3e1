"""Large renders take turns across the API's workers (image_api/render_slot.py): while another
holds the instance's slot, a large render waits, then answers 503 with Retry-After, and renders
once the slot is free; small ones never wait."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from image_api.render_slot import large_render_slot

from .conftest import Server, running_api


@pytest.fixture(scope="module")
def strict_api(local_aws, published, tmp_path_factory) -> Iterator[tuple[Server, object]]:
    work = tmp_path_factory.mktemp("large-renders")
    # Every PNG, WebP and GIF of the catalog counts as large here; JPEGs never do.
    with running_api(local_aws, work, large_render_bytes="1", large_render_wait_seconds="0.5") as server:
        yield server, work / "cache" / "large-render.lock"


def test_a_large_render_waits_for_the_slot_then_says_busy(strict_api):
    server, lock_file = strict_api
    png = "/img/science-chelsea-the-cat?w=128&fmt=webp"
    jpeg = "/img/photos-by-the-water?w=128&fmt=webp"
    with large_render_slot(lock_file, 5):  # held as another worker's render would hold it
        status, headers, data = server.request(png)
        assert status == 503 and headers["retry-after"] == "1"
        assert json.loads(data)["error"] == "busy" and headers["cache-control"] == "no-store"
        assert server.request(jpeg)[0] == 200  # not large: no turn to wait for
    assert server.request(png)[0] == 200
