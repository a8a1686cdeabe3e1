"""A release: a reproducible tar.gz from files on disk, named by what it packs.

Entries are sorted, owned by root, with fixed modes and a zero mtime, and the gzip header carries
no name or time, so the same inputs always give the same bytes (the release bundle is uploaded
only when it changed, and instances check the hash they download). The release id is computed
from the entries themselves (names and contents), so whatever the bundle packs is part of the id:
nothing can change under the same release.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import Iterable, Mapping
from pathlib import Path

SKIPPED_NAMES = {"__pycache__", ".pytest_cache", ".ruff_cache"}
SKIPPED_SUFFIXES = (".pyc", ".pyo")


class BundleError(ValueError):
    """A source is missing or an archive path would leave the bundle."""


def walk(source: Path) -> Iterable[tuple[str, Path]]:
    """(path relative to source, file) for every file under source, sorted, caches skipped."""
    if source.is_file():
        yield "", source
        return
    if not source.is_dir():
        raise BundleError(f"{source} does not exist")
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if any(part in SKIPPED_NAMES or part.endswith(".egg-info") for part in relative.parts):
            continue
        if path.is_file() and not path.name.endswith(SKIPPED_SUFFIXES):
            yield relative.as_posix(), path


def entries(sources: Mapping[str, str], contents: Mapping[str, str]) -> dict[str, bytes]:
    """Archive path -> bytes, from folders/files (sources) and inline texts (contents)."""
    collected: dict[str, bytes] = {}
    for target, source in sources.items():
        for relative, file in walk(Path(source)):
            name = f"{target.rstrip('/')}/{relative}" if relative else target
            collected[name] = file.read_bytes()
    for name, text in contents.items():
        collected[name] = text.encode()
    for name in collected:
        if name.startswith("/") or ".." in Path(name).parts:
            raise BundleError(f"archive path {name} leaves the bundle")
    return collected


def release_id(files: Mapping[str, bytes], length: int = 16) -> str:
    """The id of a release: a hash over every entry's name and content (sorted by name)."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()[:length]


def build(files: Mapping[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(files):
            data = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755 if data.startswith(b"#!") else 0o644
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            archive.addfile(info, io.BytesIO(data))
    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0) as stream:
        stream.write(raw.getvalue())
    return compressed.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
