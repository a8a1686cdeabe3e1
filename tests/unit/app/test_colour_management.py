"""Variants are sRGB: an original with an embedded Adobe RGB profile is converted, not stripped."""

from __future__ import annotations

import colorsys
import io

import pytest
from image_api.config import Settings
from image_api.resize import Variant, render
from PIL import Image, ImageCms

from tests.helpers.images import ADOBE_RGB

SETTINGS = Settings(table="t", bucket="b")
PNG_VARIANT = Variant(width=64, height=None, fit="contain", fmt="png", quality=80)
ADOBE_GREEN = (60, 160, 80)


def original(colour=ADOBE_GREEN, mode="RGB", fmt="JPEG", icc: bytes | None = ADOBE_RGB) -> bytes:
    image = Image.new(mode, (128, 96), colour)
    buffer = io.BytesIO()
    lossy = {"JPEG": {"quality": 95}, "WEBP": {"lossless": True}}.get(fmt, {})
    image.save(buffer, fmt, **({"icc_profile": icc} if icc else {}), **lossy)
    return buffer.getvalue()


def centre(data: bytes) -> tuple:
    image = Image.open(io.BytesIO(data))
    assert "icc_profile" not in image.info, "a variant carries no profile: its pixels are sRGB"
    return image.getpixel((image.width // 2, image.height // 2))


def saturation(rgb) -> float:
    return colorsys.rgb_to_hls(*(channel / 255 for channel in rgb[:3]))[2]


def close(left, right, tolerance=4) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(left, right, strict=True))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])  # Pillow decodes JPEG, libvips PNG and WebP
def test_an_adobe_rgb_original_comes_out_as_the_colour_managed_conversion(fmt):
    expected = ImageCms.profileToProfile(
        Image.new("RGB", (1, 1), ADOBE_GREEN),
        ImageCms.ImageCmsProfile(io.BytesIO(ADOBE_RGB)),
        ImageCms.createProfile("sRGB"),
        outputMode="RGB",
    ).getpixel((0, 0))
    shown = centre(render(original(fmt=fmt), PNG_VARIANT, SETTINGS))
    assert close(shown, expected), (shown, expected)
    naive = centre(render(original(fmt=fmt, icc=None), PNG_VARIANT, SETTINGS))
    gain = saturation(shown) / saturation(naive) - 1
    print(f"Adobe RGB {ADOBE_GREEN}: managed {shown}, stripped {naive}, {gain:.0%} more saturated")
    assert gain > 0.25


def test_transparency_survives_the_conversion():
    data = original((60, 160, 80, 128), mode="RGBA", fmt="PNG")
    shown = centre(render(data, PNG_VARIANT, SETTINGS))
    assert len(shown) == 4 and shown[3] == 128 and shown[0] < 30


def test_srgb_and_unreadable_profiles_leave_the_pixels_as_they_are():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert close(centre(render(original(icc=srgb), PNG_VARIANT, SETTINGS)), ADOBE_GREEN)
    assert close(centre(render(original(icc=b"not a profile" * 10), PNG_VARIANT, SETTINGS)), ADOBE_GREEN)
