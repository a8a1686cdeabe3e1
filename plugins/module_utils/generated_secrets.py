"""Pure helpers for generated secrets (unit-tested; no AWS calls)."""

from __future__ import annotations

import secrets
import string

SECRET_ALPHABET = string.ascii_letters + string.digits


def generate_secret(length: int) -> str:
    """A random token of letters and digits (safe in an HTTP header value)."""
    if length < 16:
        raise ValueError("a generated secret needs at least 16 characters")
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(length))


def parameter_name_is_valid(name: str) -> bool:
    """SSM parameter names: a path of letters, digits and . - _ /, at most 1011 characters."""
    allowed = set(string.ascii_letters + string.digits + "._-/")
    return bool(name) and len(name) <= 1011 and set(name) <= allowed and not name.lower().startswith(("/aws", "aws"))
