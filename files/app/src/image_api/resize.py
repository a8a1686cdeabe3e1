"""Resized variants of originals: parameters parsed and bounded, then rendered with Pillow using
shrink-on-load (JPEG draft mode decodes at 1/2, 1/4 or 1/8 scale) and reducing_gap (a cheap
integer reduction before the final resampling). Colours are converted to sRGB from the original's
embedded ICC profile (Adobe RGB, Display P3, CMYK) before it is dropped: a variant carries no
profile, and viewers show untagged pixels as sRGB."""

from __future__ import annotations

import bisect
import hashlib
import io
import math
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import BinaryIO

import pyvips
from PIL import Image, ImageCms, ImageFilter, ImageOps, ImageSequence

from .config import FORMATS, Settings
from .errors import ApiError, bad_request
from .negotiation import AUTO, NORMALISED_CHOICES, automatic_format

CONTENT_TYPES = {"webp": "image/webp", "avif": "image/avif", "jpeg": "image/jpeg", "png": "image/png"}
PILLOW_FORMATS = {"webp": "WEBP", "avif": "AVIF", "jpeg": "JPEG", "png": "PNG"}
LOSSY_FORMATS = ("webp", "avif", "jpeg")  # q applies to these; PNG is lossless
# What fmt= may name: an output format, or auto (negotiation.py: the best one the viewer decodes,
# chosen per request from Accept; q applies, as it most often resolves to a lossy format).
REQUEST_FORMATS = (*FORMATS, AUTO)
QUALITY_FORMATS = (*LOSSY_FORMATS, AUTO)
ANIMATED_FORMATS = ("webp",)  # an animated source stays animated in these; the others get its first frame
FITS = ("contain", "cover")
# auto: the image's focal point (its sidecar's focus) when it has one, else the region with the
# most detail; center: the middle. Only fit=cover crops, so only it takes a gravity.
GRAVITIES = ("auto", "center")
SMART_SAMPLE = 64  # the side of the greyscale sample smart cropping measures detail on
PIXEL_RATIOS = (1, 2, 3)  # dpr: w and h are multiplied by it, then snapped
REDUCING_GAP = 2.0
SIXTEEN_BIT_GREY = ("I;16", "I;16L", "I;16B", "I;16N", "I")  # how Pillow opens a 16-bit greyscale PNG
# libavif's quality scale is not WebP's and JPEG's: the same number keeps more detail and gives
# larger files. A q level maps to AVIF quality q - 15, which keeps the detail (luma PSNR) WebP and
# JPEG keep at the same q, within 1 dB on the demo photos at 65, 80 and 90
# (tests/unit/app/test_resize_formats.py holds that), so q means one thing in every format.
AVIF_QUALITY_OFFSET = 15
# Still PNG and WebP originals are decoded by libvips (pyvips; libvips from pyvips-binary, in the
# wheelhouse): it shrinks WebP while decoding and streams PNG, where Pillow holds the whole decoded
# image (a 36 MP WebP peaks near 560 MB under Pillow, a few tens of MB this way; bench/engines.py).
# libvips only reduces, as stored, to 8 bits a channel, to twice the scale the variant needs,
# passing on the original's ICC profile and EXIF; Pillow turns, crops, converts to sRGB and finishes
# with Lanczos, as for JPEG.
VIPS_SOURCE_FORMATS = ("PNG", "WEBP")
VIPS_OVERSAMPLE = 2.0
VIPS_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
TURNED = (5, 6, 7, 8)  # EXIF orientations that swap width and height
# A progressive JPEG decodes slowly even at a reduced DCT scale: each of its scans is entropy-
# decoded whole, whatever the scale (about half of naive Pillow's time). Variants of one up to
# RENDER_COPY_EDGE / 2 on their long edge are rendered from its render copy instead: a baseline JPEG
# at RENDER_COPY_EDGE on its long edge (same orientation tag and ICC profile), made once per
# instance and kept in the disk cache beside the original (store.OriginalStore.derived). Every
# variant that can come from the copy does, the first one too, so all instances answer alike.
RENDER_COPY_EDGE = 2048
RENDER_COPY_QUALITY = 92
RENDER_COPY_NAME = "render-copy-v1"
# An original as bytes, or as an open file (store.OriginalStore.open: the disk cache's copy, read by
# the decoders as they go, so a 41 MB PNG is not held in memory beside its pixels).
Source = bytes | BinaryIO


