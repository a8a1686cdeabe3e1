# Copyright: image-delivery contributors
# Apache License 2.0
"""A ThumbHash of an image: a placeholder of about 25 bytes that a page paints (blurred colours,
the right aspect ratio, transparency) before the thumbnail arrives.

ThumbHash is Evan Wallace's format (https://github.com/evanw/thumbhash, MIT); the page decodes it
with his reference decoder (files/web/thumbhash.js, from the npm package). This encoder follows his
reference ``rgbaToThumbHash`` bit for bit but computes the DCT separably (rows, then columns),
which is several times faster in pure Python than the reference loop the PyPI port
(thumbhash-python) copies: the publisher runs it for every new image. The tests hold it to that
port's output on the demo images.

Pure Python; the caller hands over a Pillow image.
"""

from __future__ import annotations

import base64
import functools
import math

from ansible_collections.image_delivery.stack.plugins.module_utils.image_hash import upright

# The largest side sampled: a placeholder has at most 7 luminance terms a side, and sampling more
# pixels only costs time (the reference allows up to 100).
SAMPLE_SIZE = 32


def _round(value: float) -> int:
    """JavaScript's Math.round (halves up), as the reference encoder rounds."""
    return math.floor(value + 0.5)


@functools.lru_cache(maxsize=64)
def _cosines(size: int, terms: int) -> tuple[tuple[float, ...], ...]:
    """cos(pi / size * k * (i + 0.5)) for each term k and sample i: the same few sizes recur."""
    return tuple(tuple(math.cos(math.pi / size * k * (i + 0.5)) for i in range(size)) for k in range(terms))


def _encode_channel(channel: list[float], width: int, height: int, nx: int, ny: int) -> tuple[float, list, float]:
    """DC term, normalised AC terms and their scale of one channel, in the reference's order."""
    cos_x, cos_y = _cosines(width, nx), _cosines(height, ny)
    rows = [channel[y * width : (y + 1) * width] for y in range(height)]
    # Each row against each horizontal cosine once, then each column of those against the vertical.
    row_terms = [[sum(map(float.__mul__, row, cos_x[cx])) for cx in range(nx)] for row in rows]
    pixels = width * height
    dc, ac, scale = 0.0, [], 0.0
    for cy in range(ny):
        cx = 0
        while cx * ny < nx * (ny - cy):
            term = sum(row_terms[y][cx] * cos_y[cy][y] for y in range(height)) / pixels
            if cx or cy:
                ac.append(term)
                scale = max(scale, abs(term))
            else:
                dc = term
            cx += 1
    if scale:
        ac = [0.5 + 0.5 / scale * term for term in ac]
    return dc, ac, scale


def rgba_to_thumbhash(width: int, height: int, rgba: bytes) -> bytes:
    """The ThumbHash of RGBA pixels (not premultiplied), row by row, at most 100x100."""
    if not (0 < width <= 100 and 0 < height <= 100) or len(rgba) != width * height * 4:
        raise ValueError(f"a ThumbHash needs 1-100 x 1-100 RGBA pixels, got {width}x{height} and {len(rgba)} bytes")
    pixels = width * height
    alphas = [rgba[index + 3] / 255 for index in range(0, pixels * 4, 4)]
    avg_r = avg_g = avg_b = avg_a = 0.0
    for pixel, alpha in enumerate(alphas):
        index = pixel * 4
        avg_r += alpha / 255 * rgba[index]
        avg_g += alpha / 255 * rgba[index + 1]
        avg_b += alpha / 255 * rgba[index + 2]
        avg_a += alpha
    if avg_a:
        avg_r, avg_g, avg_b = avg_r / avg_a, avg_g / avg_a, avg_b / avg_a
    has_alpha = avg_a < pixels
    l_limit = 5 if has_alpha else 7  # fewer luminance terms when alpha takes room
    lx = max(1, _round(l_limit * width / max(width, height)))
    ly = max(1, _round(l_limit * height / max(width, height)))
    lum, yellow_blue, red_green = [0.0] * pixels, [0.0] * pixels, [0.0] * pixels
    for pixel, alpha in enumerate(alphas):
        index = pixel * 4
        # Composited atop the average colour.
        red = avg_r * (1 - alpha) + alpha / 255 * rgba[index]
        green = avg_g * (1 - alpha) + alpha / 255 * rgba[index + 1]
        blue = avg_b * (1 - alpha) + alpha / 255 * rgba[index + 2]
        lum[pixel] = (red + green + blue) / 3
        yellow_blue[pixel] = (red + green) / 2 - blue
        red_green[pixel] = red - green
    l_dc, l_ac, l_scale = _encode_channel(lum, width, height, max(3, lx), max(3, ly))
    p_dc, p_ac, p_scale = _encode_channel(yellow_blue, width, height, 3, 3)
    q_dc, q_ac, q_scale = _encode_channel(red_green, width, height, 3, 3)
    a_dc, a_ac, a_scale = _encode_channel(alphas, width, height, 5, 5) if has_alpha else (1.0, [], 1.0)

    landscape = width > height
    header24 = (
        _round(63 * l_dc)
        | (_round(31.5 + 31.5 * p_dc) << 6)
        | (_round(31.5 + 31.5 * q_dc) << 12)
        | (_round(31 * l_scale) << 18)
        | (int(has_alpha) << 23)
    )
    header16 = (
        (ly if landscape else lx) | (_round(63 * p_scale) << 3) | (_round(63 * q_scale) << 9) | (int(landscape) << 15)
    )
    head = [header24 & 255, (header24 >> 8) & 255, header24 >> 16, header16 & 255, header16 >> 8]
    if has_alpha:
        head.append(_round(15 * a_dc) | (_round(15 * a_scale) << 4))
    terms = [*l_ac, *p_ac, *q_ac, *(a_ac if has_alpha else [])]
    body = bytearray((len(terms) + 1) // 2)
    for position, term in enumerate(terms):
        body[position >> 1] |= _round(15 * term) << ((position & 1) << 2)
    return bytes(head) + bytes(body)


def placeholder(image, exif_orientation: int = 1) -> str:
    """The base64 ThumbHash of a Pillow image as displayed (EXIF orientation applied)."""
    sample = image.convert("RGBA")
    sample.thumbnail((SAMPLE_SIZE, SAMPLE_SIZE))
    sample = upright(sample, exif_orientation)
    return base64.b64encode(rgba_to_thumbhash(sample.width, sample.height, sample.tobytes())).decode("ascii")
