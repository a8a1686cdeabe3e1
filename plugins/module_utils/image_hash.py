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
INCREMENTAL_AT_MOST = 64  # touched ids near_duplicates_after looks at one by one; more, and all pairs are found again

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


def near_duplicates_after(
    hashes: Mapping[str, str],
    previous: list[list],
    before: Mapping[str, str],
    touched: Iterable[str],
    max_bits: int = NEAR_DUPLICATE_BITS,
) -> list[list]:
    """near_duplicates(hashes), found from the previous catalog's pairs (previous, of the hashes
    before) when only the touched ids were added, changed or removed: its pairs without a touched id
    are kept and the touched ids' pairs are looked for among the hashes that share a band value
    with them, found by searching the hashes joined in one string (a million hashes, a few
    milliseconds a value). The whole computation is made instead when many ids are touched, or
    when a band value of a touched id is shared by nearly MAX_BAND_MEMBERS hashes (the change could
    cap or uncap it, and so hide or show pairs of ids it did not touch)."""
    touched = set(touched)
    if len(touched) > INCREMENTAL_AT_MOST:
        return near_duplicates(hashes, max_bits)
    if max_bits >= BANDS:
        raise ValueError(f"bands find pairs within {BANDS - 1} bits, not {max_bits}")
    ids = list(hashes)
    members = _BandMembers(list(hashes.values()), cap=MAX_BAND_MEMBERS - len(touched))
    wanted = {(band, h[band * _BAND_DIGITS : (band + 1) * _BAND_DIGITS])
              for i in touched for h in (hashes.get(i), before.get(i)) if h for band in range(BANDS)}  # fmt: skip
    found = {key: members.of(*key) for key in sorted(wanted)}
    if any(positions is None for positions in found.values()):
        return near_duplicates(hashes, max_bits)  # a band value near the cap, or too common to search
    pairs = {(a, b): bits for a, b, bits in previous if a not in touched and b not in touched}
    for image_id in touched:
        value = hashes.get(image_id)
        if not value:
            continue
        number = int(value, 16)
        candidates = set()
        for band in range(BANDS):
            candidates.update(found[(band, value[band * _BAND_DIGITS : (band + 1) * _BAND_DIGITS])])
        for position in candidates:
            other = ids[position]
            bits = (number ^ int(hashes[other], 16)).bit_count()
            if bits <= max_bits and other != image_id:
                pairs[(min(image_id, other), max(image_id, other))] = bits
    return [[a, b, bits] for (a, b), bits in sorted(pairs.items())]


_HASH_DIGITS = HASH_BITS // 4
_BAND_DIGITS = _HASH_DIGITS // BANDS
_MOST_MATCHES = 64 * MAX_BAND_MEMBERS  # matches of a band value, in its place or not, looked at before giving up


class _BandMembers:
    """The positions of the hashes (16 hex digits each, or "" when unknown) whose band holds a
    value, found with str.find in the hashes joined in one string (a match not at the band's
    place in a hash is passed over)."""

    def __init__(self, values: list[str], cap: int) -> None:
        blank = "-" * _HASH_DIGITS
        self.joined = "".join([value if len(value) == _HASH_DIGITS else blank for value in values])
        self.cap = cap  # more members than this: None (the whole computation decides)

    def of(self, band: int, part: str) -> list[int] | None:
        place, joined, positions, matches = band * _BAND_DIGITS, self.joined, [], 0
        at = joined.find(part)
        while at != -1:
            if at % _HASH_DIGITS == place:
                positions.append(at // _HASH_DIGITS)
                if len(positions) >= self.cap:
                    return None
            matches += 1
            if matches > _MOST_MATCHES:
                return None
            at = joined.find(part, at + 1)
        return positions


def hashes_of(entries: Iterable[Mapping]) -> dict[str, str]:
    return {entry["image_id"]: entry.get("phash", "") for entry in entries}
