"""Output formats and the bounded variant space of /img: AVIF beside WebP, JPEG and PNG, one q
meaning one fidelity in every lossy format, and every request answered by one of a fixed, counted
set of variants (README, "A bounded variant space")."""

from __future__ import annotations

import io
import math
import re

import pytest
from image_api.config import Settings
from image_api.errors import ApiError
from image_api.resize import (
    Variant,
    canonical_query,
    parse_variant,
    render,
    renders_per_image,
    variant_space,
)
from PIL import Image, ImageChops, ImageStat

from tests.helpers.playbook import PROJECT_ROOT

SETTINGS = Settings(table="t", bucket="b")
PHOTOS = sorted((PROJECT_ROOT / "files/images/photos").glob("*.jpg"))[:6]


def luma_psnr(reference: Image.Image, other: Image.Image) -> float:
    difference = ImageChops.difference(reference.convert("L"), other.convert("L"))
    mean_square = ImageStat.Stat(difference).sum2[0] / (reference.width * reference.height)
    return 10 * math.log10(255**2 / max(mean_square, 1e-9))


def rendered(data: bytes, fmt: str, quality: int = 80, width: int = 640) -> Image.Image:
    image = Image.open(io.BytesIO(render(data, Variant(width, None, "contain", fmt, quality), SETTINGS)))
    image.load()
    return image


def test_avif_is_rendered_with_the_size_asked():
    data = PHOTOS[0].read_bytes()
    image = rendered(data, "avif", width=320)
    assert image.format == "AVIF" and image.width == 320
    assert image.size == rendered(data, "webp", width=320).size


@pytest.mark.parametrize("level", [65, 80, 90])
def test_a_quality_level_keeps_the_same_detail_in_every_lossy_format(level):
    """AVIF's quality scale is shifted (resize.AVIF_QUALITY_OFFSET): at the same q it keeps what
    WebP and JPEG keep, within 1 dB of luma PSNR against the lossless render, on the demo photos."""
    scores: dict[str, list[float]] = {"webp": [], "avif": [], "jpeg": []}
    for photo in PHOTOS:
        data = photo.read_bytes()
        reference = rendered(data, "png")
        for fmt, values in scores.items():
            values.append(luma_psnr(reference, rendered(data, fmt, level)))
    mean = {fmt: sum(values) / len(values) for fmt, values in scores.items()}
    assert abs(mean["avif"] - mean["webp"]) <= 1.0, mean
    assert abs(mean["jpeg"] - mean["webp"]) <= 1.0, mean


def test_avif_and_webp_keep_transparency_and_jpeg_flattens_it_on_white():
    source = Image.new("RGBA", (400, 200), (200, 30, 30, 255))
    source.paste((0, 0, 0, 0), (0, 0, 200, 200))  # the left half fully transparent
    buffer = io.BytesIO()
    source.save(buffer, "PNG")
    for fmt in ("avif", "webp", "png"):
        image = rendered(buffer.getvalue(), fmt, width=128)
        assert image.mode == "RGBA", fmt
        assert image.getpixel((10, 30))[3] == 0 and image.getpixel((118, 30))[3] == 255, fmt
    flat = rendered(buffer.getvalue(), "jpeg", width=128)
    assert flat.mode == "RGB" and min(flat.getpixel((10, 30))) > 240


def test_dpr_multiplies_the_sizes_before_they_snap():
    assert parse_variant({"w": "160", "dpr": "2"}, SETTINGS).width == 320
    variant = parse_variant({"w": "160", "h": "100", "fit": "cover", "dpr": "3"}, SETTINGS)
    assert (variant.width, variant.height) == (480, 320)
    for bad in ("0", "4", "1.5", "x"):
        with pytest.raises(ApiError, match="dpr"):
            parse_variant({"dpr": bad}, SETTINGS)


def test_q_snaps_up_to_a_level_and_means_nothing_for_png():
    assert SETTINGS.quality_levels == (50, 65, 80, 90)
    assert parse_variant({"q": "72", "fmt": "avif"}, SETTINGS).quality == 80
    assert parse_variant({"q": "91"}, SETTINGS).quality == 90
    assert parse_variant({"q": "1", "fmt": "jpeg"}, SETTINGS).quality == 50
    assert parse_variant({"q": "50", "fmt": "png"}, SETTINGS) == parse_variant({"fmt": "png"}, SETTINGS)


def test_the_canonical_query_spells_each_variant_one_way():
    assert canonical_query(parse_variant({}, SETTINGS), SETTINGS) == {"w": "320", "fmt": "webp"}
    asked = {"dpr": "2", "q": "70", "fit": "cover", "h": "150", "w": "150", "fmt": "avif"}
    assert canonical_query(parse_variant(asked, SETTINGS), SETTINGS) == {
        "w": "320",
        "h": "320",
        "fit": "cover",
        "fmt": "avif",  # q 70 snaps to 80, the default
    }
    assert canonical_query(parse_variant({"q": "60", "fmt": "jpeg"}, SETTINGS), SETTINGS) == {
        "w": "320",
        "fmt": "jpeg",
        "q": "65",
    }


def test_the_bound_on_renders_per_image_is_the_one_the_readme_states():
    assert len(set(variant_space(SETTINGS))) == sum(1 for _ in variant_space(SETTINGS))  # none counted twice
    count = renders_per_image(SETTINGS)
    auto = sum(1 for variant in variant_space(SETTINGS) if variant.fmt == "auto")
    assert count == sum(1 for _ in variant_space(SETTINGS)) + 2 * auto  # three cache entries per auto variant
    readme = (PROJECT_ROOT / "README.md").read_text()
    stated = re.search(r"at most ([\d,]+) renders per image", readme)
    assert stated and int(stated[1].replace(",", "")) == count


def test_a_16_bit_greyscale_png_keeps_its_tones():
    """Pillow opens it as I;16 and its plain conversion clips every level above 255 to white."""
    gradient = Image.new("I;16", (256, 16))
    gradient.putdata([x * 257 for _ in range(16) for x in range(256)])
    buffer = io.BytesIO()
    gradient.save(buffer, "PNG")
    shown = rendered(buffer.getvalue(), "png", width=128).convert("L")
    levels = [shown.getpixel((x, 4)) for x in (0, 32, 64, 96, 127)]
    assert levels == sorted(levels) and levels[0] < 5 and levels[-1] > 250
    assert all(abs(level - expected) <= 6 for level, expected in zip(levels, (0, 64, 129, 193, 255), strict=True))
