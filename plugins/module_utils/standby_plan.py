# Copyright: image-delivery contributors
# Apache License 2.0
"""What moving instances into and out of an Auto Scaling group's standby takes (pure functions).

AWS's rules (EnterStandby / ExitStandby API reference):
- only InService instances enter standby; with the desired capacity decremented (so the group does
  not launch replacements) the capacity after the move must stay at or above MinSize;
- only Standby instances exit; the desired capacity goes back up and may not pass MaxSize.
A rolling release of a group at its minimum (2 instances, MinSize 2) therefore lowers MinSize for
the batch and restores it once no instance is left in standby. The size it had is kept in a tag on
the group, so a run that dies half-way is repaired by the next one (the compute role also sets
MinSize again on every run).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MIN_SIZE_TAG = "image-delivery:min-size-before-standby"
ENTERING_STATES = ("EnteringStandby",)
STANDBY_STATES = ("EnteringStandby", "Standby")


class StandbyPlanError(ValueError):
    """The instances cannot be moved as asked; the message names them and why."""


@dataclass(frozen=True)
class GroupView:
    """The part of describe_auto_scaling_groups' answer that standby decisions need."""

    name: str
    min_size: int
    max_size: int
    desired_capacity: int
    lifecycle_states: dict[str, str]
    recorded_min_size: int | None = None

    @classmethod
    def from_description(cls, group: dict) -> GroupView:
        tags = {tag["Key"]: tag["Value"] for tag in group.get("Tags", [])}
        recorded = tags.get(MIN_SIZE_TAG)
        return cls(
            name=group["AutoScalingGroupName"],
            min_size=int(group["MinSize"]),
            max_size=int(group["MaxSize"]),
            desired_capacity=int(group["DesiredCapacity"]),
            lifecycle_states={item["InstanceId"]: item["LifecycleState"] for item in group.get("Instances", [])},
            recorded_min_size=int(recorded) if recorded is not None and recorded.isdigit() else None,
        )


@dataclass(frozen=True)
class EnterPlan:
    enter: list[str] = field(default_factory=list)
    lower_min_size_to: int | None = None
    record_min_size: int | None = None

    @property
    def changes(self) -> bool:
        return bool(self.enter or self.lower_min_size_to is not None)


@dataclass(frozen=True)
class ExitPlan:
    leave: list[str] = field(default_factory=list)
    restore_min_size_to: int | None = None

    @property
    def changes(self) -> bool:
        return bool(self.leave or self.restore_min_size_to is not None)


def _members(group: GroupView, instance_ids: list[str]) -> None:
    strangers = sorted(set(instance_ids) - set(group.lifecycle_states))
    if strangers:
        raise StandbyPlanError(f"not in Auto Scaling group {group.name}: {', '.join(strangers)}")


def plan_enter(group: GroupView, instance_ids: list[str]) -> EnterPlan:
    """Which instances enter standby (desired capacity decremented) and whether MinSize must go down."""
    _members(group, instance_ids)
    unusable = sorted(
        f"{i} ({group.lifecycle_states[i]})"
        for i in instance_ids
        if group.lifecycle_states[i] not in ("InService", *STANDBY_STATES)
    )
    if unusable:
        raise StandbyPlanError(
            f"only InService instances can enter standby; in group {group.name}: {', '.join(unusable)}"
        )
    enter = sorted(i for i in instance_ids if group.lifecycle_states[i] == "InService")
    capacity_after = group.desired_capacity - len(enter)
    if not enter or capacity_after >= group.min_size:
        return EnterPlan(enter=enter)
    if capacity_after < 0:
        raise StandbyPlanError(f"group {group.name} has {group.desired_capacity} instances, not {len(enter)}")
    return EnterPlan(
        enter=enter,
        lower_min_size_to=capacity_after,
        record_min_size=group.min_size if group.recorded_min_size is None else None,
    )


def plan_exit(group: GroupView, instance_ids: list[str]) -> ExitPlan:
    """Which instances leave standby, and the MinSize to restore once none is left in standby."""
    _members(group, instance_ids)
    leave = sorted(i for i in instance_ids if group.lifecycle_states[i] in STANDBY_STATES)
    if group.desired_capacity + len(leave) > group.max_size:
        raise StandbyPlanError(
            f"group {group.name} is at {group.desired_capacity} of at most {group.max_size}: "
            f"{len(leave)} instances cannot come back from standby"
        )
    still_out = [i for i, state in group.lifecycle_states.items() if state in STANDBY_STATES and i not in instance_ids]
    restore = group.recorded_min_size if group.recorded_min_size is not None and not still_out else None
    return ExitPlan(leave=leave, restore_min_size_to=restore)
