"""Originals from S3, kept in a size-bounded local disk cache (least recently used evicted first).

Keys are content-addressed, so a cached file never goes stale; it is only evicted for space.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .errors import ApiError

FETCH_CHUNK_BYTES = 1 << 20


class OriginalStore:
    def __init__(self, s3_client, bucket: str, cache_dir: str, cache_bytes: int) -> None:
        self.s3 = s3_client
        self.bucket = bucket
        self.cache_dir = Path(cache_dir)
        self.cache_bytes = cache_bytes
        self._lock = threading.Lock()
        self.cache_dir.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.cache_dir / hashlib.sha256(key.encode()).hexdigest()

    def get(self, key: str) -> bytes:
        """The original at key, whole (see open for reading it as a file)."""
        with self.open(key) as handle:
            return handle.read()

    def open(self, key: str) -> BinaryIO:
        """The original at key as an open file in the disk cache, fetched from S3 in chunks when
        it is not there (never whole in memory). The file stays readable while it is open, even
        if the cache evicts it meanwhile; close it (with) when done."""
        path = self._path(key)
        try:
            handle = path.open("rb")
            os.utime(path)
            return handle
        except FileNotFoundError:
            pass  # not cached yet: fetch it from S3 below
        descriptor, temporary = tempfile.mkstemp(dir=self.cache_dir, prefix=".incoming-")
        handle = os.fdopen(descriptor, "w+b")
        try:
            try:
                body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]
                for chunk in body.iter_chunks(FETCH_CHUNK_BYTES):
                    handle.write(chunk)
            except self.s3.exceptions.NoSuchKey:
                raise ApiError(404, "not_found", "the original is missing from the store") from None
            except Exception as error:  # botocore network and service errors, mid-body too
                raise ApiError(
                    503, "store_unavailable", f"the image store did not answer: {type(error).__name__}"
                ) from None
            handle.flush()
            os.replace(temporary, path)
        except BaseException:
            handle.close()
            Path(temporary).unlink(missing_ok=True)
            raise
        with self._lock:
            self._evict()
        handle.seek(0)
        return handle

    def derived(self, key: str, name: str, make: Callable[[bytes], bytes]) -> bytes:
        """What make() derives from the original at key (named name, which changes with the way it
        is made), from the disk cache or made now and kept there, evicted like the originals."""
        path = self._path(f"{key}#{name}")
        try:
            data = path.read_bytes()
            os.utime(path)
            return data
        except FileNotFoundError:
            pass  # not made yet on this instance: make it below
        data = make(self.get(key))
        self._put(path, data)
        return data

    def _put(self, path: Path, data: bytes) -> None:
        descriptor, temporary = tempfile.mkstemp(dir=self.cache_dir, prefix=".incoming-")
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
        with self._lock:
            self._evict()

    def _evict(self) -> None:
        # Cached copies only: not the temporary files (".incoming-"), nor folders kept here (the
        # catalog's, wsgi.CATALOG_FOLDER).
        files = [
            (p.stat().st_mtime, p.stat().st_size, p)
            for p in self.cache_dir.iterdir()
            if not p.name.startswith(".") and p.is_file()
        ]
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.cache_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size

    def reachable(self) -> bool:
        try:
            self.s3.head_bucket(Bucket=self.bucket)
            return True
        except Exception:  # any failure means not ready
            return False
