"""fmt=auto: the best output format a viewer decodes, from its Accept header.

The same rule as the edge's CloudFront Function (roles/cdn/files/image_format.js), which reduces
Accept to one media type before the cache key is taken; a test runs both on the same headers.
AVIF first, then WebP: a viewer that accepts AVIF is taken to decode WebP too (every browser that
decodes AVIF does), so an animation goes out as animated WebP to it. Without either, JPEG, or PNG
when the image has transparency. A media range refused with q=0 does not count; `image/*` and
`*/*` do not name AVIF or WebP (browsers that decode them list them).
"""

from __future__ import annotations

import re

from PIL import Image

AUTO = "auto"
PREFERRED_TYPES = (("image/avif", "avif"), ("image/webp", "webp"))
# What the edge leaves of Accept for fmt=auto, and so the cache entries each auto variant has.
NORMALISED_CHOICES = ("avif", "webp", "")
REFUSED = re.compile(r"q=0(\.0{0,3})?")


def accepts(accept: str, media_type: str) -> bool:
    """Whether the first range naming media_type in accept is not refused (q=0)."""
    for media_range in accept.lower().split(","):
        name, *parameters = media_range.split(";")
        if name.strip() != media_type:
            continue
        return not any(REFUSED.fullmatch(parameter.strip()) for parameter in parameters)
    return False


def preferred_format(accept: str) -> str:
    """avif, webp, or "" (neither accepted): what the edge normalises Accept to."""
    for media_type, fmt in PREFERRED_TYPES:
        if accepts(accept, media_type):
            return fmt
    return ""


def has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info


def automatic_format(preferred: str, image: Image.Image) -> str:
    """The output format for fmt=auto, given what the viewer prefers and the opened original."""
    if preferred and getattr(image, "n_frames", 1) > 1:
        return "webp"  # the format that keeps an animation (an AVIF viewer decodes WebP)
    if preferred:
        return preferred
    return "png" if has_alpha(image) else "jpeg"