@dataclass(frozen=True)
class Variant:
    width: int
    height: int | None  # None keeps the aspect ratio
    fit: str
    fmt: str
    quality: int
    gravity: str = "auto"  # what fit=cover keeps: see crop_box

    def etag(self, source_sha256: str, preferred: str = "") -> str:
        """preferred: for fmt=auto, what the viewer prefers (the answer depends on it)."""
        negotiated = f":{preferred}" if self.fmt == AUTO else ""
        digest = hashlib.sha256(f"{source_sha256}:{self}{negotiated}".encode()).hexdigest()[:32]
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


# The edge's cache key for /img (roles/cdn: cdn_resize_query_keys; a unit test keeps them equal).
# s is the URL's signature (signing.py): not part of the variant, but of the key, so that a signed
# answer is never served for an unsigned request where signatures are required.
VARIANT_PARAMETERS = ("w", "h", "fit", "gravity", "fmt", "q", "dpr", "s")


def parse_variant(query: Mapping[str, str], settings: Settings) -> Variant:
    """The canonical variant a request asks for: sizes times dpr snapped to the allowed widths, q
    snapped up to a quality level (a fixed one for PNG), defaults filled in."""
    width = _positive_int(query, "w") or settings.thumbnail_width
    height = _positive_int(query, "h")
    fit = query.get("fit") or "contain"
    if fit not in FITS:
        raise bad_request(f"fit must be one of {', '.join(FITS)}")
    fmt = query.get("fmt") or settings.default_format
    if fmt not in REQUEST_FORMATS:
        raise bad_request(f"fmt must be one of {', '.join(REQUEST_FORMATS)}")
    quality = _positive_int(query, "q") or settings.default_quality
    if quality > 95:
        raise bad_request("q must be between 1 and 95")
    ratio = _positive_int(query, "dpr") or 1
    if ratio not in PIXEL_RATIOS:
        raise bad_request(f"dpr must be one of {', '.join(map(str, PIXEL_RATIOS))}")
    if fit == "cover" and height is None:
        raise bad_request("fit=cover needs both w and h")
    gravity = query.get("gravity") or "auto"
    if gravity not in GRAVITIES:
        raise bad_request(f"gravity must be one of {', '.join(GRAVITIES)}")
    if fit != "cover":
        gravity = "auto"  # nothing is cropped: one variant
    width = snap(width * ratio, settings.allowed_widths)
    height = None if height is None else snap(height * ratio, settings.allowed_widths)
    if height is not None and width * height > settings.max_output_pixels:
        raise bad_request(f"{width}x{height} exceeds the {settings.max_output_pixels} pixel ceiling")
    quality = snap(quality, settings.quality_levels) if fmt in QUALITY_FORMATS else settings.default_quality
    return Variant(width, height, fit, fmt, quality, gravity)


def canonical_query(variant: Variant, settings: Settings) -> dict[str, str]:
    """The one query string that names a variant: w, h when given, fit when not the default, fmt
    always, q when not the default; dpr is folded into the sizes."""
    query = {"w": str(variant.width)}
    if variant.height is not None:
        query["h"] = str(variant.height)
    if variant.fit != "contain":
        query["fit"] = variant.fit
    if variant.gravity != "auto":
        query["gravity"] = variant.gravity
    query["fmt"] = variant.fmt
    if variant.quality != settings.default_quality:
        query["q"] = str(variant.quality)
    return query


def query_text(query: Mapping[str, str]) -> str:
    return "&".join(f"{name}={value}" for name, value in query.items())


def variant_space(settings: Settings) -> Iterator[Variant]:
    """Every variant parse_variant can answer with, fmt=auto ones included."""
    widths = settings.allowed_widths
    for fmt in REQUEST_FORMATS:
        qualities = settings.quality_levels if fmt in QUALITY_FORMATS else (settings.default_quality,)
        for quality in qualities:
            for width in widths:
                yield Variant(width, None, "contain", fmt, quality)
                for height in widths:
                    if width * height <= settings.max_output_pixels:
                        yield Variant(width, height, "contain", fmt, quality)
                        for gravity in GRAVITIES:
                            yield Variant(width, height, "cover", fmt, quality, gravity)


