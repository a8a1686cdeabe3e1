"""What fit=cover keeps: the image's focal point (its sidecar's focus), else the region with the
most detail (gravity=auto, deterministic), or the middle (gravity=center)."""

from __future__ import annotations

import io

import pytest
from image_api.config import Settings
from image_api.errors import ApiError
from image_api.resize import Variant, canonical_query, crop_box, parse_variant, render
from PIL import Image, ImageStat

from tests.helpers.images import detailed_scene as scene

SETTINGS = Settings(table="t", bucket="b")


def detail(data: bytes) -> float:
    """How much the rendered picture varies: high when it shows the chequerboard."""
    with Image.open(io.BytesIO(data)) as image:
        return ImageStat.Stat(image.convert("L")).stddev[0]


def square(gravity: str = "auto") -> Variant:
    return Variant(256, 256, "cover", "png", SETTINGS.default_quality, gravity)


@pytest.mark.parametrize(("width", "height", "detail_at"), [(800, 400, 0.85), (800, 400, 0.12), (400, 800, 0.85)])
def test_auto_keeps_the_detailed_region_where_center_loses_it(width, height, detail_at):
    data = scene(width, height, detail_at)
    auto, center = render(data, square(), SETTINGS), render(data, square("center"), SETTINGS)
    assert Image.open(io.BytesIO(auto)).size == (256, 256)
    assert detail(auto) > 15 > 1 > detail(center)
    assert render(data, square(), SETTINGS) == auto  # the same source always crops the same way


def test_a_focal_point_wins_over_detail():
    data = scene()
    at_left = render(data, square(), SETTINGS, focus=(0.05, 0.5))
    assert detail(at_left) < 1  # the flat left part, though the detail is on the right
    assert detail(render(data, square(), SETTINGS, focus=(0.85, 0.5))) > 15
    assert detail(render(data, square("center"), SETTINGS, focus=(0.85, 0.5))) < 1  # center means center


def test_the_focus_box_stops_at_the_edges():
    with Image.open(io.BytesIO(scene())) as image:
        assert crop_box(image, (100, 100), "auto", (1.0, 1.0)) == (400.0, 0.0, 800.0, 400.0)
        assert crop_box(image, (100, 100), "auto", (0.0, 0.0)) == (0.0, 0.0, 400.0, 400.0)
        assert crop_box(image, (200, 100), "auto", None) == (0.0, 0.0, 800.0, 400.0)  # same ratio: all of it


def test_gravity_is_part_of_a_cover_variant_only():
    assert parse_variant({"w": "256", "h": "256", "fit": "cover", "gravity": "center"}, SETTINGS).gravity == "center"
    contained = parse_variant({"w": "256", "h": "256", "gravity": "center"}, SETTINGS)
    assert contained.gravity == "auto" and "gravity" not in canonical_query(contained, SETTINGS)
    cover = parse_variant({"w": "256", "h": "256", "fit": "cover"}, SETTINGS)
    assert canonical_query(cover, SETTINGS) == {"w": "256", "h": "256", "fit": "cover", "fmt": "webp"}
    with pytest.raises(ApiError, match="gravity must be one of auto, center"):
        parse_variant({"w": "256", "h": "256", "fit": "cover", "gravity": "north"}, SETTINGS)
