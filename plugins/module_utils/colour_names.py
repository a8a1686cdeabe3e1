"""Named colour buckets: the words a person searches with (``blue``, ``orange``), for a colour.

The publisher names the colours of each image's palette with these; the names themselves are
part of the catalog entry's definition (catalog_schema.COLOUR_NAMES), which the image API reads.
"""

from __future__ import annotations

import colorsys

# Hue bands in degrees, upper bounds exclusive; the band from 345 wraps round to red.
_HUES = ((15, "red"), (45, "orange"), (70, "yellow"), (165, "green"), (195, "teal"), (255, "blue"), (290, "purple"),
         (345, "pink"), (360, "red"))  # fmt: skip
MIN_SHARE = 0.15  # a palette colour names the image when it covers this share of the pixels


def colour_name(red: int, green: int, blue: int) -> str:
    """The bucket of one sRGB colour (0-255 per channel)."""
    hue, lightness, saturation = colorsys.rgb_to_hls(red / 255, green / 255, blue / 255)
    chroma = (max(red, green, blue) - min(red, green, blue)) / 255
    if lightness < 0.12:
        return "black"
    if chroma < 0.1 or saturation < 0.12:
        return "white" if lightness > 0.85 else "black" if lightness < 0.2 else "grey"
    degrees = hue * 360
    name = next(label for bound, label in _HUES if degrees < bound)
    if name in ("orange", "red") and lightness < 0.4 and degrees >= 10:
        return "brown"
    if name == "red" and lightness > 0.7:
        return "pink"
    return name


def palette_names(shares: list[tuple[float, tuple[int, int, int]]]) -> list[str]:
    """The names of a palette's colours that cover at least MIN_SHARE of the image (summed per
    name), largest share first; the largest one always, so that every image has a colour."""
    by_name: dict[str, float] = {}
    for share, (red, green, blue) in shares:
        name = colour_name(red, green, blue)
        by_name[name] = by_name.get(name, 0.0) + share
    ranked = sorted(by_name.items(), key=lambda item: (-item[1], item[0]))
    return [name for index, (name, share) in enumerate(ranked) if index == 0 or share >= MIN_SHARE]
