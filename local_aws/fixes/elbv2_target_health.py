"""ELBv2 DescribeTargetHealth: report what the health checks see, not "healthy" for any instance.

Upstream gap (moto 5.2.5): every registered instance target is "healthy" as soon as it is
registered, without any check; AWS reports "initial" until the target passed the health check
HealthyThresholdCount times, then "healthy" or "unhealthy" (Target.FailedHealthChecks). Lenient
health hides the failures that matter: a play that waits for healthy targets, an Auto Scaling
group with ELB health checks, a rolling release that waits before the next batch.

With this fix the endpoint reports, for each registered target, the state last posted for it by
the health checker of the local data plane (the balancer, which checks every target with the
target group's settings), and "initial" for a target nobody has checked yet:

    POST /local-aws/target-health
    {"target_group_arn": "...", "targets": {"i-0123": "healthy", "i-0456": "unhealthy"}}

The data plane posts the whole target group at every pass, so a restarted endpoint recovers the
states within one pass. Without a data plane (the integration layer builds the AWS side only)
targets stay "initial", as they would on AWS with no instance answering.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from ._patching import Fix, json_answer, serve_route

ROUTE = "/local-aws/target-health"
STATES = {"initial", "healthy", "unhealthy"}
REASONS = {
    "initial": ("Elb.RegistrationInProgress", "Target registration is in progress"),
    "unhealthy": ("Target.FailedHealthChecks", "Health checks failed"),
}


class HealthRegistry:
    """Target states posted by the health checker, by target group ARN and target id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, dict[str, str]] = {}

    def post(self, target_group_arn: str, targets: dict[str, str]) -> None:
        if not isinstance(target_group_arn, str) or not target_group_arn:
            raise ValueError("target_group_arn must be a non-empty string")
        if not isinstance(targets, dict) or any(state not in STATES for state in targets.values()):
            raise ValueError(f"targets must map target ids to one of {sorted(STATES)}")
        with self._lock:
            self._states[target_group_arn] = dict(targets)

    def state(self, target_group_arn: str, target_id: str) -> str:
        with self._lock:
            return self._states.get(target_group_arn, {}).get(target_id, "initial")

    def snapshot(self) -> dict[str, dict[str, str]]:
        with self._lock:
            return {arn: dict(targets) for arn, targets in self._states.items()}

    def clear(self) -> None:
        with self._lock:
            self._states.clear()


REGISTRY = HealthRegistry()


def answer(environ: dict[str, Any], start_response: Any, registry: HealthRegistry) -> list[bytes]:
    """The health checker's route: POST the states of one target group, GET them all."""
    status, body = "200 OK", {}
    if environ.get("REQUEST_METHOD") == "POST":
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            posted = json.loads(environ["wsgi.input"].read(length) or b"{}")
            registry.post(posted.get("target_group_arn"), posted.get("targets"))
            body = {"ok": True}
        except (ValueError, AttributeError) as error:
            status, body = "400 Bad Request", {"ok": False, "error": str(error)}
    else:
        body = registry.snapshot()
    return json_answer(start_response, body, status)


def _patches() -> list[tuple[Any, str, Any]]:
    from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup

    original_health_for = FakeTargetGroup.health_for

    def health_for(self: FakeTargetGroup, target: dict[str, Any], ec2_backend: Any) -> Any:
        health = original_health_for(self, target, ec2_backend)
        if health.status != "healthy":  # not registered, draining (terminated), stopped: moto's answer stands
            return health
        state = REGISTRY.state(self.arn, health.instance_id)
        if state == "healthy":
            return health
        reason, description = REASONS[state]
        return FakeHealthStatus(health.instance_id, health.port, health.health_check_port, state, reason, description)

    return [
        serve_route(ROUTE, lambda environ, start_response: answer(environ, start_response, REGISTRY)),
        (FakeTargetGroup, "health_for", health_for),
    ]


FIX = Fix(
    name="elbv2-target-health",
    upstream_gap="every registered instance target is reported healthy without a health check",
    patches=_patches,
)
