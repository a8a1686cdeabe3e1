"""Resized variants of originals: parameters parsed and bounded, then rendered with Pillow using
shrink-on-load (JPEG draft mode decodes at 1/2, 1/4 or 1/8 scale) and reducing_gap (a cheap
integer reduction before the final resampling). Colours are converted to sRGB from the original's
embedded ICC profile (Adobe RGB, Display P3, CMYK) before it is dropped: a variant carries no
profile, and viewers show untagged pixels as sRGB."""

from __future__ import annotations

import bisect
import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps

from .config import FORMATS, Settings
from .errors import ApiError, bad_request

CONTENT_TYPES = {"webp": "image/webp", "jpeg": "image/jpeg", "png": "image/png"}
PILLOW_FORMATS = {"webp": "WEBP", "jpeg": "JPEG", "png": "PNG"}
FITS = ("contain", "cover")
REDUCING_GAP = 2.0


@dataclass(frozen=True)
class Variant:
    width: int
    height: int | None  # None keeps the aspect ratio
    fit: str
    fmt: str
    quality: int

    def etag(self, source_sha256: str) -> str:
        digest = hashlib.sha256(f"{source_sha256}:{self}".encode()).hexdigest()[:32]
        return f'"{digest}"'


def snap(value: int, allowed: tuple[int, ...]) -> int:
    """The smallest allowed size at least as large as value (the largest allowed one beyond that)."""
    position = bisect.bisect_left(allowed, value)
    return allowed[min(position, len(allowed) - 1)]


def _positive_int(query: Mapping[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
        raise bad_request(f"{name} must be a positive integer, got {raw[:20]!r}")
    number = int(raw)
    if number < 1:
        raise bad_request(f"{name} must be at least 1")
    return number


VARIANT_PARAMETERS = ("w", "h", "fit", "fmt", "q")  # the edge's cache key for /img (roles/cdn: cdn_resize_query_keys)


def parse_variant(query: Mapping[str, str], settings: Settings) -> Variant:
    width = _positive_int(query, "w") or settings.thumbnail_width
    height = _positive_int(query, "h")
    fit = query.get("fit") or "contain"
    if fit not in FITS:
        raise bad_request(f"fit must be one of {', '.join(FITS)}")
    fmt = query.get("fmt") or settings.default_format
    if fmt not in FORMATS:
        raise bad_request(f"fmt must be one of {', '.join(FORMATS)}")
    quality = _positive_int(query, "q") or settings.default_quality
    if quality > 95:
        raise bad_request("q must be between 1 and 95")
    if fit == "cover" and height is None:
        raise bad_request("fit=cover needs both w and h")
    width = snap(width, settings.allowed_widths)
    height = None if height is None else snap(height, settings.allowed_widths)
    if height is not None and width * height > settings.max_output_pixels:
        raise bad_request(f"{width}x{height} exceeds the {settings.max_output_pixels} pixel ceiling")
    return Variant(width, height, fit, fmt, quality)


def _open(data: bytes, settings: Settings) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
    except (OSError, Image.DecompressionBombError) as error:
        raise ApiError(422, "unprocessable_image", f"the original cannot be decoded: {error}") from None
    if image.width * image.height > settings.max_source_pixels:
        raise ApiError(422, "unprocessable_image", "the original exceeds the source pixel ceiling")
    return image


def _profile(icc: bytes | None) -> ImageCms.ImageCmsProfile | None:
    """The original's embedded profile when it is one to convert from (not sRGB, readable)."""
    if not icc:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = ImageCms.getProfileDescription(profile)
    except (OSError, ImageCms.PyCMSError):
        return None  # unreadable: the pixels are shown as they are, as a browser would
    return None if "srgb" in description.lower() else profile


def to_srgb(image: Image.Image, profile: ImageCms.ImageCmsProfile | None) -> Image.Image:
    """The image's colours in sRGB (RGB, or RGBA keeping its alpha); unchanged without a profile."""
    if profile is None:
        return image
    alpha = image.getchannel("A") if image.mode == "RGBA" else None
    source = image.convert("RGB") if image.mode in ("RGBA", "P", "LA") else image
    try:
        converted = ImageCms.profileToProfile(source, profile, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except ImageCms.PyCMSError:
        return image  # a profile that does not fit the pixels (e.g. a grey one on RGB): as they are
    if alpha is not None:
        converted.putalpha(alpha)
    return converted


def target_size(source: tuple[int, int], variant: Variant) -> tuple[int, int]:
    """The output size: never larger than the source (no upscaling)."""
    source_width, source_height = source
    if variant.height is None or variant.fit == "contain":
        box_height = variant.height or source_height * variant.width / source_width
        scale = min(variant.width / source_width, box_height / source_height, 1.0)
        return max(1, round(source_width * scale)), max(1, round(source_height * scale))
    return min(variant.width, source_width), min(variant.height, source_height)


def cover_box(source: tuple[int, int], target: tuple[int, int]) -> tuple[float, float, float, float]:
    """The centred region of the source with the target's aspect ratio (what "cover" keeps)."""
    source_width, source_height = source
    target_ratio = target[0] / target[1]
    if source_width / source_height > target_ratio:
        width = source_height * target_ratio
        left = (source_width - width) / 2
        return (left, 0.0, left + width, float(source_height))
    height = source_width / target_ratio
    top = (source_height - height) / 2
    return (0.0, top, float(source_width), top + height)


def render(data: bytes, variant: Variant, settings: Settings) -> bytes:
    image = _open(data, settings)
    orientation = image.getexif().get(0x0112, 1)
    turned = orientation in (5, 6, 7, 8)
    shown = (image.height, image.width) if turned else image.size
    width, height = target_size(shown, variant)
    if width * height > settings.max_output_pixels:
        raise bad_request(f"{width}x{height} exceeds the {settings.max_output_pixels} pixel ceiling")
    if image.format == "JPEG":
        # Decode at the smallest scale that stays at least as large as the target.
        request = (height, width) if turned else (width, height)
        image.draft("RGB", request)
    try:
        profile = _profile(image.info.get("icc_profile"))
        image = ImageOps.exif_transpose(image)
        if image.mode == "CMYK":  # its profile is what turns ink into light: before anything else
            image, profile = to_srgb(image, profile), None
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "transparency" in image.info or image.mode in ("LA", "P") else "RGB")
        box = cover_box(image.size, (width, height)) if variant.fit == "cover" else None
        image = image.resize((width, height), Image.Resampling.LANCZOS, box=box, reducing_gap=REDUCING_GAP)
        image = to_srgb(image, profile)  # on the small image: a per-pixel conversion, cheapest there
        if variant.fmt == "jpeg" and image.mode == "RGBA":
            background = Image.new("RGB", image.size, (255, 255, 255))
            background.paste(image, mask=image.getchannel("A"))
            image = background
        image.info.pop("icc_profile", None)  # sRGB now, and untagged pixels are read as sRGB
        output = io.BytesIO()
        options = {"quality": variant.quality} if variant.fmt in ("jpeg", "webp") else {"optimize": False}
        image.save(output, PILLOW_FORMATS[variant.fmt], **options)
    except (OSError, ValueError, SyntaxError) as error:
        raise ApiError(422, "unprocessable_image", f"the original cannot be resized: {error}") from None
    return output.getvalue()
