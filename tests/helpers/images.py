"""Small real image files made on the fly for tests: formats, EXIF, IPTC, corrupt and oversized ones."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw

from scripts.build_demo_images import iptc_keywords_segment

EXIF_ORIENTATION = 0x0112
EXIF_IMAGE_DESCRIPTION = 0x010E
EXIF_XP_KEYWORDS = 0x9C9E


def image_bytes(
    size: tuple[int, int] = (64, 48),
    colour: tuple[int, int, int] = (200, 30, 30),
    fmt: str = "JPEG",
    exif: dict | None = None,
    progressive: bool = False,
) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, colour)
    options: dict = {"progressive": True} if progressive else {}
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


def _s15(value: float) -> bytes:
    return round(value * 65536).to_bytes(4, "big", signed=True)


def rgb_matrix_profile(description: str, colorants: tuple, gamma: float) -> bytes:
    """An ICC v2 display profile built from its published numbers (D50-adapted colorants, one
    gamma for the three channels): what a camera or editor embeds for Adobe RGB or Display P3."""

    def xyz(values: tuple[float, float, float]) -> bytes:
        return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in values)

    text = description.encode("ascii") + b"\0"
    desc = b"desc\0\0\0\0" + len(text).to_bytes(4, "big") + text + b"\0" * 8 + b"\0" * 3 + b"\0" * 67
    curve = b"curv\0\0\0\0" + (1).to_bytes(4, "big") + round(gamma * 256).to_bytes(2, "big") + b"\0\0"
    tags = [(b"desc", desc), (b"wtpt", xyz((0.9642, 1.0, 0.8249))), (b"rXYZ", xyz(colorants[0])),
            (b"gXYZ", xyz(colorants[1])), (b"bXYZ", xyz(colorants[2])), (b"rTRC", curve), (b"gTRC", curve),
            (b"bTRC", curve), (b"cprt", b"text\0\0\0\0" + b"no copyright, test data\0")]  # fmt: skip
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += signature + (offset + len(data)).to_bytes(4, "big") + len(body).to_bytes(4, "big")
        data += body
    size = offset + len(data)
    header = (size.to_bytes(4, "big") + b"\0\0\0\0" + bytes([2, 0x10, 0, 0]) + b"mntrRGB XYZ " + b"\0" * 12 + b"acsp"
              + b"\0" * 24 + b"\0\0\0\0" + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 48)  # fmt: skip
    return header + len(tags).to_bytes(4, "big") + table + data


# Adobe RGB (1998): its colorants adapted to D50 and its 2.2 (563/256) gamma, as Adobe publishes them.
ADOBE_RGB = rgb_matrix_profile(
    "Adobe RGB (1998) test copy",
    ((0.6097, 0.3111, 0.0195), (0.2053, 0.6257, 0.0609), (0.1492, 0.0632, 0.7446)),
    2.19921875,
)


def detailed_scene(width: int = 800, height: int = 400, detail_at: float = 0.85) -> bytes:
    """A flat grey picture with a detailed patch (a fine chequerboard) centred at detail_at of its
    long side, as PNG."""
    image = Image.new("RGB", (width, height), (128, 128, 128))
    draw = ImageDraw.Draw(image)
    long_side, short_side = max(width, height), min(width, height)
    middle = int(detail_at * long_side)
    for a in range(middle - 60, middle + 60, 8):
        for b in range(short_side // 2 - 60, short_side // 2 + 60, 8):
            if (a // 8 + b // 8) % 2:
                box = (a, b, a + 7, b + 7) if width >= height else (b, a, b + 7, a + 7)
                draw.rectangle(box, fill=(20, 20, 20))
    output = io.BytesIO()
    image.save(output, "PNG")
    return output.getvalue()


def transparent_png(size: tuple[int, int] = (96, 64)) -> bytes:
    """A red disc on a fully transparent background (RGBA)."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((size[0] // 4, size[1] // 4, 3 * size[0] // 4, 3 * size[1] // 4), (220, 20, 20, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def animated_gif(frames: int = 4, size: tuple[int, int] = (96, 64)) -> bytes:
    """A square moving left to right, one position a frame, 100 ms each, looping."""
    pictures = []
    for index in range(frames):
        picture = Image.new("RGB", size, (240, 240, 240))
        left = index * (size[0] - size[1] // 2) // max(frames - 1, 1)
        ImageDraw.Draw(picture).rectangle((left, size[1] // 4, left + size[1] // 2, 3 * size[1] // 4), (20, 20, 200))
        pictures.append(picture)
    buffer = io.BytesIO()
    pictures[0].save(buffer, "GIF", save_all=True, append_images=pictures[1:], duration=100, loop=0)
    return buffer.getvalue()
