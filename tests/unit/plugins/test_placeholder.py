"""The catalog's placeholders (module_utils/placeholder.py) are ThumbHashes as the format's
author defines them: held to his reference encoder and decoded with his reference decoder (the
copy the page uses, files/web/thumbhash.js, run under Node.js)."""

from __future__ import annotations

import base64
import io

import pytest
from ansible_collections.image_delivery.stack.plugins.module_utils.image_inspect import inspect_image
from ansible_collections.image_delivery.stack.plugins.module_utils.placeholder import (
    placeholder,
    rgba_to_thumbhash,
)
from PIL import Image, ImageChops, ImageOps, ImageStat

from tests.helpers.playbook import PROJECT_ROOT
from tests.helpers.thumbhash_reference import reference_hashes, reference_pictures

DEMO = sorted(path for path in (PROJECT_ROOT / "files/images").rglob("*") if path.suffix in (".jpg", ".png", ".webp"))
MAX_PIXELS = 100_000_000


def sample(path) -> Image.Image:
    with Image.open(path) as image:
        rgba = image.convert("RGBA")
    rgba.thumbnail((32, 32))
    return rgba


def largest_difference(left: Image.Image, right: Image.Image) -> int:
    return max(high for _low, high in ImageChops.difference(left, right).getextrema())


def test_every_demo_image_hashes_as_the_reference_encodes_it():
    samples = [sample(path) for path in DEMO]
    ours = [rgba_to_thumbhash(image.width, image.height, image.tobytes()) for image in samples]
    theirs = reference_hashes(samples)
    differing = [index for index, (mine, reference) in enumerate(zip(ours, theirs, strict=True)) if mine != reference]
    # Terms that are zero in exact arithmetic (a grey image's colour channels, a symmetric icon's
    # odd terms) come out as float noise, summed in another order here; normalised by a scale
    # that is itself noise they can be any nibble, which a decoder multiplies by that near-zero
    # scale again. Where the bytes differ, the header and the decoded picture must not.
    assert len(differing) <= len(DEMO) // 10, [DEMO[index].name for index in differing]
    pictures = reference_pictures([ours[index] for index in differing] + [theirs[index] for index in differing])
    for position, index in enumerate(differing):
        start = 6 if theirs[index][2] & 0x80 else 5
        assert ours[index][:start] == theirs[index][:start], DEMO[index].name
        assert largest_difference(pictures[position], pictures[position + len(differing)]) <= 2, DEMO[index].name


@pytest.mark.parametrize("name", ["photos/forest-path.jpg", "science/chelsea-the-cat.png", "wallpapers/wood-dark.webp"])
def test_the_decoded_placeholder_has_the_images_colours_and_shape(name):
    path = PROJECT_ROOT / "files/images" / name
    facts = inspect_image(path.read_bytes(), MAX_PIXELS)
    [decoded] = reference_pictures([base64.b64decode(facts.placeholder)])
    with Image.open(path) as image:
        mean = ImageStat.Stat(image.convert("RGB").resize((32, 32))).mean
    decoded_mean = ImageStat.Stat(decoded.convert("RGB")).mean
    assert all(abs(a - b) <= 12 for a, b in zip(mean, decoded_mean, strict=True)), (mean, decoded_mean)
    assert abs(decoded.width / decoded.height - facts.width / facts.height) < 0.25


def test_the_placeholder_shows_the_image_as_displayed():
    """EXIF orientation applied: stored on its side with EXIF saying so, it hashes as shown."""
    with Image.open(PROJECT_ROOT / "files/images/exif/forest-path-rotated.jpg") as stored:
        orientation = stored.getexif().get(0x0112)
        shown = ImageOps.exif_transpose(stored)
        assert orientation in (5, 6, 7, 8) and shown.size == stored.size[::-1]
        assert placeholder(stored, orientation) == placeholder(shown)
        assert placeholder(stored) != placeholder(shown)


def test_transparency_is_kept():
    image = Image.new("RGBA", (60, 30), (0, 120, 255, 255))
    image.paste((0, 0, 0, 0), (0, 0, 30, 30))  # the left half fully transparent
    data = io.BytesIO()
    image.save(data, "PNG")
    hashed = base64.b64decode(inspect_image(data.getvalue(), MAX_PIXELS).placeholder)
    assert hashed[2] & 0x80  # the has-alpha bit
    [decoded] = reference_pictures([hashed])
    middle = decoded.height // 2
    left, right = decoded.getpixel((1, middle))[3], decoded.getpixel((decoded.width - 2, middle))[3]
    assert left < 100 and right > 200


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="1-100 x 1-100"):
        rgba_to_thumbhash(101, 10, bytes(101 * 10 * 4))
    with pytest.raises(ValueError, match="1-100 x 1-100"):
        rgba_to_thumbhash(2, 2, bytes(3))
