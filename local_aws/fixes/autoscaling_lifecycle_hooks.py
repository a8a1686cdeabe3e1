"""Auto Scaling launch lifecycle hooks: a new instance waits in Pending:Wait until its action is completed.

Upstream gap (moto 5.2.5): PutLifecycleHook is stored but never applied. A new instance of a group
with an autoscaling:EC2_INSTANCE_LAUNCHING hook is InService at once and registered with the
group's target groups, and CompleteLifecycleAction and RecordLifecycleActionHeartbeat do not exist.
On AWS (Amazon EC2 Auto Scaling lifecycle hooks, user guide) the instance stays in Pending:Wait:
not registered with the target groups, its health check grace period not started, but counted in
the group's capacity. It leaves the state when
- CompleteLifecycleAction answers CONTINUE: InService, registered with the target groups;
- CompleteLifecycleAction answers ABANDON: terminated, and the group launches a replacement;
- the heartbeat timeout passes (RecordLifecycleActionHeartbeat restarts it): the hook's
  DefaultResult applies, as one of the two above.
A lenient endpoint hides the failure this guards against: instances that are replaced in a loop
because a health check judges them before their first boot is over.

The timeout is applied when the endpoint is asked about the group (every describe of groups or
instances; the local data plane asks every 2 s), not by a clock of its own.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from ._patching import Fix

LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"
WAITING = "Pending:Wait"
COUNTED_STATES = {"Pending", "Pending:Wait", "Pending:Proceed", "InService"}
RESULTS = {"CONTINUE", "ABANDON"}


@dataclass
class LaunchWait:
    """The pending action of one instance held by one launch hook."""

    hook_name: str
    token: str
    heartbeat_timeout: int
    default_result: str
    deadline: float

    def heartbeat(self, now: float) -> None:
        self.deadline = now + self.heartbeat_timeout


def launch_hooks(backend: Any, group_name: str) -> list[Any]:
    return [hook for hook in backend.describe_lifecycle_hooks(group_name) if hook.lifecycle_transition == LAUNCHING]


def hold_new_instances(backend: Any, group: Any, new_states: list[Any], now: float) -> None:
    """Put instances just launched into Pending:Wait when the group has a launch hook (the first)."""
    hooks = launch_hooks(backend, group.name)
    if not hooks:
        return
    hook = hooks[0]
    for state in new_states:
        state.lifecycle_state = WAITING
        state.launch_wait = LaunchWait(
            hook.name, str(uuid.uuid4()), int(hook.heartbeat_timeout), hook.default_result,
            now + int(hook.heartbeat_timeout),
        )  # fmt: skip


def find_wait(backend: Any, group_name: str, hook_name: str, instance_id: str | None, token: str | None) -> Any:
    """The Pending:Wait instance state the request names, or AWS's ValidationError."""
    from moto.autoscaling.exceptions import ValidationError

    group = backend.autoscaling_groups.get(group_name)
    if group is None:
        raise ValidationError(f"Group {group_name} not found")
    for state in group.instance_states:
        wait = getattr(state, "launch_wait", None)
        if state.lifecycle_state != WAITING or wait is None or wait.hook_name != hook_name:
            continue
        if (instance_id and state.instance.id == instance_id) or (token and wait.token == token):
            return state
    named = f"instance ID {instance_id}" if instance_id else f"token {token}"
    raise ValidationError(f"No active Lifecycle Action found with {named}")


def finish(backend: Any, state: Any, result: str) -> None:
    """CONTINUE: in service and registered with the target groups; ABANDON: terminated and replaced."""
    state.launch_wait = None
    group = state.auto_scaling_group
    if result == "CONTINUE":
        state.lifecycle_state = "InService"
        backend.update_attached_target_groups(group.name)
        return
    state.lifecycle_state = "Terminating"
    backend.terminate_instance(state.instance.id, should_decrement=False)


def expire_waits(backend: Any, now: float) -> None:
    """Apply the default result of every action whose heartbeat timeout passed."""
    for group in list(backend.autoscaling_groups.values()):
        for state in list(group.instance_states):
            wait = getattr(state, "launch_wait", None)
            if state.lifecycle_state == WAITING and wait is not None and now >= wait.deadline:
                finish(backend, state, wait.default_result)