def renders_per_image(settings: Settings) -> int:
    """The bound on renders per image (README, "A bounded variant space"): every variant, an auto
    one once per value the edge normalises Accept to (each is a cache entry of its own)."""
    return sum(len(NORMALISED_CHOICES) if v.fmt == AUTO else 1 for v in variant_space(settings))


def readable(source: Source) -> BinaryIO:
    """The source as a file read from its start (an open file is rewound: each decoder reads it
    from the top)."""
    if isinstance(source, bytes):
        return io.BytesIO(source)
    source.seek(0)
    return source


def resolved(data: Source, variant: Variant, preferred: str, settings: Settings) -> Variant:
    """The variant with fmt=auto replaced by the format this viewer gets for this original."""
    if variant.fmt != AUTO:
        return variant
    return replace(variant, fmt=automatic_format(preferred, _open(data, settings)))


def undecodable(error: Exception) -> ApiError:
    """A decoder's refusal (Pillow's or libvips's) as the API's 422; the last line of libvips's
    message says what failed."""
    lines = str(error).strip().splitlines()
    reason = lines[-1].strip() if lines else type(error).__name__
    return ApiError(422, "unprocessable_image", f"the original cannot be decoded: {reason}")


def _open(data: Source, settings: Settings) -> Image.Image:
    try:
        image = Image.open(readable(data))
    except (OSError, Image.DecompressionBombError) as error:
        raise undecodable(error) from None
    if image.width * image.height > settings.max_source_pixels:
        raise ApiError(422, "unprocessable_image", "the original exceeds the source pixel ceiling")
    return image


def uses_render_copy(data: Source, displayed: tuple[int, int], variant: Variant) -> bool:
    """Whether this variant of this original comes from its render copy (a large progressive
    JPEG, a variant at most half the copy's long edge)."""
    if max(displayed) <= RENDER_COPY_EDGE or 2 * max(target_size(displayed, variant)) > RENDER_COPY_EDGE:
        return False
    try:
        image = Image.open(readable(data))
    except (OSError, Image.DecompressionBombError):
        return False  # render() answers the 422
    return image.format == "JPEG" and bool(image.info.get("progressive") or image.info.get("progression"))


def make_render_copy(data: bytes) -> bytes:
    """The original as a baseline JPEG at RENDER_COPY_EDGE on its long edge, keeping its EXIF
    orientation and ICC profile (render() applies them as it does to the original)."""
    try:
        image = Image.open(io.BytesIO(data))
        scale = RENDER_COPY_EDGE / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image.draft(image.mode if image.mode in ("RGB", "L", "CMYK") else "RGB", size)
        copy = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
        options = {"icc_profile": image.info.get("icc_profile"), "exif": image.info.get("exif")}
        output = io.BytesIO()
        copy.save(output, "JPEG", quality=RENDER_COPY_QUALITY, subsampling=0, progressive=False,
                  **{name: value for name, value in options.items() if value})  # fmt: skip
    except (OSError, ValueError, SyntaxError) as error:
        raise undecodable(error) from None
    return output.getvalue()


def exif_orientation(image: Image.Image) -> int:
    """The EXIF orientation Pillow reads (1 when none)."""
    try:
        return image.getexif().get(0x0112, 1)
    except (OSError, SyntaxError, ValueError) as error:  # Pillow decodes a whole PNG to find its EXIF
        raise undecodable(error) from None


def header_orientation(image: Image.Image) -> int:
    """The EXIF orientation in the metadata Pillow read with the header (1 when none): a PNG's
    eXIf chunk before its pixels, a WebP's EXIF chunk. (getexif() decodes a whole PNG to look for
    an eXIf chunk after the pixels too.)"""
    exif = image.info.get("exif")
    if not exif:
        return 1
    parsed = Image.Exif()
    try:
        parsed.load(exif)
    except (OSError, SyntaxError, ValueError, struct.error):
        return 1  # unreadable EXIF: shown as stored
    orientation = parsed.get(0x0112, 1)
    return orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1


