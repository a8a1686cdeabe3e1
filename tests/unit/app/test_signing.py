"""Signatures of variant URLs (image_api/signing.py) and the settings that turn them on."""

from __future__ import annotations

import pytest
from image_api.config import ConfigError, load_settings
from image_api.signing import SIGNATURE_LENGTH, signature, signature_matches

KEY = "0123456789abcdef0123456789abcdef"


def test_a_signature_names_one_image_and_one_variant():
    signed = signature(KEY, "photos-cat", "w=320&fmt=webp")
    assert len(signed) == SIGNATURE_LENGTH and set(signed) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    assert signature_matches(KEY, "photos-cat", "w=320&fmt=webp", signed)
    assert not signature_matches(KEY, "photos-dog", "w=320&fmt=webp", signed)
    assert not signature_matches(KEY, "photos-cat", "w=640&fmt=webp", signed)
    assert not signature_matches(KEY[::-1], "photos-cat", "w=320&fmt=webp", signed)
    assert not signature_matches(KEY, "photos-cat", "w=320&fmt=webp", signed[:-1])


@pytest.mark.parametrize(
    ("environment", "reason"),
    [
        ({"IMAGE_API_REQUIRE_SIGNED_URLS": "true"}, "needs IMAGE_API_SIGNING_KEY"),
        ({"IMAGE_API_SIGNING_KEY": "short"}, "at least 32 characters"),
    ],
)
def test_signing_settings_are_checked(environment, reason):
    with pytest.raises(ConfigError, match=reason):
        load_settings({"IMAGE_API_CONFIG": "/nonexistent", "IMAGE_API_CATALOG_FILE": "x", **environment})


def test_the_key_is_not_in_the_settings_repr():
    settings = load_settings(
        {"IMAGE_API_CONFIG": "/nonexistent", "IMAGE_API_CATALOG_FILE": "x", "IMAGE_API_SIGNING_KEY": KEY}
    )
    assert settings.signing_key == KEY and KEY not in repr(settings)
