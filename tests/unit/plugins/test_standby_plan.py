"""standby_plan: AWS's standby rules for a rolling release (MinSize, MaxSize, states, the kept MinSize)."""

from __future__ import annotations

import pytest
import yaml
from ansible_collections.image_delivery.stack.plugins.module_utils.standby_plan import (
    MIN_SIZE_TAG,
    GroupView,
    StandbyPlanError,
    plan_enter,
    plan_exit,
)

from tests.helpers.playbook import PROJECT_ROOT


def group(states: dict[str, str], min_size=2, max_size=4, desired=None, recorded=None) -> GroupView:
    tags = [{"Key": "Project", "Value": "image-delivery"}]
    if recorded is not None:
        tags.append({"Key": MIN_SIZE_TAG, "Value": str(recorded)})
    counted = [s for s in states.values() if s not in ("Standby", "EnteringStandby")]
    return GroupView.from_description(
        {
            "AutoScalingGroupName": "web",
            "MinSize": min_size,
            "MaxSize": max_size,
            "DesiredCapacity": len(counted) if desired is None else desired,
            "Instances": [{"InstanceId": i, "LifecycleState": s} for i, s in states.items()],
            "Tags": tags,
        }
    )


def test_a_group_at_its_minimum_lowers_min_size_for_the_batch_and_keeps_the_old_value():
    plan = plan_enter(group({"i-a": "InService", "i-b": "InService"}), ["i-a"])
    assert plan.enter == ["i-a"]
    assert plan.lower_min_size_to == 1, "AWS refuses a decrement below MinSize"
    assert plan.record_min_size == 2


def test_a_group_above_its_minimum_keeps_min_size():
    plan = plan_enter(group({f"i-{n}": "InService" for n in "abcd"}), ["i-a", "i-b"])
    assert plan.enter == ["i-a", "i-b"] and plan.lower_min_size_to is None and plan.record_min_size is None


def test_a_second_batch_keeps_the_first_recorded_min_size():
    """A run that died with a batch in standby left MinSize lowered and the tag: the tag stays the truth."""
    states = {"i-a": "Standby", "i-b": "InService"}
    plan = plan_enter(group(states, min_size=1, recorded=2), ["i-b"])
    assert plan.lower_min_size_to == 0 and plan.record_min_size is None
    both_out = {"i-a": "Standby", "i-b": "EnteringStandby"}
    assert plan_exit(group(both_out, min_size=0, recorded=2), ["i-a"]).restore_min_size_to is None, (
        "nothing restored while another instance is still out"
    )
    assert plan_exit(group(both_out, min_size=0, recorded=2), ["i-a", "i-b"]).restore_min_size_to == 2


def test_instances_already_in_standby_are_not_moved_again():
    plan = plan_enter(group({"i-a": "EnteringStandby", "i-b": "InService"}, min_size=1, recorded=2), ["i-a"])
    assert plan.enter == [] and not plan.changes


@pytest.mark.parametrize("state", ["Pending:Wait", "Pending", "Terminating"])
def test_only_in_service_instances_enter_standby(state):
    with pytest.raises(StandbyPlanError, match=rf"only InService .*i-a \({state}\)"):
        plan_enter(group({"i-a": state, "i-b": "InService"}), ["i-a"])


def test_instances_of_another_group_are_named():
    with pytest.raises(StandbyPlanError, match="not in Auto Scaling group web: i-z"):
        plan_enter(group({"i-a": "InService"}), ["i-z"])
    with pytest.raises(StandbyPlanError, match="not in Auto Scaling group web: i-z"):
        plan_exit(group({"i-a": "InService"}), ["i-z"])


def test_the_last_instances_back_restore_the_recorded_min_size():
    states = {"i-a": "Standby", "i-b": "InService"}
    plan = plan_exit(group(states, min_size=1, recorded=2), ["i-a"])
    assert plan.leave == ["i-a"] and plan.restore_min_size_to == 2


def test_instances_in_service_change_nothing_coming_back():
    plan = plan_exit(group({"i-a": "InService", "i-b": "InService"}), ["i-a", "i-b"])
    assert plan.leave == [] and plan.restore_min_size_to is None and not plan.changes


def test_coming_back_may_not_pass_the_maximum():
    states = {"i-a": "Standby", "i-b": "InService", "i-c": "InService"}
    with pytest.raises(StandbyPlanError, match="at 2 of at most 2: 1 instances cannot come back"):
        plan_exit(group(states, min_size=1, max_size=2), ["i-a"])


def test_the_compute_role_names_the_same_tag():
    role_vars = yaml.safe_load((PROJECT_ROOT / "roles/compute/vars/main.yml").read_text())
    assert role_vars["compute_standby_tag"] == MIN_SIZE_TAG