def decode_with_vips(data: Source, stored: tuple[int, int], target: tuple[int, int], exif: bytes | None) -> Image.Image:
    """The original reduced by libvips to VIPS_OVERSAMPLE times the scale the target needs (never
    enlarged; sizes as stored, before orientation), as an 8-bit Pillow image carrying the
    original's ICC profile and EXIF, so the pipeline turns and converts it as it does a JPEG."""
    scale = min(1.0, VIPS_OVERSAMPLE * max(target[0] / stored[0], target[1] / stored[1]))
    box = (max(1, math.ceil(stored[0] * scale)), max(1, math.ceil(stored[1] * scale)))
    try:
        # The loader takes fail_on in the option string (as a thumbnail option it is not passed on).
        # A file is read through its descriptor as libvips goes (PNG streams; WebP shrinks on load).
        options = {"height": box[1], "size": "down", "no_rotate": True, "option_string": "fail_on=error"}
        if isinstance(data, bytes):
            image = pyvips.Image.thumbnail_buffer(data, box[0], **options)
        else:
            data.seek(0)
            image = pyvips.Image.thumbnail_source(pyvips.Source.new_from_descriptor(data.fileno()), box[0], **options)
        if image.format != "uchar":
            image = image.cast("uchar", shift=image.format in ("ushort", "short"))
        if image.bands not in VIPS_MODES:
            raise ApiError(422, "unprocessable_image", f"the original has {image.bands} bands")
        decoded = Image.frombytes(VIPS_MODES[image.bands], (image.width, image.height), image.write_to_memory())
        if image.get_typeof("icc-profile-data"):
            decoded.info["icc_profile"] = image.get("icc-profile-data")
        if exif:
            decoded.info["exif"] = exif
    except pyvips.Error as error:
        raise undecodable(error) from None
    return decoded


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


def encoder_options(variant: Variant, settings: Settings) -> dict:
    if variant.fmt == "avif":
        # One thread: each gunicorn worker renders one image at a time, the workers fill the cores.
        return {
            "quality": max(1, variant.quality - AVIF_QUALITY_OFFSET),
            "speed": settings.avif_speed,
            "max_threads": 1,
        }
    if variant.fmt in LOSSY_FORMATS:
        return {"quality": variant.quality}
    return {"optimize": False}


def focus_box(
    source: tuple[int, int], target: tuple[int, int], focus: tuple[float, float]
) -> tuple[float, float, float, float]:
    """The region with the target's aspect ratio centred on the focal point as far as the edges allow."""
    left, top, right, bottom = cover_box(source, target)
    width, height = right - left, bottom - top
    x = min(max(focus[0] * source[0] - width / 2, 0.0), source[0] - width)
    y = min(max(focus[1] * source[1] - height / 2, 0.0), source[1] - height)
    return (x, y, x + width, y + height)


def detail_box(image: Image.Image, target: tuple[int, int]) -> tuple[float, float, float, float]:
    """The region with the target's aspect ratio that holds the most detail (edge energy of a small
    greyscale sample, summed across the axis the crop slides along); ties go to the most central.
    Deterministic: the same source and target always give the same region."""
    left, top, right, bottom = cover_box(image.size, target)
    slides_horizontally = right - left < image.width - 0.5
    if not slides_horizontally and bottom - top >= image.height - 0.5:
        return (left, top, right, bottom)  # same aspect ratio: nothing to choose
    sample = image.convert("L")
    sample.thumbnail((SMART_SAMPLE, SMART_SAMPLE))
    energy = sample.filter(ImageFilter.FIND_EDGES)
    columns, rows = energy.size
    pixels = energy.tobytes()
    inner = range(1, rows - 1), range(1, columns - 1)  # the filter's border answers are not detail
    if slides_horizontally:
        profile = [sum(pixels[y * columns + x] for y in inner[0]) if x in inner[1] else 0 for x in range(columns)]
        window = round((right - left) / image.width * columns)
    else:
        profile = [sum(pixels[y * columns + x] for x in inner[1]) if y in inner[0] else 0 for y in range(rows)]
        window = round((bottom - top) / image.height * rows)
    window = min(max(window, 1), len(profile))
    sums = [sum(profile[start : start + window]) for start in range(len(profile) - window + 1)]
    middle = (len(sums) - 1) / 2
    best = max(range(len(sums)), key=lambda start: (sums[start], -abs(start - middle)))
    centre = (best + window / 2) / len(profile)
    return focus_box(image.size, target, (centre, 0.5) if slides_horizontally else (0.5, centre))


def crop_box(
    image: Image.Image, target: tuple[int, int], gravity: str, focus: tuple[float, float] | None
) -> tuple[float, float, float, float]:
    """What fit=cover keeps of the image as displayed."""
    if gravity == "center":
        return cover_box(image.size, target)
    if focus is not None:
        return focus_box(image.size, target, focus)
    return detail_box(image, target)


