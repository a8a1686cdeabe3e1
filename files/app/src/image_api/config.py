"""Settings of the image API, from environment variables or an env file (KEY=VALUE lines).

Every variable starts with IMAGE_API_. The env file (IMAGE_API_CONFIG, default
/etc/image-delivery/api.env when it exists) is read first; the environment wins over it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_CONFIG_FILE = "/etc/image-delivery/api.env"
FORMATS = ("webp", "avif", "jpeg", "png")


class ConfigError(ValueError):
    """A setting that is missing or out of range; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    table: str = ""  # DynamoDB catalog table (or catalog_file for a file-based catalog)
    catalog_file: str = ""  # JSON list of catalog entries, instead of the table (development, benchmarks)
    bucket: str = ""  # S3 bucket of the originals
    region: str = "eu-west-1"
    endpoint_url: str = ""  # AWS endpoint (the local endpoint); empty on AWS
    allowed_widths: tuple[int, ...] = (64, 128, 256, 320, 480, 640, 800, 1024, 1280, 1600, 1920)
    max_output_pixels: int = 2_500_000  # ceiling of a resized variant (w x h)
    max_source_pixels: int = 64_000_000  # originals above this are refused (decompression bomb guard)
    # Renders estimated above this many bytes (render_slot.py) run one at a time per instance,
    # waiting up to large_render_wait_seconds for their turn (then 503 with Retry-After).
    large_render_bytes: int = 64 * 1024 * 1024
    large_render_wait_seconds: float = 20.0
    # An animated variant's frames x pixels (of a source frame or an output frame, the larger);
    # past it the first frame is served as a still.
    max_animation_pixels: int = 40_000_000
    default_format: str = "webp"
    default_quality: int = 80  # one of quality_levels
    # q snaps up to one of these (as w and h snap to allowed_widths): a bounded set of variants.
    quality_levels: tuple[int, ...] = (50, 65, 80, 90)
    # libavif's speed (0 slowest, 10 fastest): 9 encodes an 800 px photo in about WebP's time.
    avif_speed: int = 9
    # Signed variant URLs (signing.py): with a key, the URLs the API hands out carry s=, and a
    # wrong s is a 403; with require_signed_urls too, a variant URL without s is a 403 as well.
    signing_key: str = field(default="", repr=False)  # a secret: never logged, never in an answer
    require_signed_urls: bool = False
    cache_dir: str = "/var/cache/image-api"  # local copies of originals
    cache_bytes: int = 512 * 1024 * 1024
    refresh_seconds: float = 30.0  # how often the catalog version is polled
    search_limit: int = 20
    max_search_limit: int = 100
    max_query_length: int = 200
    max_request_bytes: int = 4096  # bodies and query strings above this answer 413
    cdn_base_url: str = ""  # prefix of original and thumbnail URLs; empty gives site-relative URLs
    thumbnail_width: int = 320
    log_requests: bool = True
    static_dir: str = ""  # serve the search page from here too (development; NGINX serves it in production)


def _int(name: str, value: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"IMAGE_API_{name.upper()} must be an integer, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"IMAGE_API_{name.upper()} must be at least {minimum}, got {number}")
    return number


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise ConfigError(f"{path}:{number}: expected KEY=VALUE")
        key, value = line.split("=", 1)
        values[key.strip()] = value.strip().strip('"')
    return values


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    config_file = Path(environ.get("IMAGE_API_CONFIG", DEFAULT_CONFIG_FILE))
    values = read_env_file(config_file) if config_file.is_file() else {}
    values.update({k: v for k, v in environ.items() if k.startswith("IMAGE_API_")})
    raw = {k.removeprefix("IMAGE_API_").lower(): v for k, v in values.items() if k.startswith("IMAGE_API_")}
    raw.pop("config", None)
    known = Settings.__dataclass_fields__
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"unknown settings: {', '.join('IMAGE_API_' + u.upper() for u in unknown)}")
    parsed: dict = {}
    for name, value in raw.items():
        default = known[name].default
        if isinstance(default, bool):
            parsed[name] = value.lower() in ("1", "true", "yes", "on")
        elif isinstance(default, int):
            parsed[name] = _int(name, value, 1)
        elif isinstance(default, float):
            try:
                parsed[name] = float(value)
            except ValueError:
                raise ConfigError(f"IMAGE_API_{name.upper()} must be a number, got {value!r}") from None
        elif isinstance(default, tuple):
            parsed[name] = tuple(sorted({_int(name, part, 1) for part in value.split(",") if part.strip()}))
        else:
            parsed[name] = value
    settings = Settings(**parsed)
    return validate(settings)


def validate(settings: Settings) -> Settings:
    if not settings.table and not settings.catalog_file:
        raise ConfigError("IMAGE_API_TABLE (or IMAGE_API_CATALOG_FILE) is required")
    if not settings.bucket and not settings.catalog_file:
        raise ConfigError("IMAGE_API_BUCKET is required")
    if not settings.allowed_widths:
        raise ConfigError("IMAGE_API_ALLOWED_WIDTHS must list at least one width")
    if settings.default_format not in FORMATS:
        raise ConfigError(f"IMAGE_API_DEFAULT_FORMAT must be one of {', '.join(FORMATS)}")
    if not settings.quality_levels or not all(1 <= level <= 95 for level in settings.quality_levels):
        raise ConfigError("IMAGE_API_QUALITY_LEVELS must list qualities between 1 and 95")
    if settings.default_quality not in settings.quality_levels:
        raise ConfigError(
            f"IMAGE_API_DEFAULT_QUALITY must be one of IMAGE_API_QUALITY_LEVELS ({settings.quality_levels})"
        )
    if any(character in settings.cdn_base_url for character in '"\\<> ') or not settings.cdn_base_url.isprintable():
        # Written as is into URLs and JSON answers (app.py): nothing there may need escaping.
        raise ConfigError("IMAGE_API_CDN_BASE_URL must be a URL without spaces, quotes, backslashes or <>")
    if settings.require_signed_urls and not settings.signing_key:
        raise ConfigError("IMAGE_API_REQUIRE_SIGNED_URLS needs IMAGE_API_SIGNING_KEY")
    if settings.signing_key and len(settings.signing_key) < 32:
        raise ConfigError("IMAGE_API_SIGNING_KEY must be at least 32 characters")
    if settings.avif_speed > 10:
        raise ConfigError("IMAGE_API_AVIF_SPEED must be between 1 and 10")
    if not 0 < settings.large_render_wait_seconds <= 25:
        raise ConfigError("IMAGE_API_LARGE_RENDER_WAIT_SECONDS must be above 0 and at most 25 (under the timeouts)")
    if settings.refresh_seconds <= 0:
        raise ConfigError("IMAGE_API_REFRESH_SECONDS must be positive")
    if settings.search_limit > settings.max_search_limit:
        raise ConfigError("IMAGE_API_SEARCH_LIMIT cannot exceed IMAGE_API_MAX_SEARCH_LIMIT")
    return settings
