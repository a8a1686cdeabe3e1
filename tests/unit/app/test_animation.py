"""Animated GIF and WebP originals stay animated in WebP variants, within a frame x pixel budget;
past it, and in formats without animation, the first frame is served as a still."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from image_api.config import Settings
from image_api.resize import Variant, render
from PIL import Image, ImageSequence

SETTINGS = Settings(table="t", bucket="b")
COLOURS = [(220, 30, 30), (30, 200, 30), (30, 30, 220), (240, 240, 30)]


def animation(fmt: str, size: tuple[int, int] = (400, 200), transparent_corner: bool = False) -> bytes:
    """Four frames of one colour each (120 ms, looping forever), optionally with a clear corner."""
    frames = []
    for colour in COLOURS:
        frame = Image.new("RGBA", size, (*colour, 255))
        if transparent_corner:
            frame.paste((0, 0, 0, 0), (0, 0, size[0] // 4, size[1] // 4))
        frames.append(frame if fmt == "WEBP" else frame.convert("RGB"))
    output = io.BytesIO()
    frames[0].save(output, fmt, save_all=True, append_images=frames[1:], duration=120, loop=0)
    return output.getvalue()


def frames_of(data: bytes) -> list[Image.Image]:
    with Image.open(io.BytesIO(data)) as image:
        return [frame.convert("RGBA") for frame in ImageSequence.Iterator(image)]


@pytest.mark.parametrize("source", ["GIF", "WEBP"])
def test_an_animation_stays_animated_with_its_timing(source):
    data = render(animation(source), Variant(128, None, "contain", "webp", 80), SETTINGS)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "WEBP" and image.n_frames == len(COLOURS)
        assert image.size == (128, 64)
        assert image.info.get("loop") == 0
        durations = []
        for frame in ImageSequence.Iterator(image):
            frame.load()
            durations.append(frame.info.get("duration"))
        assert durations == [120] * len(COLOURS)
    for frame, colour in zip(frames_of(data), COLOURS, strict=True):
        assert all(abs(a - b) <= 12 for a, b in zip(frame.getpixel((64, 32))[:3], colour, strict=True))


def test_cover_crops_every_frame_alike_and_transparency_stays():
    data = render(animation("WEBP", transparent_corner=True), Variant(128, 128, "cover", "webp", 80), SETTINGS)
    frames = frames_of(data)
    assert len(frames) == len(COLOURS) and {frame.size for frame in frames} == {(128, 128)}
    # The detail (the clear corner's edge) is at the left: every frame keeps it, clear.
    assert all(frame.getpixel((2, 2))[3] == 0 and frame.getpixel((120, 120))[3] == 255 for frame in frames)


def test_past_the_budget_the_first_frame_is_a_still():
    tight = replace(SETTINGS, max_animation_pixels=3 * 400 * 200)  # fewer than four source frames
    data = render(animation("GIF"), Variant(128, None, "contain", "webp", 80), tight)
    with Image.open(io.BytesIO(data)) as image:
        assert getattr(image, "n_frames", 1) == 1
        assert all(abs(a - b) <= 12 for a, b in zip(image.convert("RGB").getpixel((64, 32)), COLOURS[0], strict=True))


@pytest.mark.parametrize("fmt", ["jpeg", "png", "avif"])
def test_formats_without_animation_get_the_first_frame(fmt):
    data = render(animation("GIF"), Variant(128, None, "contain", fmt, 80), SETTINGS)
    with Image.open(io.BytesIO(data)) as image:
        assert getattr(image, "n_frames", 1) == 1
        assert all(abs(a - b) <= 16 for a, b in zip(image.convert("RGB").getpixel((64, 32)), COLOURS[0], strict=True))
