from __future__ import annotations

import pytest
from image_api.config import ConfigError, Settings, load_settings
from image_api.errors import ApiError
from image_api.queries import decode_cursor, encode_cursor, parse_search
from image_api.resize import Variant, cover_box, parse_variant, snap, target_size

SETTINGS = Settings(table="t", bucket="b")


def test_widths_snap_up_to_the_allowed_set_and_cap_at_its_largest():
    allowed = (64, 128, 256)
    assert [snap(w, allowed) for w in (1, 64, 65, 200, 256, 9999)] == [64, 64, 128, 256, 256, 256]


def test_contain_keeps_the_ratio_and_never_upscales():
    assert target_size((2000, 1000), Variant(500, None, "contain", "webp", 80)) == (500, 250)
    assert target_size((2000, 1000), Variant(500, 500, "contain", "webp", 80)) == (500, 250)
    assert target_size((100, 50), Variant(500, None, "contain", "webp", 80)) == (100, 50)
    assert target_size((2000, 1000), Variant(300, 300, "cover", "webp", 80)) == (300, 300)


def test_cover_keeps_the_centre():
    assert cover_box((200, 100), (50, 50)) == (50.0, 0.0, 150.0, 100.0)
    assert cover_box((100, 200), (50, 50)) == (0.0, 50.0, 100.0, 150.0)


@pytest.mark.parametrize(
    "query",
    [{"w": "x"}, {"w": "0"}, {"fit": "fill"}, {"fmt": "bmp"}, {"q": "0"}, {"q": "96"}, {"fit": "cover", "w": "10"}],
)
def test_bad_variant_parameters_are_400(query):
    with pytest.raises(ApiError) as raised:
        parse_variant(query, SETTINGS)
    assert raised.value.status == 400


def test_variant_etags_differ_by_source_and_parameters():
    variant = parse_variant({"w": "100"}, SETTINGS)
    assert variant.etag("a" * 64) != variant.etag("b" * 64)
    assert variant.etag("a" * 64) != parse_variant({"w": "300"}, SETTINGS).etag("a" * 64)


def test_cursors_round_trip_and_forgeries_are_refused():
    assert decode_cursor(encode_cursor(40)) == 40
    for forged in ("abc", encode_cursor(-1), "eyJvIjogdHJ1ZX0"):
        with pytest.raises(ApiError):
            decode_cursor(forged)


def test_search_parameters_are_bounded():
    query = parse_search({"q": "red fox", "tags": "B, a", "limit": "5"}, SETTINGS)
    assert query.filters["tags"] == ["a", "b"] and query.limit == 5
    with pytest.raises(ApiError):
        parse_search({"limit": "1000"}, SETTINGS)


def test_settings_come_from_a_file_and_the_environment_wins(tmp_path):
    config = tmp_path / "api.env"
    config.write_text(
        "# comment\nIMAGE_API_TABLE=from-file\nIMAGE_API_BUCKET=bucket\nIMAGE_API_ALLOWED_WIDTHS=300,100\n"
    )
    settings = load_settings({"IMAGE_API_CONFIG": str(config), "IMAGE_API_TABLE": "from-env"})
    assert settings.table == "from-env" and settings.bucket == "bucket" and settings.allowed_widths == (100, 300)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({}, "IMAGE_API_TABLE"),
        ({"IMAGE_API_TABLE": "t"}, "IMAGE_API_BUCKET"),
        ({"IMAGE_API_TABLE": "t", "IMAGE_API_BUCKET": "b", "IMAGE_API_CACHE_BYTES": "lots"}, "IMAGE_API_CACHE_BYTES"),
        ({"IMAGE_API_TABLE": "t", "IMAGE_API_BUCKET": "b", "IMAGE_API_DEFAULT_FORMAT": "gif"}, "DEFAULT_FORMAT"),
        ({"IMAGE_API_TABLE": "t", "IMAGE_API_BUCKET": "b", "IMAGE_API_TYPO": "1"}, "IMAGE_API_TYPO"),
    ],
)
def test_bad_settings_name_the_variable(environ, named, tmp_path):
    with pytest.raises(ConfigError, match=named):
        load_settings({"IMAGE_API_CONFIG": str(tmp_path / "none.env"), **environ})
