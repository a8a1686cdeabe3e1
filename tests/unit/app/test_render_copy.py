"""Large progressive JPEGs render from their render copy (resize.make_render_copy): a baseline
JPEG at RENDER_COPY_EDGE that keeps the orientation and the colour profile, and gives every
variant the dimensions the original gives."""

from __future__ import annotations

import io
import math

from image_api.config import Settings
from image_api.resize import RENDER_COPY_EDGE, Variant, make_render_copy, render, uses_render_copy
from PIL import Image, ImageChops, ImageStat

from tests.helpers.images import ADOBE_RGB, detailed_scene
from tests.helpers.playbook import PROJECT_ROOT

SETTINGS = Settings(table="t", bucket="b")
EXIF_ORIENTATION = 0x0112


def jpeg(size=(3000, 1800), progressive=True, orientation=1, icc: bytes | None = None) -> bytes:
    scene = Image.open(io.BytesIO(detailed_scene(*size))).convert("RGB")
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    buffer = io.BytesIO()
    scene.save(
        buffer,
        "JPEG",
        quality=90,
        progressive=progressive,
        exif=exif.tobytes(),
        **({"icc_profile": icc} if icc else {}),
    )
    return buffer.getvalue()


def psnr(left: Image.Image, right: Image.Image) -> float:
    difference = ImageStat.Stat(ImageChops.difference(left.convert("RGB"), right.convert("RGB")))
    mse = sum(value**2 for value in difference.rms) / 3
    return 10 * math.log10(255**2 / mse) if mse else float("inf")


def test_only_large_progressive_jpegs_and_variants_up_to_half_the_copy_use_it():
    progressive, baseline = jpeg(), jpeg(progressive=False)
    small = Variant(640, None, "contain", "webp", 80)
    assert uses_render_copy(progressive, (3000, 1800), small)
    assert not uses_render_copy(baseline, (3000, 1800), small)  # draft mode is fast enough on these
    assert not uses_render_copy(progressive, (3000, 1800), Variant(1280, None, "contain", "webp", 80))
    assert not uses_render_copy(jpeg(size=(1600, 1000)), (1600, 1000), small)  # no larger than the copy


def test_a_variant_from_the_copy_matches_the_one_from_the_original():
    original = jpeg(orientation=6, icc=ADOBE_RGB)  # stored 3000x1800, shown 1800x3000, Adobe RGB
    copy = make_render_copy(original)
    opened = Image.open(io.BytesIO(copy))
    assert max(opened.size) == RENDER_COPY_EDGE and not opened.info.get("progressive")
    assert opened.getexif()[EXIF_ORIENTATION] == 6 and opened.info["icc_profile"] == ADOBE_RGB
    for variant in (Variant(320, None, "contain", "png", 80), Variant(256, 256, "cover", "png", 80)):
        direct = Image.open(io.BytesIO(render(original, variant, SETTINGS)))
        copied = Image.open(io.BytesIO(render(copy, variant, SETTINGS, displayed=(1800, 3000))))
        assert direct.size == copied.size
        assert psnr(direct, copied) > 35, variant


def test_a_real_photo_from_its_copy_is_the_same_picture():
    original = (PROJECT_ROOT / "files/images/wallpapers/volna-5k.jpg").read_bytes()  # progressive, 5K
    shown = Image.open(io.BytesIO(original)).size
    copy = make_render_copy(original)
    for variant in (Variant(640, None, "contain", "png", 80), Variant(512, 512, "cover", "png", 80)):
        assert uses_render_copy(original, shown, variant)
        direct = Image.open(io.BytesIO(render(original, variant, SETTINGS)))
        copied = Image.open(io.BytesIO(render(copy, variant, SETTINGS, displayed=shown)))
        assert direct.size == copied.size and psnr(direct, copied) > 38, variant
