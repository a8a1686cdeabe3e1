"""Auto Scaling DescribeAutoScalingGroups: tags sorted by key, as AWS returns them.

Upstream gap (moto 5.2.5): tags come back in the order they were added. amazon.aws
autoscaling_group sorts the described tag list in place before it snapshots the group, then
compares that snapshot with a fresh (unsorted) description, so every run reports changed.
"""

from __future__ import annotations

from typing import Any

from ._patching import Fix


def sorted_tags(tags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(tags, key=lambda tag: tag["Key"])


def _patches() -> list[tuple[Any, str, Any]]:
    from moto.autoscaling.models import AutoScalingBackend, FakeAutoScalingGroup

    original = AutoScalingBackend.describe_auto_scaling_groups

    def describe_auto_scaling_groups(self: AutoScalingBackend, *args: Any, **kwargs: Any) -> list[FakeAutoScalingGroup]:
        groups = original(self, *args, **kwargs)
        for group in groups:
            group.tags = sorted_tags(group.tags)
        return groups

    return [(AutoScalingBackend, "describe_auto_scaling_groups", describe_auto_scaling_groups)]


FIX = Fix(
    name="autoscaling-tag-order",
    upstream_gap="DescribeAutoScalingGroups returns tags unsorted (autoscaling_group changed on every run)",
    patches=_patches,
)
