"""PNG and WebP originals are decoded by libvips (resize.decode_with_vips): 8 bits a
channel, transparency kept, the ICC profile passed on, at a bounded scale, and a broken file is a
422 (never a 500)."""

from __future__ import annotations

import io

import pytest
import pyvips
from image_api.config import Settings
from image_api.errors import ApiError
from image_api.resize import VIPS_OVERSAMPLE, Variant, decode_with_vips, render
from PIL import Image

SETTINGS = Settings(table="t", bucket="b")
EXIF_ORIENTATION = 0x0112


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def rendered(data: bytes, width: int = 64, fmt: str = "png", **shape) -> Image.Image:
    variant = Variant(width, shape.get("height"), shape.get("fit", "contain"), fmt, 80)
    return Image.open(io.BytesIO(render(data, variant, SETTINGS)))


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_exif_orientation_is_applied_once(fmt):
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6  # stored 400x200, shown turned a quarter: 200x400
    image = Image.new("RGB", (400, 200), (200, 30, 30))
    image.paste((20, 20, 200), (0, 0, 100, 200))  # blue on the stored left: on top once turned
    shown = rendered(encoded(image, fmt, exif=exif.tobytes(), **({"lossless": True} if fmt == "WEBP" else {})))
    assert shown.size == (64, 128)
    top, bottom = shown.getpixel((32, 8)), shown.getpixel((32, 120))
    assert top[2] > 150 and top[0] < 60 and bottom[0] > 150, (top, bottom)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_a_truncated_original_is_a_422(fmt):
    data = encoded(Image.effect_noise((300, 200), 60).convert("RGB"), fmt)
    with pytest.raises(ApiError) as refused:
        render(data[: len(data) // 2], Variant(64, None, "contain", "png", 80), SETTINGS)
    assert refused.value.status == 422 and "cannot be decoded" in refused.value.detail


def test_sixteen_bit_rgb_is_scaled_to_eight_bits_not_clipped():
    levels = [0, 16384, 32768, 65535]
    strip = pyvips.Image.new_from_array([levels]).cast("ushort")  # Pillow cannot write 16-bit RGB
    data = strip.bandjoin([strip, strip]).copy(interpretation="rgb16").pngsave_buffer()
    shown = rendered(data, width=4)
    greys = [shown.getpixel((x, 0))[0] for x in range(4)]
    assert greys == sorted(greys) and greys[0] < 5 and greys[-1] > 250 and 50 < greys[1] < 80


def test_palette_transparency_is_kept():
    palette = Image.new("P", (64, 64), 0)
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    palette.paste(1, (0, 0, 32, 64))
    shown = rendered(encoded(palette, "PNG", transparency=0), width=64)
    assert shown.mode == "RGBA"
    assert shown.getpixel((8, 32))[3] == 255 and shown.getpixel((56, 32))[3] == 0


def test_libvips_reduces_only_to_twice_the_scale_the_variant_needs():
    large = encoded(Image.new("RGB", (2000, 1000), (10, 120, 40)), "PNG")
    assert decode_with_vips(large, (2000, 1000), (100, 50), None).size == (200, 100)
    assert VIPS_OVERSAMPLE == 2.0
    # A cover crop needs the larger of the two scales; nothing is enlarged.
    assert decode_with_vips(large, (2000, 1000), (100, 100), None).size == (400, 200)
    assert decode_with_vips(large, (2000, 1000), (1600, 1600), None).size == (2000, 1000)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_an_original_read_from_a_file_renders_as_from_its_bytes(fmt, tmp_path):
    image = Image.effect_noise((600, 400), 60).convert("RGB")
    data = encoded(image, fmt)
    (tmp_path / "original").write_bytes(data)
    variant = Variant(120, None, "contain", "png", 80)
    with (tmp_path / "original").open("rb") as handle:
        handle.seek(17)  # wherever the file stands, each decoder reads it from the top
        from_file = render(handle, variant, SETTINGS)
    assert from_file == render(data, variant, SETTINGS)
