# Copyright: image-delivery contributors
# Apache License 2.0
"""Waiting for AWS with botocore's own waiters, bounded by a task's timeout in seconds.

A waiter that runs out of attempts raises botocore's WaiterError: a timeout fails the task, it never
returns as if the resource were ready.
"""

from __future__ import annotations

import math


def waiter_config(timeout: int, delay: int) -> dict[str, int]:
    """WaiterConfig that polls every ``delay`` seconds (at most the timeout, at least 1) and gives up
    once ``timeout`` seconds of polling have passed (one attempt more, for the first call at 0 s)."""
    if timeout < 0:
        raise ValueError(f"timeout must not be negative, got {timeout}")
    delay = max(1, min(delay, timeout or 1))
    return {"Delay": delay, "MaxAttempts": math.ceil(timeout / delay) + 1}


def wait_for(client, waiter_name: str, timeout: int, delay: int, **request: object) -> None:
    """Wait with the client's waiter ``waiter_name`` for the resource that ``request`` names."""
    client.get_waiter(waiter_name).wait(WaiterConfig=waiter_config(timeout, delay), **request)
