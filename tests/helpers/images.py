"""Small real image files made on the fly for tests: formats, EXIF, IPTC, corrupt and oversized ones."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from scripts.build_demo_images import iptc_keywords_segment

EXIF_ORIENTATION = 0x0112
EXIF_IMAGE_DESCRIPTION = 0x010E
EXIF_XP_KEYWORDS = 0x9C9E


def image_bytes(
    size: tuple[int, int] = (64, 48),
    colour: tuple[int, int, int] = (200, 30, 30),
    fmt: str = "JPEG",
    exif: dict | None = None,
) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, colour)
    options = {}
    if exif:
        data = Image.Exif()
        for tag, value in exif.items():
            data[tag] = value
        options["exif"] = data
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def with_iptc_keywords(jpeg: bytes, keywords: list[str]) -> bytes:
    """Insert an APP13 Photoshop/IPTC segment (as the demo set's builder does) after the SOI marker."""
    return jpeg[:2] + iptc_keywords_segment(keywords) + jpeg[2:]


def huge_png(width: int, height: int) -> bytes:
    """A PNG with many pixels of one colour: tiny on disk, huge once decoded (a decompression bomb)."""
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def write(folder: Path, relative: str, data: bytes) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
