from __future__ import annotations

import io
import random

import pytest
from ansible_collections.image_delivery.stack.plugins.module_utils.image_hash import (
    MAX_BAND_MEMBERS,
    difference_hash,
    hamming,
    near_duplicates,
    near_duplicates_after,
)
from ansible_collections.image_delivery.stack.plugins.module_utils.image_inspect import inspect_image
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFilter

from tests.helpers.images import EXIF_ORIENTATION


def encoded(image: Image.Image, fmt: str = "JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def scene(seed: int) -> Image.Image:
    """A picture of random shapes, different for every seed."""
    randomiser = random.Random(seed)
    image = Image.new("RGB", (320, 240), (randomiser.randrange(256), 120, 90))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = randomiser.randrange(300), randomiser.randrange(220)
        colour = tuple(randomiser.randrange(256) for _ in range(3))
        draw.ellipse((x, y, x + randomiser.randrange(20, 140), y + randomiser.randrange(20, 140)), fill=colour)
    return image


def phash(data: bytes) -> str:
    return inspect_image(data, 50_000_000).phash


def test_a_reencoded_resized_or_blurred_copy_stays_within_a_few_bits_and_other_pictures_do_not():
    original = scene(1)
    base = phash(encoded(original, "PNG"))
    copies = [
        encoded(original, quality=40),
        encoded(original.resize((160, 120)), "WEBP"),
        encoded(original.filter(ImageFilter.GaussianBlur(1.5)), "PNG"),
    ]
    assert all(hamming(base, phash(copy)) <= 3 for copy in copies), [hamming(base, phash(c)) for c in copies]
    others = [hamming(base, phash(encoded(scene(seed), "PNG"))) for seed in range(2, 12)]
    assert min(others) > 10, others


def test_the_hash_is_taken_upright_whatever_the_exif_orientation():
    original = scene(3)
    rotated = original.rotate(90, expand=True)  # stored turned a quarter; EXIF 6 turns it back
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    assert hamming(phash(encoded(original, "PNG")), phash(encoded(rotated, "JPEG", exif=exif, quality=95))) <= 3
    assert difference_hash(original) == difference_hash(original.rotate(90, expand=True), exif_orientation=6)


def test_near_duplicates_come_from_the_bands_and_match_a_full_comparison():
    randomiser = random.Random(5)
    hashes = {f"img-{n}": f"{randomiser.getrandbits(64):016x}" for n in range(300)}
    flipped = int(hashes["img-7"], 16) ^ 0b1010000000000000000000000000000000000000000000000001  # 3 bits
    hashes["img-copy"] = f"{flipped:016x}"
    hashes["img-unknown"] = ""
    expected = sorted(
        [a, b, hamming(hashes[a], hashes[b])]
        for a in hashes
        for b in hashes
        if a < b and hashes[a] and hashes[b] and hamming(hashes[a], hashes[b]) <= 3
    )
    assert near_duplicates(hashes) == expected and ["img-7", "img-copy", 3] in expected
    with pytest.raises(ValueError):
        near_duplicates(hashes, max_bits=4)


def test_a_band_value_shared_by_too_many_images_is_not_compared_pairwise():
    hashes = {f"flat-{n}": "0000000000000000" for n in range(MAX_BAND_MEMBERS + 1)}
    assert near_duplicates(hashes) == []


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=4),
    st.lists(st.tuples(st.integers(0, 3), st.lists(st.integers(0, 63), max_size=5)), max_size=40),
)
def test_near_duplicates_are_every_near_pair_of_a_full_comparison(seeds, copies):
    """Clusters of copies a few flipped bits from a few originals: near_duplicates finds exactly
    the pairs that a comparison of every pair within 3 bits finds (no band holds too many)."""
    hashes = {f"seed-{n}": f"{seed:016x}" for n, seed in enumerate(seeds)}
    for n, (origin, bits) in enumerate(copies):
        number = seeds[origin % len(seeds)]
        for bit in bits:
            number ^= 1 << bit
        hashes[f"copy-{n:02d}"] = f"{number:016x}"
    expected = sorted(
        [a, b, hamming(hashes[a], hashes[b])]
        for a in hashes
        for b in hashes
        if a < b and hamming(hashes[a], hashes[b]) <= 3
    )
    assert near_duplicates(hashes) == expected


def _flipped(number: int, bits: list[int]) -> str:
    for bit in bits:
        number ^= 1 << bit
    return f"{number:016x}"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=3),
    st.lists(st.tuples(st.integers(0, 2), st.lists(st.integers(0, 63), max_size=4)), max_size=30),
    st.lists(
        st.tuples(
            st.integers(0, 40),
            st.one_of(st.none(), st.tuples(st.integers(0, 2), st.lists(st.integers(0, 63), max_size=4))),
        ),
        max_size=6,
    ),
    st.integers(0, 1),
)
def test_near_duplicates_after_a_change_are_those_of_the_changed_catalog(seeds, copies, touches, crowd):
    """From the previous pairs and the touched ids (added, changed, removed): exactly the pairs of
    a whole computation, also when a touched id joins or leaves a crowded band (crowd: a band value
    shared by about MAX_BAND_MEMBERS hashes)."""
    before = {f"img-{n:02d}": _flipped(seeds[origin % len(seeds)], bits) for n, (origin, bits) in enumerate(copies)}
    if crowd:
        before |= {f"crowd-{n:03d}": f"abcd{n:012x}" for n in range(MAX_BAND_MEMBERS - 1)}
    after = dict(before)
    for number, change in touches:
        image_id = f"img-{number:02d}"
        if change is None:
            after.pop(image_id, None)
        else:
            origin, bits = change
            after[image_id] = _flipped(
                int("abcd" + "0" * 12, 16) if crowd and origin == 2 else seeds[origin % len(seeds)], bits
            )
    touched = {f"img-{number:02d}" for number, _ in touches}
    assert near_duplicates_after(after, near_duplicates(before), before, touched) == near_duplicates(after)


def test_near_duplicates_after_pass_over_band_values_found_out_of_place():
    """The touched hash's band values are searched in the hashes joined in one string: a match at
    another band's place, or across two hashes, is not a member; a value matched too often (here
    "0000", everywhere) leaves the answer to the whole computation. Both give the whole's pairs."""
    before = {
        "other-band": "0000123400000000",  # 1234 at band 1's place
        "across": "0000000000000012",
        "next": "3400000000000000",  # "12" + "34" across the two joined hashes
        "near": "1234000000000001",
        "far": "1234ffff0000ffff",
    }
    after = {**before, "new": "1234000000000000"}
    expected = near_duplicates(after)
    assert ["near", "new", 1] in expected
    assert near_duplicates_after(after, near_duplicates(before), before, {"new"}) == expected
    crowded = {**{f"zero-{n:04d}": f"{n:04x}000000000000" for n in range(4 * MAX_BAND_MEMBERS)}, **after}
    assert near_duplicates_after(crowded, near_duplicates(crowded), crowded, {"new"}) == near_duplicates(crowded)
