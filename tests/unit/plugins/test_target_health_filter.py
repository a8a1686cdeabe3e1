"""The target_readiness filter: ready only when every registered target passed its health check."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.image_delivery.stack.plugins.filter.target_readiness import FilterModule, target_readiness


def group(*targets: tuple[str, str, str | None]) -> dict:
    return {
        "targets_health_description": [
            {"target": {"id": target_id, "port": 80}, "target_health": {"state": state, "reason": reason}}
            for target_id, state, reason in targets
        ]
    }


def test_every_registered_target_healthy_is_ready():
    readiness = target_readiness(group(("i-1", "healthy", None), ("i-2", "healthy", None)))
    assert readiness["ready"] is True
    assert readiness["healthy"] == ["i-1", "i-2"]
    assert readiness["reason"] == "all 2 targets healthy"


@pytest.mark.parametrize("state", ["initial", "unhealthy", "unavailable"])
def test_one_target_not_healthy_is_not_ready_and_named(state):
    readiness = target_readiness(group(("i-1", "healthy", None), ("i-2", state, "Target.FailedHealthChecks")))
    assert readiness["ready"] is False
    assert readiness["not_healthy"] == {"i-2": f"{state} (Target.FailedHealthChecks)"}
    assert "1 of 2 targets not healthy: i-2" in readiness["reason"]


def test_leaving_targets_do_not_count():
    leaving = ("i-2", "draining", "Target.DeregistrationInProgress")
    readiness = target_readiness(group(("i-1", "healthy", None), leaving))
    assert readiness["ready"] is True
    only_leaving = target_readiness(group(("i-2", "unused", "Target.NotRegistered")))
    assert only_leaving["ready"] is False
    assert only_leaving["reason"] == "no target is registered"


def test_no_target_is_not_ready():
    assert target_readiness(group())["ready"] is False


def test_bad_input_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match="collect_targets_health"):
        target_readiness({"target_group_arn": "arn:x"})
    with pytest.raises(AnsibleFilterError, match="expects a target group"):
        target_readiness(["not", "a", "group"])


def test_filter_is_registered():
    assert FilterModule().filters()["target_readiness"] is target_readiness
