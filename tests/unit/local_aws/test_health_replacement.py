"""The group's ELB health check as the local data plane applies it (health_replacement.py)."""

from __future__ import annotations

import json

from local_aws.dataplane import health_replacement
from local_aws.dataplane.stack import Instance, Stack

from .conftest import client


def stack_of(*states: tuple[str, str], check_type: str = "ELB", grace: int = 180) -> Stack:
    instances = tuple(Instance(instance_id, f"10.0.0.{n}", "running", lifecycle)
                      for n, (instance_id, lifecycle) in enumerate(states, start=10))  # fmt: skip
    return Stack(name="unit", group_name="unit-web", health_check_type=check_type,
                 health_check_grace_period=grace, instances=instances)  # fmt: skip


def test_in_service_moments_are_kept_across_passes_and_start_only_in_service(tmp_path):
    path = tmp_path / "in-service.json"
    first = health_replacement.in_service_since(path, stack_of(("i-a", "InService"), ("i-b", "Pending:Wait")), 100.0)
    assert first == {"i-a": 100.0}
    later = health_replacement.in_service_since(path, stack_of(("i-a", "InService"), ("i-b", "InService")), 160.0)
    assert later == {"i-a": 100.0, "i-b": 160.0}, "i-a keeps its moment; i-b starts when it came into service"
    gone = health_replacement.in_service_since(path, stack_of(("i-b", "InService")), 170.0)
    assert gone == {"i-b": 160.0}
    assert json.loads(path.read_text()) == gone


def test_only_unhealthy_targets_past_the_grace_period_are_due():
    stack = stack_of(("i-a", "InService"), ("i-b", "InService"), ("i-c", "InService"), ("i-d", "Pending:Wait"))
    since = {"i-a": 0.0, "i-b": 0.0, "i-c": 150.0}
    health = {"i-a": "unhealthy", "i-b": "healthy", "i-c": "unhealthy", "i-d": "unhealthy"}
    due = health_replacement.due_for_replacement(stack, health, since, now=200.0)
    assert [item.instance_id for item in due] == ["i-a"], "i-c is within its grace period, i-d not in service"
    assert "grace period 180s" in due[0].reason
    assert health_replacement.due_for_replacement(stack, {"i-a": "initial"}, since, now=200.0) == []


def test_an_ec2_health_check_group_ignores_the_load_balancer():
    stack = stack_of(("i-a", "InService"), check_type="EC2")
    assert health_replacement.due_for_replacement(stack, {"i-a": "unhealthy"}, {"i-a": 0.0}, now=1000.0) == []


def test_a_replacement_terminates_the_instance_and_the_group_launches_another(aws, tmp_path):
    client("ec2").create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"ImageId": "ami-12345678"})
    autoscaling = client("autoscaling")
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="web", LaunchTemplate={"LaunchTemplateName": "web"}, MinSize=2, MaxSize=4,
        AvailabilityZones=["eu-west-1a"], HealthCheckType="ELB", HealthCheckGracePeriod=60,
    )  # fmt: skip

    def instances() -> set[str]:
        group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
        return {item["InstanceId"] for item in group["Instances"]}

    before = instances()
    victim = sorted(before)[0]
    log = tmp_path / "replacements.jsonl"
    health_replacement.replace(autoscaling, health_replacement.Replacement(victim, 75.0, "unhealthy"), log, 1.0)
    after = instances()
    assert victim not in after and len(after) == 2 and before - {victim} <= after
    (entry,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert entry["instance"] == victim and entry["in_service_seconds"] == 75.0
