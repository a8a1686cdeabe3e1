from __future__ import annotations

import io

import pytest
from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_schema import COLOUR_NAMES
from ansible_collections.image_delivery.stack.plugins.module_utils.colour_names import colour_name, palette_names
from ansible_collections.image_delivery.stack.plugins.module_utils.image_inspect import inspect_image
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image


@pytest.mark.parametrize(
    ("rgb", "name"),
    [
        ((220, 30, 30), "red"), ((250, 140, 20), "orange"), ((240, 220, 40), "yellow"), ((40, 160, 60), "green"),
        ((20, 150, 150), "teal"), ((30, 80, 200), "blue"), ((120, 40, 170), "purple"), ((230, 80, 170), "pink"),
        ((250, 180, 190), "pink"), ((120, 70, 30), "brown"), ((10, 10, 12), "black"), ((128, 128, 130), "grey"),
        ((245, 245, 242), "white"), ((70, 70, 75), "grey"),
    ],
)  # fmt: skip
def test_colours_get_the_name_a_person_would_give(rgb, name):
    assert colour_name(*rgb) == name


@given(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255))
def test_every_colour_has_one_of_the_catalogs_names(red, green, blue):
    assert colour_name(red, green, blue) in COLOUR_NAMES


def test_a_palette_names_the_colours_covering_enough_of_the_image_largest_first():
    shares = [(0.5, (30, 80, 200)), (0.1, (40, 90, 210)), (0.3, (250, 140, 20)), (0.1, (240, 220, 40))]
    assert palette_names(shares) == ["blue", "orange"]  # blue summed over two shades; yellow under 15 %
    assert palette_names([(0.05, (30, 80, 200)), (0.04, (250, 140, 20))]) == ["blue"]  # the largest, always


def test_an_image_half_blue_half_orange_is_named_both():
    image = Image.new("RGB", (80, 40), (30, 80, 200))
    image.paste((250, 140, 20), (0, 0, 30, 40))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    facts = inspect_image(buffer.getvalue(), 10_000_000)
    assert facts.colours == ["blue", "orange"]
