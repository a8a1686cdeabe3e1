# Copyright: image-delivery contributors
# Apache License 2.0
"""Perceptual hashes: a 64-bit difference hash (dHash) per image, and the near-duplicates among them.

The hash compares neighbouring pixels of a 9x8 grey thumbnail of the image as displayed (EXIF
orientation applied), so a re-encoded, resized or slightly edited copy differs in a few bits
only. Hashes are 16 hex digits; their Hamming distance is the number of differing bits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

HASH_BITS = 64
BANDS = 4  # pigeonhole: two hashes within BANDS - 1 bits share at least one 16-bit band exactly
NEAR_DUPLICATE_BITS = 3
# A band value this common (flat or blank images share "0000") is skipped: comparing its members
# pairwise would cost the square of their number, and such images are not worth reporting.
MAX_BAND_MEMBERS = 200

# EXIF orientation -> Pillow transpose method name that shows the image upright.
_UPRIGHT = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE", 6: "ROTATE_270",
            7: "TRANSVERSE", 8: "ROTATE_90"}  # fmt: skip


def upright(image, exif_orientation: int = 1):
    """A Pillow image turned as its EXIF orientation says it is shown."""
    from PIL import Image  # the caller has Pillow: it hands over an image

    if exif_orientation in _UPRIGHT:
        return image.transpose(getattr(Image.Transpose, _UPRIGHT[exif_orientation]))
    return image


def difference_hash(rgb_image, exif_orientation: int = 1) -> str:
    """The dHash of a Pillow RGB image (any size; a thumbnail is enough), as 16 hex digits."""
    from PIL import Image  # the caller has Pillow: it hands over an image

    grey = upright(rgb_image.convert("L"), exif_orientation)
    pixels = grey.resize((9, 8), Image.Resampling.BOX).tobytes()  # one byte per pixel, row by row
    bits = 0
    for row in range(8):
        for column in range(8):
            left, right = pixels[row * 9 + column], pixels[row * 9 + column + 1]
            bits = (bits << 1) | (1 if left < right else 0)
    return f"{bits:016x}"


def hamming(left: str, right: str) -> int:
    return (int(left, 16) ^ int(right, 16)).bit_count()


def near_duplicates(hashes: Mapping[str, str], max_bits: int = NEAR_DUPLICATE_BITS) -> list[list]:
    """[id, id, differing bits] for every pair of ids whose hashes differ by max_bits or fewer
    (identical hashes included), sorted; candidates come from exact 16-bit bands, not all pairs
    (see MAX_BAND_MEMBERS for the one place where that misses some). A candidate is measured as it
    is met and kept only when near: at a million images the bands hold tens of millions of
    candidates and a handful of near pairs."""
    if max_bits >= BANDS:
        raise ValueError(f"bands find pairs within {BANDS - 1} bits, not {max_bits}")
    ids = sorted(image_id for image_id, value in hashes.items() if value)
    numbers = [int(hashes[image_id], 16) for image_id in ids]
    by_band: dict[int, list[int]] = {}  # band number and its 16 bits -> positions in ids, ascending
    for position, number in enumerate(numbers):
        for band in range(BANDS):
            by_band.setdefault((band << 16) | ((number >> (16 * (BANDS - 1 - band))) & 0xFFFF), []).append(position)
    near: dict[tuple[int, int], int] = {}
    for members in by_band.values():
        if len(members) < 2 or len(members) > MAX_BAND_MEMBERS:
            continue
        for index, first in enumerate(members[:-1]):
            number = numbers[first]
            for second in members[index + 1 :]:
                bits = (number ^ numbers[second]).bit_count()
                if bits <= max_bits:
                    near[(first, second)] = bits
    return [[ids[first], ids[second], bits] for (first, second), bits in sorted(near.items())]


def hashes_of(entries: Iterable[Mapping]) -> dict[str, str]:
    return {entry["image_id"]: entry.get("phash", "") for entry in entries}
