"""Auto Scaling standby as AWS runs it: the group's rules, the load balancer, the launch hook.

Upstream gap (moto 5.2.5): EnterStandby and ExitStandby flip the lifecycle state and nothing else.
They accept any instance in any state, let the desired capacity fall below the minimum size or rise
above the maximum, leave the instance registered with the group's target groups (so it keeps taking
traffic while it is "out"), and bring it back InService at once. On AWS (Amazon EC2 Auto Scaling
user guide, "Temporarily remove instances from your Auto Scaling group"; API reference for
EnterStandby and ExitStandby):
- only InService instances enter standby, and only Standby ones exit (ValidationError otherwise);
- with ShouldDecrementDesiredCapacity the desired capacity after the move must stay at or above
  the group's minimum size; ExitStandby increments it and may not pass the maximum size;
- the instance is deregistered from the group's target groups and stays in EnteringStandby while
  the target drains (the target group's deregistration delay), then Standby;
- a returning instance goes through Pending, so a launch lifecycle hook holds it in Pending:Wait
  until its action is completed, then it is registered again and InService.
A lenient endpoint hides exactly the failures a rolling release through standby can have on AWS:
a refused EnterStandby at MinSize, an instance still serving while it is updated, one stuck in
Pending:Wait until its hook abandons (terminates) it.

Drains end when the endpoint is asked about groups or instances (the local data plane asks every
2 s), as the lifecycle hook fix does.
"""

from __future__ import annotations

import time
from typing import Any

from . import autoscaling_lifecycle_hooks as hooks
from ._patching import Fix

ENTERING = "EnteringStandby"
STANDBY = "Standby"
DEFAULT_DEREGISTRATION_DELAY = 300


def deregistration_delay(backend: Any, group: Any) -> int:
    """The longest deregistration delay among the group's target groups (AWS drains each)."""
    delays = [0]
    for arn in group.target_group_arns or []:
        target_group = backend.elbv2_backend.target_groups.get(arn)
        if target_group is not None:
            value = target_group.attributes.get("deregistration_delay.timeout_seconds", DEFAULT_DEREGISTRATION_DELAY)
            delays.append(int(value))
    return max(delays)


def states_named(group: Any, instance_ids: list[str]) -> list[Any]:
    """The group's instance states for instance_ids, or AWS's ValidationError naming a stranger."""
    from moto.autoscaling.exceptions import ValidationError

    by_id = {state.instance.id: state for state in group.instance_states}
    strangers = [instance_id for instance_id in instance_ids if instance_id not in by_id]
    if strangers:
        raise ValidationError(f"The instance {strangers[0]} is not part of Auto Scaling group {group.name}.")
    return [by_id[instance_id] for instance_id in instance_ids]


def check_enter(group: Any, states: list[Any], should_decrement: bool) -> None:
    from moto.autoscaling.exceptions import ValidationError

    for state in states:
        if state.lifecycle_state != "InService":
            raise ValidationError(f"The instance {state.instance.id} is not in InService.")
    if should_decrement and group.desired_capacity - len(states) < group.min_size:
        raise ValidationError(
            f"AutoScalingGroup {group.name} has min-size={group.min_size}, max-size={group.max_size}, and "
            f"desired-size={group.desired_capacity}. To place into standby {len(states)} instances, "
            "please update the AutoScalingGroup sizes appropriately."
        )


def check_exit(group: Any, states: list[Any]) -> None:
    from moto.autoscaling.exceptions import ValidationError

    for state in states:
        if state.lifecycle_state != STANDBY:
            raise ValidationError(f"The instance {state.instance.id} is not in Standby.")
    if group.desired_capacity + len(states) > group.max_size:
        raise ValidationError(
            f"AutoScalingGroup {group.name} has min-size={group.min_size}, max-size={group.max_size}, and "
            f"desired-size={group.desired_capacity}. To move {len(states)} instances out of standby, "
            "please update the AutoScalingGroup sizes appropriately."
        )


def deregister(backend: Any, group: Any, instance_ids: list[str]) -> None:
    for arn in group.target_group_arns or []:
        if arn in backend.elbv2_backend.target_groups:
            backend.elbv2_backend.deregister_targets(arn, [{"Id": instance_id} for instance_id in instance_ids])


def finish_drains(backend: Any, now: float) -> None:
    """EnteringStandby instances whose target has drained are in Standby."""
    for group in list(backend.autoscaling_groups.values()):
        for state in group.instance_states:
            if state.lifecycle_state == ENTERING and now >= getattr(state, "standby_at", 0):
                state.lifecycle_state = STANDBY


def _patches() -> list[tuple[Any, str, Any]]:
    from moto.autoscaling.models import AutoScalingBackend

    original_enter = AutoScalingBackend.enter_standby_instances
    original_exit = AutoScalingBackend.exit_standby_instances
    original_describe_groups = AutoScalingBackend.describe_auto_scaling_groups
    original_describe_instances = AutoScalingBackend.describe_auto_scaling_instances

    def enter_standby_instances(
        self: AutoScalingBackend, group_name: str, instance_ids: list[str], should_decrement: bool
    ) -> list[Any]:
        group = self.autoscaling_groups[group_name]
        states = states_named(group, instance_ids)
        check_enter(group, states, should_decrement)
        activities = original_enter(self, group_name, instance_ids, should_decrement)
        deregister(self, group, instance_ids)
        standby_at = time.time() + deregistration_delay(self, group)
        for state in states:
            state.lifecycle_state = ENTERING
            state.standby_at = standby_at
        return activities

    def exit_standby_instances(self: AutoScalingBackend, group_name: str, instance_ids: list[str]) -> list[Any]:
        group = self.autoscaling_groups[group_name]
        finish_drains(self, time.time())
        states = states_named(group, instance_ids)
        check_exit(group, states)
        activities = original_exit(self, group_name, instance_ids)
        if hooks.launch_hooks(self, group.name):
            # Back through Pending: the launch hook holds it until its action is completed.
            hooks.hold_new_instances(self, group, states, time.time())
            deregister(self, group, instance_ids)  # moto's capacity update registered them already
        else:
            self.update_attached_target_groups(group.name)
        return activities

    def describe_auto_scaling_groups(self: AutoScalingBackend, *args: Any, **kwargs: Any) -> Any:
        finish_drains(self, time.time())
        return original_describe_groups(self, *args, **kwargs)

    def describe_auto_scaling_instances(self: AutoScalingBackend, *args: Any, **kwargs: Any) -> Any:
        finish_drains(self, time.time())
        return original_describe_instances(self, *args, **kwargs)

    return [
        (AutoScalingBackend, "enter_standby_instances", enter_standby_instances),
        (AutoScalingBackend, "exit_standby_instances", exit_standby_instances),
        (AutoScalingBackend, "describe_auto_scaling_groups", describe_auto_scaling_groups),
        (AutoScalingBackend, "describe_auto_scaling_instances", describe_auto_scaling_instances),
    ]


FIX = Fix(
    name="autoscaling-standby",
    upstream_gap=(
        "EnterStandby/ExitStandby ignore the instance's state and the group's sizes, keep the target "
        "registered, and skip the drain and the launch hook"
    ),
    patches=_patches,
)
