"""What an Auto Scaling group with ``HealthCheckType: ELB`` does with an unhealthy target.

On AWS the group replaces an InService instance that its load balancer reports unhealthy, once
the health check grace period since the instance came into service has passed (Amazon EC2 Auto
Scaling user guide, "Health checks for instances in an Auto Scaling group"). The local endpoint
only stores the setting, so the data plane does it: each pass it compares what the balancer's
checks see with the group's settings, marks an instance past its grace period whose target is
unhealthy as Unhealthy and terminates it in the group (the group launches a replacement), and
writes the activity to ``replacements.jsonl``.

The grace period starts when the data plane first sees the instance InService, which, with the
launch lifecycle hook, is when its first boot completed the hook (as on AWS). Those moments are
kept in ``in-service.json`` so that a restarted loop does not start them again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..processes import write_if_changed
from .stack import Stack


@dataclass(frozen=True)
class Replacement:
    instance_id: str
    in_service_seconds: float
    reason: str


def in_service_since(path: Path, stack: Stack, now: float) -> dict[str, float]:
    """When each InService instance was first seen so, recorded in ``path`` (gone ones dropped)."""
    try:
        known = {key: float(value) for key, value in json.loads(path.read_text()).items()}
    except (FileNotFoundError, ValueError, AttributeError):
        known = {}
    since = {
        instance.instance_id: known.get(instance.instance_id, now)
        for instance in stack.instances
        if instance.lifecycle_state == "InService"
    }
    write_if_changed(path, json.dumps(since, sort_keys=True))
    return since


def due_for_replacement(stack: Stack, health: dict[str, str], since: dict[str, float], now: float) -> list[Replacement]:
    """InService instances past the grace period whose target the balancer finds unhealthy."""
    if stack.health_check_type != "ELB":
        return []
    due = []
    for instance_id, state in sorted(health.items()):
        started = since.get(instance_id)
        if state != "unhealthy" or started is None or now - started < stack.health_check_grace_period:
            continue
        reason = (
            f"ELB health check: target unhealthy {now - started:.0f}s after the instance came into service "
            f"(grace period {stack.health_check_grace_period}s)"
        )
        due.append(Replacement(instance_id, round(now - started, 1), reason))
    return due


def replace(autoscaling: Any, replacement: Replacement, log_path: Path, now: float) -> None:
    """Mark the instance Unhealthy and terminate it in its group, which launches a replacement."""
    autoscaling.set_instance_health(
        InstanceId=replacement.instance_id, HealthStatus="Unhealthy", ShouldRespectGracePeriod=False
    )
    autoscaling.terminate_instance_in_auto_scaling_group(
        InstanceId=replacement.instance_id, ShouldDecrementDesiredCapacity=False
    )
    entry = {"time": now, "instance": replacement.instance_id, "cause": replacement.reason,
             "in_service_seconds": replacement.in_service_seconds}  # fmt: skip
    with log_path.open("a") as log:
        log.write(json.dumps(entry) + "\n")
