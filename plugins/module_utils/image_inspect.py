# Copyright: image-delivery contributors
# Apache License 2.0
"""Read what the catalog needs from one image's bytes: format, displayed size, dominant colour, the
names of its palette's main colours, a perceptual hash and the descriptive metadata embedded in it (EXIF title,
description and keywords; IPTC keywords).

Any file that is not a safe, decodable image of a supported format raises ImageRejected with a
reason meant for a person. Nothing here touches Pillow's process-wide settings.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

from ansible_collections.image_delivery.stack.plugins.module_utils.colour_names import palette_names
from ansible_collections.image_delivery.stack.plugins.module_utils.image_hash import difference_hash
from ansible_collections.image_delivery.stack.plugins.module_utils.placeholder import placeholder

try:
    from PIL import Image, IptcImagePlugin, UnidentifiedImageError
except ImportError:  # the module reports the missing library
    Image = None

PILLOW_FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
EXIF_ORIENTATION = 0x0112
EXIF_IMAGE_DESCRIPTION = 0x010E
EXIF_XP_TITLE = 0x9C9B
EXIF_XP_KEYWORDS = 0x9C9E
IPTC_KEYWORDS = (2, 25)
ROTATED_ORIENTATIONS = {5, 6, 7, 8}  # EXIF orientations that swap width and height
COLOUR_SAMPLE_SIZE = 64
SIXTEEN_BIT_GREY = ("I;16", "I;16L", "I;16B", "I;16N", "I")  # how Pillow opens a 16-bit greyscale PNG


class ImageRejected(Exception):
    """The file cannot go into the catalog; str() is the reason."""


@dataclass
class ImageFacts:
    format: str
    width: int  # displayed, after EXIF orientation
    height: int
    colour: str
    exif_orientation: int = 1
    title: str = ""
    description: str = ""
    keywords: list[str] = field(default_factory=list)
    colours: list[str] = field(default_factory=list)  # palette colour names, largest share first
    phash: str = ""  # difference hash of the image as displayed (image_hash.py)
    placeholder: str = ""  # base64 ThumbHash of the image as displayed (placeholder.py)


def _xp_text(value) -> str:
    """Windows XP* EXIF tags hold UTF-16LE bytes (Pillow gives bytes or a tuple of ints)."""
    if isinstance(value, tuple):
        value = bytes(value)
    if isinstance(value, bytes):
        return value.decode("utf-16-le", errors="ignore").rstrip("\x00")
    return str(value or "")


def _split_keywords(text: str) -> list[str]:
    return [word.strip() for word in text.replace(",", ";").split(";") if word.strip()]


def _iptc_keywords(image) -> list[str]:
    try:
        info = IptcImagePlugin.getiptcinfo(image) or {}
    except (SyntaxError, ValueError, IndexError, OSError):
        return []
    raw = info.get(IPTC_KEYWORDS, [])
    values = raw if isinstance(raw, list) else [raw]
    return [value.decode("utf-8", errors="ignore").strip() for value in values if value]


def small_rgba(image):
    """A thumbnail of the image (COLOUR_SAMPLE_SIZE at most), with its transparency."""
    if image.mode in SIXTEEN_BIT_GREY:
        # Pillow's conversion to 8 bits clips (every level above 255 is white): scale instead.
        image = image.convert("I").point(lambda level: level / 257).convert("L")
    sample = image.convert("RGBA")
    sample.thumbnail((COLOUR_SAMPLE_SIZE, COLOUR_SAMPLE_SIZE))
    return sample


def over_white(sample):
    """An RGBA image laid over white, as RGB."""
    background = Image.new("RGBA", sample.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, sample).convert("RGB")


def small_rgb(image):
    """A thumbnail of the image (COLOUR_SAMPLE_SIZE at most), transparency laid over white."""
    return over_white(small_rgba(image))


def palette(rgb) -> list[tuple[float, tuple[int, int, int]]]:
    """A small median-cut palette of an RGB image: (share of pixels, RGB), largest share first."""
    palette_image = rgb.quantize(colors=6, method=Image.Quantize.MEDIANCUT)
    values = palette_image.getpalette()
    counts = sorted(palette_image.getcolors(), reverse=True)
    pixels = sum(count for count, _index in counts)
    return [(count / pixels, tuple(values[index * 3 : index * 3 + 3])) for count, index in counts]


def inspect_image(data: bytes, max_pixels: int) -> ImageFacts:
    """Facts about an image given as bytes; ImageRejected when it must be skipped."""
    if Image is None:
        raise ImageRejected("Pillow is not installed on the controller")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except UnidentifiedImageError:
            raise ImageRejected("not an image Pillow can identify (corrupt or unknown format)") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRejected(f"more pixels than the limit of {max_pixels} (decompression bomb guard)") from None
        except (OSError, SyntaxError, ValueError, EOFError) as error:
            raise ImageRejected(f"corrupt image header: {error}") from None
        image_format = PILLOW_FORMATS.get(image.format or "")
        if image_format is None:
            raise ImageRejected(f"unsupported format {image.format}; supported: {', '.join(PILLOW_FORMATS)}")
        width, height = image.size
        if width * height > max_pixels:
            raise ImageRejected(
                f"{width}x{height} = {width * height} pixels exceeds the limit of {max_pixels} "
                "(decompression bomb guard)"
            )
        try:
            image.verify()  # must come straight after open: checks structure and checksums
            image = Image.open(io.BytesIO(data))
            exif = image.getexif()
            title = _xp_text(exif.get(EXIF_XP_TITLE)).strip()
            description = str(exif.get(EXIF_IMAGE_DESCRIPTION) or "").strip("\x00 ")
            keywords = _split_keywords(_xp_text(exif.get(EXIF_XP_KEYWORDS))) + _iptc_keywords(image)
            orientation = exif.get(EXIF_ORIENTATION, 1)
            if image_format == "jpeg":
                image.draft("RGB", (COLOUR_SAMPLE_SIZE * 2, COLOUR_SAMPLE_SIZE * 2))
            image.load()
            sample = small_rgba(image)
            thumbnail = over_white(sample)
        except (OSError, SyntaxError, ValueError, IndexError, EOFError) as error:
            raise ImageRejected(f"corrupt {image_format} data: {error}") from None
    orientation = orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1
    shares = palette(thumbnail)
    phash = difference_hash(thumbnail, orientation)
    if orientation in ROTATED_ORIENTATIONS:
        width, height = height, width
    _share, (red, green, blue) = shares[0]
    colour = f"#{red:02x}{green:02x}{blue:02x}"
    colours = palette_names(shares)
    return ImageFacts(
        image_format, width, height, colour, orientation, title, description, keywords, colours, phash,
        placeholder(sample, orientation),
    )  # fmt: skip
