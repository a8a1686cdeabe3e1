"""Filters about the health of a load balancer's targets."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: target_readiness
short_description: Whether a target group serves, from its targets' health
description:
  - Reads one target group as C(community.aws.elb_target_group_info) returns it with
    C(collect_targets_health=true) and says whether it is ready to serve.
  - Ready means at least one target is registered and every registered target is C(healthy).
    Targets leaving the group (C(draining), C(unused)) do not count either way.
  - C(initial) and C(unhealthy) targets make it not ready, named in C(reason) with AWS's reason code.
options:
  _input:
    description: One element of C(target_groups) from C(community.aws.elb_target_group_info).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Wait until every registered target is healthy
  community.aws.elb_target_group_info:
    target_group_arns: ["{{ arn }}"]
    collect_targets_health: true
  register: found
  until: (found.target_groups | first | target_readiness).ready
  retries: 60
  delay: 5
"""

RETURN = r"""
_value:
  description: C(ready) (bool), C(healthy) (target ids), C(not_healthy) (id to state and reason) and C(reason) (text).
  type: dict
"""

LEAVING_STATES = {"draining", "unused"}


def target_readiness(target_group: Mapping) -> dict:
    if not isinstance(target_group, Mapping):
        raise AnsibleFilterError(f"target_readiness expects a target group (a dict), got {type(target_group).__name__}")
    descriptions = target_group.get("targets_health_description")
    if descriptions is None:
        raise AnsibleFilterError("target_readiness needs targets_health_description: use collect_targets_health=true")
    healthy: list[str] = []
    not_healthy: dict[str, str] = {}
    for description in descriptions:
        target_id = description.get("target", {}).get("id", "?")
        health = description.get("target_health", {})
        state = health.get("state", "unknown")
        if state in LEAVING_STATES:
            continue
        if state == "healthy":
            healthy.append(target_id)
        else:
            not_healthy[target_id] = f"{state} ({health['reason']})" if health.get("reason") else state
    if not healthy and not not_healthy:
        reason = "no target is registered"
    elif not_healthy:
        listed = ", ".join(f"{target_id} {state}" for target_id, state in sorted(not_healthy.items()))
        reason = f"{len(not_healthy)} of {len(healthy) + len(not_healthy)} targets not healthy: {listed}"
    else:
        reason = f"all {len(healthy)} targets healthy"
    return {
        "ready": bool(healthy) and not not_healthy,
        "healthy": sorted(healthy),
        "not_healthy": not_healthy,
        "reason": reason,
    }


class FilterModule:
    def filters(self) -> dict:
        return {"target_readiness": target_readiness}
