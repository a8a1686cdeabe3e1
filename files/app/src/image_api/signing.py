"""Signed variant URLs: an HMAC over the canonical variant, so that only URLs the API handed out
render when signatures are required (a bound on renders that holds even for the variants in the
allowed space, and a way to keep an image's variants private to the pages that show it).

The signature is the first 22 characters (132 bits) of the URL-safe base64 of HMAC-SHA256, keyed
with IMAGE_API_SIGNING_KEY, over ``<image_id>?<canonical query>``: it names the image and the one
variant, never an order or spelling of its parameters.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

SIGNATURE_PARAMETER = "s"
SIGNATURE_LENGTH = 22


def signature(key: str, image_id: str, canonical_query_text: str) -> str:
    digest = hmac.new(key.encode(), f"{image_id}?{canonical_query_text}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:SIGNATURE_LENGTH]


def signature_matches(key: str, image_id: str, canonical_query_text: str, given: str) -> bool:
    return hmac.compare_digest(signature(key, image_id, canonical_query_text), given)
