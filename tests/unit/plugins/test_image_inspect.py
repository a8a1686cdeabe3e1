from __future__ import annotations

import io

import pytest
from ansible_collections.image_delivery.stack.plugins.module_utils.image_inspect import ImageRejected, inspect_image
from PIL import Image

from tests.helpers.images import (
    EXIF_IMAGE_DESCRIPTION,
    EXIF_ORIENTATION,
    EXIF_XP_KEYWORDS,
    huge_png,
    image_bytes,
    with_iptc_keywords,
)

LIMIT = 10_000_000


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_supported_formats_give_size_and_colour(fmt):
    facts = inspect_image(image_bytes((40, 30), (10, 200, 20), fmt), LIMIT)
    assert facts.format == fmt.lower()
    assert (facts.width, facts.height) == (40, 30)
    red, green, blue = (int(facts.colour[i : i + 2], 16) for i in (1, 3, 5))
    assert green > 150 and red < 60 and blue < 60  # lossy formats shift the colour a little


def test_exif_orientation_swaps_the_displayed_size():
    facts = inspect_image(image_bytes((40, 30), exif={EXIF_ORIENTATION: 6}), LIMIT)
    assert (facts.width, facts.height, facts.exif_orientation) == (30, 40, 6)


def test_exif_description_and_keywords_are_read():
    exif = {EXIF_IMAGE_DESCRIPTION: "A red square", EXIF_XP_KEYWORDS: "red;square".encode("utf-16-le") + b"\0\0"}
    facts = inspect_image(image_bytes(exif=exif), LIMIT)
    assert facts.description == "A red square"
    assert facts.keywords == ["red", "square"]


def test_iptc_keywords_are_read():
    facts = inspect_image(with_iptc_keywords(image_bytes(), ["sunset", "beach"]), LIMIT)
    assert facts.keywords == ["sunset", "beach"]


def test_a_truncated_jpeg_is_rejected_as_corrupt():
    data = image_bytes((400, 300))
    with pytest.raises(ImageRejected, match="corrupt jpeg"):
        inspect_image(data[: len(data) // 2], LIMIT)


def test_garbage_is_rejected():
    with pytest.raises(ImageRejected, match="not an image"):
        inspect_image(b"this is not an image", LIMIT)


def test_an_unsupported_format_is_rejected():
    with pytest.raises(ImageRejected, match="unsupported format TIFF"):
        inspect_image(image_bytes(fmt="TIFF"), LIMIT)


def test_a_decompression_bomb_is_rejected_before_decoding():
    with pytest.raises(ImageRejected, match="decompression bomb"):
        inspect_image(huge_png(5000, 5000), LIMIT)


def test_a_16_bit_greyscale_png_is_seen_with_its_tones():
    """Pillow opens it as I;16; a plain conversion would make a mid-grey picture white."""
    grey = Image.new("I;16", (64, 64), 128 * 257)
    buffer = io.BytesIO()
    grey.save(buffer, "PNG")
    facts = inspect_image(buffer.getvalue(), 1_000_000)
    assert facts.colour == "#808080" and facts.colours == ["grey"]
