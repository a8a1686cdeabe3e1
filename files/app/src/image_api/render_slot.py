"""One large render at a time per instance, across every gunicorn worker.

Decoding a large PNG or WebP takes several bytes per source pixel (a 36 MP WebP peaks near
560 MB under Pillow: bench/engines.py), and an instance runs 2 x CPUs + 1 workers with 2 threads
each: ten such renders at once would need several times a t3.small's 2 GiB, and the kernel would
kill workers mid-answer. A render estimated above ``large_render_bytes`` therefore holds an
exclusive lock on a file shared by the workers (flock: released by the kernel if the process
dies); others wait for it up to ``large_render_wait_seconds``, then answer 503 with Retry-After,
which the edge and browsers retry, instead of taking the instance down. JPEGs decode at the
target's scale (draft mode) and are never large by this measure.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import ApiError

BYTES_PER_PIXEL = 8  # the decoded RGBA source and its converted copy, 4 bytes a pixel each
POLL_SECONDS = 0.02  # flock has no timeout: a non-blocking try, this often, until the deadline


def estimated_bytes(source_format: str, width: int, height: int) -> int:
    """Memory a render of this original needs at its peak, roughly."""
    if source_format == "jpeg":
        return 0  # decoded at the smallest DCT scale that covers the target (resize.render)
    return width * height * BYTES_PER_PIXEL


class Busy(ApiError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(503, "busy", "the instance is rendering another large image; retry shortly")
        self.retry_after = retry_after


@contextlib.contextmanager
def large_render_slot(lock_file: Path, wait_seconds: float) -> Iterator[None]:
    """Hold the instance's large-render lock (waiting up to wait_seconds), or raise Busy."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise Busy(retry_after=max(1, round(wait_seconds))) from None
                time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
