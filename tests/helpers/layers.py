"""What the other test layers are doing, when scripts/test_layers.py runs them side by side.

The runner marks each running layer with a file in RUNNING_DIR (named after the layer). A test
that measures the machine (a load test reaching a CPU target) waits until it is the only one.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

RUNNING_DIR_VARIABLE = "IMAGE_DELIVERY_RUNNING_LAYERS"


def running_layers() -> set[str]:
    folder = os.environ.get(RUNNING_DIR_VARIABLE)
    if not folder or not Path(folder).is_dir():
        return set()
    return {marker.name for marker in Path(folder).iterdir()}


def wait_for_a_quiet_machine(own_layer: str, timeout: float, interval: float = 10.0) -> float:
    """Seconds waited until no other layer runs (at once outside scripts/test_layers.py)."""
    started = time.monotonic()
    while running_layers() - {own_layer}:
        if time.monotonic() - started > timeout:
            raise AssertionError(f"other test layers still running after {timeout:.0f}s: {running_layers()}")
        time.sleep(interval)
    return time.monotonic() - started