def render(
    data: Source,
    variant: Variant,
    settings: Settings,
    focus: tuple[float, float] | None = None,
    displayed: tuple[int, int] | None = None,
) -> bytes:
    """The variant's bytes; focus is the image's focal point (x, y in 0..1 as displayed), if any.
    displayed: the original's size as displayed, when data is its render copy (the output size
    comes from the original's, so the copy changes no variant's dimensions)."""
    image = _open(data, settings)
    frames = getattr(image, "n_frames", 1)
    by_vips = frames == 1 and image.format in VIPS_SOURCE_FORMATS
    turned = (header_orientation(image) if by_vips else exif_orientation(image)) in TURNED
    shown = (image.height, image.width) if turned else image.size
    width, height = target_size(displayed or shown, variant)
    if width * height > settings.max_output_pixels:
        raise bad_request(f"{width}x{height} exceeds the {settings.max_output_pixels} pixel ceiling")
    # The budget bounds both ends: every source frame is decoded whole, every output frame encoded.
    frame_pixels = max(width * height, image.width * image.height)
    if frames > 1 and variant.fmt in ANIMATED_FORMATS and frames * frame_pixels <= settings.max_animation_pixels:
        return render_animation(image, variant, settings, (width, height), focus)
    # Past the budget, or to a format without animation: the first frame, as a still.
    if by_vips:
        stored_target = (height, width) if turned else (width, height)
        image = decode_with_vips(data, image.size, stored_target, image.info.get("exif"))
    elif image.format == "JPEG":
        # Decode at the smallest scale that stays at least as large as the target.
        request = (height, width) if turned else (width, height)
        image.draft("RGB", request)
    try:
        profile = _profile(image.info.get("icc_profile"))
        image = ImageOps.exif_transpose(image)
        if image.mode == "CMYK":  # its profile is what turns ink into light: before anything else
            image, profile = to_srgb(image, profile), None
        if image.mode in SIXTEEN_BIT_GREY:
            # Pillow's conversion to 8 bits clips (every level above 255 is white): scale instead.
            image = image.convert("I").point(lambda level: level / 257).convert("L")
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "transparency" in image.info or image.mode in ("LA", "P") else "RGB")
        box = crop_box(image, (width, height), variant.gravity, focus) if variant.fit == "cover" else None
        image = image.resize((width, height), Image.Resampling.LANCZOS, box=box, reducing_gap=REDUCING_GAP)
        image = to_srgb(image, profile)  # on the small image: a per-pixel conversion, cheapest there
        if variant.fmt == "jpeg" and image.mode == "RGBA":
            background = Image.new("RGB", image.size, (255, 255, 255))
            background.paste(image, mask=image.getchannel("A"))
            image = background
        image.info.pop("icc_profile", None)  # sRGB now, and untagged pixels are read as sRGB
        output = io.BytesIO()
        image.save(output, PILLOW_FORMATS[variant.fmt], **encoder_options(variant, settings))
    except (OSError, ValueError, SyntaxError) as error:
        raise ApiError(422, "unprocessable_image", f"the original cannot be resized: {error}") from None
    return output.getvalue()


def render_animation(
    image: Image.Image, variant: Variant, settings: Settings, size: tuple[int, int], focus: tuple[float, float] | None
) -> bytes:
    """Every frame of an animated GIF or WebP resized (the first frame's crop for all), as an
    animated WebP with the source's frame durations and loop count. Animations are shown as
    stored: GIF and WebP carry no EXIF orientation worth honouring, and colour is sRGB."""
    try:
        first = image.convert("RGBA")
        box = crop_box(first, size, variant.gravity, focus) if variant.fit == "cover" else None
        frames, durations = [], []
        for frame in ImageSequence.Iterator(image):
            rgba = frame.convert("RGBA")  # loads the frame: WebP sets its duration only then
            durations.append(int(frame.info.get("duration") or 100))
            frames.append(rgba.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=REDUCING_GAP))
        output = io.BytesIO()
        frames[0].save(
            output, PILLOW_FORMATS[variant.fmt], save_all=True, append_images=frames[1:], duration=durations,
            loop=int(image.info.get("loop", 0)), **encoder_options(variant, settings),
        )  # fmt: skip
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise ApiError(422, "unprocessable_image", f"the original's frames cannot be resized: {error}") from None
    return output.getvalue()
