"""Auto Scaling DisableMetricsCollection, which moto lacks.

Upstream gap (moto 5.2.5): only EnableMetricsCollection exists. amazon.aws.autoscaling_group with
its default `metrics_collection: false` calls DisableMetricsCollection on the second run, which
answers HTTP 500, so the run fails.
"""

from __future__ import annotations

from typing import Any

from ._patching import Fix


def remaining_metrics(enabled: list[str], to_disable: list[str] | None) -> list[str]:
    """Metrics left enabled after disabling `to_disable` (empty or None means all of them)."""
    if not to_disable:
        return []
    return [metric for metric in enabled if metric not in to_disable]


def _patches() -> list[tuple[Any, str, Any]]:
    from moto.autoscaling.responses import AutoScalingResponse
    from moto.core.responses import EmptyResult

    def disable_metrics_collection(self: AutoScalingResponse) -> EmptyResult:
        group_name = self._get_param("AutoScalingGroupName")
        metrics = self._get_param("Metrics")
        group = self.autoscaling_backend.describe_auto_scaling_groups([group_name])[0]
        group.metrics = remaining_metrics(group.metrics, metrics)
        return EmptyResult()

    return [(AutoScalingResponse, "disable_metrics_collection", disable_metrics_collection)]


FIX = Fix(
    name="autoscaling-disable-metrics",
    upstream_gap="DisableMetricsCollection not implemented (autoscaling_group fails on run 2)",
    patches=_patches,
)
