"""CloudFront invalidations: InProgress first, then Completed, spelled as AWS spells them.

Upstream gap (moto 5.2.5): an invalidation is created with Status "COMPLETED". AWS answers
"InProgress" until the edges have dropped the paths, then "Completed" (CloudFront API reference,
Invalidation; botocore's InvalidationCompleted waiter expects exactly "Completed"). With moto's
answer a waiter never succeeds, and a caller that does not wait is never held to the delay.
"""

from __future__ import annotations

import datetime
from typing import Any

from ._patching import Fix

# How long an invalidation stays InProgress here (AWS: usually tens of seconds to minutes).
IN_PROGRESS_SECONDS = 3.0


def invalidation_status(created: datetime.datetime, now: datetime.datetime) -> str:
    """AWS's status of an invalidation created at `created` (both naive UTC, as moto keeps them)."""
    return "Completed" if (now - created).total_seconds() >= IN_PROGRESS_SECONDS else "InProgress"


def _patches() -> list[tuple[Any, str, Any]]:
    from moto.cloudfront.models import Invalidation
    from moto.core.utils import utcnow

    def status(self: Invalidation) -> str:
        return invalidation_status(self.create_time, utcnow())

    def ignore_moto_status(self: Invalidation, value: str) -> None:
        """moto's __init__ assigns "COMPLETED"; the status follows the creation time instead."""

    return [(Invalidation, "status", property(status, ignore_moto_status))]


FIX = Fix(
    name="cloudfront-invalidation-status",
    upstream_gap='invalidations are "COMPLETED" at once (AWS: "InProgress", then "Completed"; waiters never succeed)',
    patches=_patches,
)