def _patches() -> list[tuple[Any, str, Any]]:
    from moto.autoscaling.exceptions import ValidationError
    from moto.autoscaling.models import AutoScalingBackend, FakeAutoScalingGroup
    from moto.autoscaling.responses import AutoScalingResponse
    from moto.core.responses import EmptyResult

    original_replace = FakeAutoScalingGroup.replace_autoscaling_group_instances
    original_describe_groups = AutoScalingBackend.describe_auto_scaling_groups
    original_describe_instances = AutoScalingBackend.describe_auto_scaling_instances

    def active_instances(self: FakeAutoScalingGroup) -> list[Any]:
        # Capacity counts instances on their way in, as on AWS (moto: InService only, so an
        # instance held in Pending:Wait would make every capacity change launch another one).
        return [state for state in self.instance_states if state.lifecycle_state in COUNTED_STATES]

    def replace_autoscaling_group_instances(self: FakeAutoScalingGroup, count_needed: int, tags: dict) -> None:
        before = len(self.instance_states)
        original_replace(self, count_needed, tags)
        hold_new_instances(self.autoscaling_backend, self, self.instance_states[before:], time.time())

    def update_attached_target_groups(self: AutoScalingBackend, group_name: str) -> None:
        # Only instances in service are registered (moto: every instance of the group).
        group = self.autoscaling_groups[group_name]
        if not group.target_group_arns:
            return
        in_service = [state.instance.id for state in group.instance_states if state.lifecycle_state == "InService"]
        if not in_service:
            return
        for target_group in self.elbv2_backend.describe_target_groups(
            target_group_arns=group.target_group_arns, load_balancer_arn=None, names=None
        ):
            self.elbv2_backend.register_targets(
                target_group.arn, [{"Id": i, "Port": target_group.port} for i in in_service]
            )

    def describe_auto_scaling_groups(self: AutoScalingBackend, *args: Any, **kwargs: Any) -> Any:
        expire_waits(self, time.time())
        return original_describe_groups(self, *args, **kwargs)

    def describe_auto_scaling_instances(self: AutoScalingBackend, *args: Any, **kwargs: Any) -> Any:
        expire_waits(self, time.time())
        return original_describe_instances(self, *args, **kwargs)

    def complete_lifecycle_action(self: AutoScalingResponse) -> EmptyResult:
        result = self._get_param("LifecycleActionResult")
        if result not in RESULTS:
            raise ValidationError(f"LifecycleActionResult must be one of {sorted(RESULTS)}, not {result!r}")
        backend = self.autoscaling_backend
        expire_waits(backend, time.time())
        state = find_wait(
            backend, self._get_param("AutoScalingGroupName"), self._get_param("LifecycleHookName"),
            self._get_param("InstanceId"), self._get_param("LifecycleActionToken"),
        )  # fmt: skip
        finish(backend, state, result)
        return EmptyResult()

    def record_lifecycle_action_heartbeat(self: AutoScalingResponse) -> EmptyResult:
        backend = self.autoscaling_backend
        now = time.time()
        expire_waits(backend, now)
        state = find_wait(
            backend, self._get_param("AutoScalingGroupName"), self._get_param("LifecycleHookName"),
            self._get_param("InstanceId"), self._get_param("LifecycleActionToken"),
        )  # fmt: skip
        state.launch_wait.heartbeat(now)
        return EmptyResult()

    return [
        (FakeAutoScalingGroup, "active_instances", active_instances),
        (FakeAutoScalingGroup, "replace_autoscaling_group_instances", replace_autoscaling_group_instances),
        (AutoScalingBackend, "update_attached_target_groups", update_attached_target_groups),
        (AutoScalingBackend, "describe_auto_scaling_groups", describe_auto_scaling_groups),
        (AutoScalingBackend, "describe_auto_scaling_instances", describe_auto_scaling_instances),
        (AutoScalingResponse, "complete_lifecycle_action", complete_lifecycle_action),
        (AutoScalingResponse, "record_lifecycle_action_heartbeat", record_lifecycle_action_heartbeat),
    ]


FIX = Fix(
    name="autoscaling-lifecycle-hooks",
    upstream_gap="launch lifecycle hooks are stored but never hold an instance; CompleteLifecycleAction is missing",
    patches=_patches,
)
