#!/usr/bin/python
# Copyright: image-delivery contributors
# Apache License 2.0

from __future__ import annotations

DOCUMENTATION = r"""
---
module: autoscaling_standby
short_description: Take Auto Scaling instances out of service through standby and bring them back
description:
  - O(state=standby) moves InService instances into the group's C(Standby) with the desired capacity
    decremented, so the group neither launches replacements nor health-checks them, and the load
    balancer drains and deregisters them. It waits until they are in C(Standby) (after the target
    group's deregistration delay).
  - AWS refuses a decrement below the group's MinSize. When the batch needs it, MinSize is lowered
    for the batch and its value kept in the group tag C(image-delivery:min-size-before-standby).
  - O(state=in_service) brings C(Standby) instances back. They return through C(Pending), so a launch
    lifecycle hook holds them in C(Pending:Wait); their action is completed (C(CONTINUE)) here, and
    the module waits until they are C(InService) again (instances that were not in standby are left
    as they are, whatever their state). Once no instance of the group is left in
    standby, MinSize is restored from the tag and the tag removed.
  - amazon.aws.autoscaling_instance moves instances into standby too, but neither keeps the group's
    MinSize rule nor completes the launch hook an instance meets on its way back.
author: Image Delivery Contributors (@image-delivery)
options:
  group_name:
    description: The Auto Scaling group.
    type: str
    required: true
  instance_ids:
    description: The instances to move (each must belong to the group).
    type: list
    elements: str
    required: true
  state:
    description: Where the instances should be.
    type: str
    choices: [standby, in_service]
    required: true
  wait_timeout:
    description: Seconds to wait for the instances to reach O(state); the task fails past it.
    type: int
    default: 600
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Take the batch out of service
  autoscaling_standby:
    group_name: "{{ group }}"
    instance_ids: "{{ ansible_play_batch }}"
    state: standby
  run_once: true
  delegate_to: localhost

- name: Put the batch back in service
  autoscaling_standby:
    group_name: "{{ group }}"
    instance_ids: "{{ ansible_play_batch }}"
    state: in_service
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
moved:
  description: The instances this task moved (none when they already were where O(state) asks).
  returned: always
  type: list
  elements: str
min_size:
  description: The group's MinSize after the task.
  returned: always
  type: int
lifecycle_actions_completed:
  description: Instances whose launch lifecycle action was completed on their way back to service.
  returned: always
  type: list
  elements: str
"""

import time

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.image_delivery.stack.plugins.module_utils.standby_plan import (
    MIN_SIZE_TAG,
    GroupView,
    StandbyPlanError,
    plan_enter,
    plan_exit,
)

POLL_SECONDS = 2
LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"


def describe_group(client, name: str) -> GroupView:
    groups = client.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    if not groups:
        raise StandbyPlanError(f"no Auto Scaling group {name}")
    return GroupView.from_description(groups[0])


def wait_for_states(client, module, group_name: str, instance_ids: list[str], wanted: str, on_poll=None) -> None:
    """Poll until every instance is in ``wanted``; fail the task naming the others after wait_timeout."""
    deadline = time.monotonic() + module.params["wait_timeout"]
    while True:
        states = describe_group(client, group_name).lifecycle_states
        behind = {i: states.get(i, "gone") for i in instance_ids if states.get(i) != wanted}
        if not behind:
            return
        if on_poll is not None:
            on_poll(behind)
        if time.monotonic() >= deadline:
            module.fail_json(
                msg=f"instances not {wanted} after {module.params['wait_timeout']} s in group {group_name}: "
                + ", ".join(f"{i} ({state})" for i, state in sorted(behind.items()))
            )
        time.sleep(POLL_SECONDS)


def enter_standby(client, module, group: GroupView) -> dict:
    plan = plan_enter(group, module.params["instance_ids"])
    if module.check_mode:
        return dict(changed=plan.changes, moved=plan.enter, min_size=plan.lower_min_size_to or group.min_size)
    if plan.record_min_size is not None:
        client.create_or_update_tags(
            Tags=[{"ResourceId": group.name, "ResourceType": "auto-scaling-group", "Key": MIN_SIZE_TAG,
                   "Value": str(plan.record_min_size), "PropagateAtLaunch": False}]
        )  # fmt: skip
    if plan.lower_min_size_to is not None:
        client.update_auto_scaling_group(AutoScalingGroupName=group.name, MinSize=plan.lower_min_size_to)
    if plan.enter:
        client.enter_standby(
            AutoScalingGroupName=group.name, InstanceIds=plan.enter, ShouldDecrementDesiredCapacity=True
        )
    wait_for_states(client, module, group.name, module.params["instance_ids"], "Standby")
    return dict(changed=plan.changes, moved=plan.enter, min_size=plan.lower_min_size_to or group.min_size)


def launch_hook_names(client, group_name: str) -> list[str]:
    hooks = client.describe_lifecycle_hooks(AutoScalingGroupName=group_name)["LifecycleHooks"]
    return [hook["LifecycleHookName"] for hook in hooks if hook["LifecycleTransition"] == LAUNCHING]


def return_to_service(client, module, group: GroupView) -> dict:
    plan = plan_exit(group, module.params["instance_ids"])
    result = dict(changed=plan.changes, moved=plan.leave, min_size=plan.restore_min_size_to or group.min_size)
    if module.check_mode:
        return result
    if plan.leave:
        # Instances still draining (EnteringStandby) can only leave once they are in Standby.
        wait_for_states(client, module, group.name, plan.leave, "Standby")
        client.exit_standby(AutoScalingGroupName=group.name, InstanceIds=plan.leave)
    hooks = launch_hook_names(client, group.name) if plan.leave else []
    completed: list[str] = []

    def complete_held(behind: dict) -> None:
        for instance_id, state in behind.items():
            if state != "Pending:Wait" or instance_id in completed or instance_id not in plan.leave:
                continue
            for hook in hooks:
                try:
                    client.complete_lifecycle_action(
                        AutoScalingGroupName=group.name, LifecycleHookName=hook, InstanceId=instance_id,
                        LifecycleActionResult="CONTINUE",
                    )  # fmt: skip
                except botocore.exceptions.ClientError as error:
                    if "No active Lifecycle Action" not in str(error):
                        raise
            completed.append(instance_id)

    wait_for_states(client, module, group.name, plan.leave, "InService", on_poll=complete_held)
    if plan.restore_min_size_to is not None:
        client.update_auto_scaling_group(AutoScalingGroupName=group.name, MinSize=plan.restore_min_size_to)
        client.delete_tags(Tags=[{"ResourceId": group.name, "ResourceType": "auto-scaling-group", "Key": MIN_SIZE_TAG}])
    result["lifecycle_actions_completed"] = sorted(completed)
    return result


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            group_name=dict(type="str", required=True),
            instance_ids=dict(type="list", elements="str", required=True),
            state=dict(type="str", choices=["standby", "in_service"], required=True),
            wait_timeout=dict(type="int", default=600),
        ),
        supports_check_mode=True,
    )
    client = module.client("autoscaling", retry_decorator=AWSRetry.jittered_backoff())
    try:
        group = describe_group(client, module.params["group_name"])
        if module.params["state"] == "standby":
            result = enter_standby(client, module, group)
        else:
            result = return_to_service(client, module, group)
    except StandbyPlanError as error:
        module.fail_json(msg=str(error))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg=f"Could not move instances of group {module.params['group_name']}")
    result.setdefault("lifecycle_actions_completed", [])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
