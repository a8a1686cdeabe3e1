# Copyright: image-delivery contributors
# Apache License 2.0
"""Local working files of the controller's modules: read whole, written atomically."""

from __future__ import annotations

import os
import tempfile


def read_bytes(path: str | None) -> bytes | None:
    """A file's bytes; None when there is no such file."""
    if not path or not os.path.isfile(path):
        return None
    with open(path, "rb") as handle:
        return handle.read()


def write_atomically(path: str, data: bytes, mode: int | None = None) -> None:
    """Write so that an interrupted run leaves the old file or the new one, never half (the
    folder is made when missing; mode, when given, is set before the file takes its name)."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".partial-")
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    if mode is not None:
        os.chmod(temporary, mode)
    os.replace(temporary, path)
