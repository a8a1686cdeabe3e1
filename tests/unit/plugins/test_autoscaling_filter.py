"""autoscaling_group_drift: a group described by AWS (moto here) against autoscaling_group options."""

from __future__ import annotations

import boto3
import pytest
from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.image_delivery.stack.plugins.filter.autoscaling_group_drift import (
    FilterModule,
    autoscaling_group_drift,
)
from moto import mock_aws

REGION = "eu-west-1"
WANTED = {
    "launch_template": {"launch_template_name": "web", "version": "$Default"},
    "min_size": 2,
    "max_size": 4,
    "health_check_type": "ELB",
    "health_check_period": 180,
    "default_cooldown": 300,
    "termination_policies": ["OldestLaunchTemplate", "Default"],
    "metrics_collection": True,
    "metrics_granularity": "1Minute",
    "tags": [{"Stack": "unit", "propagate_at_launch": True}, {"Name": "unit-web", "propagate_at_launch": True}],
}


@pytest.fixture
def described(monkeypatch) -> dict:
    """The group as amazon.aws.autoscaling_group_info returns it (snake_case of the describe)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unit-test-access-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit-test-secret-key")
    with mock_aws():
        ec2, autoscaling = boto3.client("ec2", region_name=REGION), boto3.client("autoscaling", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{n}.0/24")["Subnet"]["SubnetId"] for n in (1, 2)]
        ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"ImageId": "ami-12345678"})
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName="unit-web", LaunchTemplate={"LaunchTemplateName": "web", "Version": "$Default"},
            MinSize=2, MaxSize=4, DesiredCapacity=2, VPCZoneIdentifier=",".join(subnets), HealthCheckType="ELB",
            HealthCheckGracePeriod=180, DefaultCooldown=300, TerminationPolicies=["OldestLaunchTemplate", "Default"],
            Tags=[{"Key": key, "Value": value, "PropagateAtLaunch": True} for key, value in
                  {"Stack": "unit", "Name": "unit-web"}.items()],
        )  # fmt: skip
        # As amazon.aws.autoscaling_group calls it: its default metrics_list, named.
        metrics = ["GroupMinSize", "GroupMaxSize", "GroupDesiredCapacity", "GroupInServiceInstances"]
        autoscaling.enable_metrics_collection(AutoScalingGroupName="unit-web", Granularity="1Minute", Metrics=metrics)
        group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["unit-web"])["AutoScalingGroups"][0]
        return {**camel_dict_to_snake_dict(group), "wanted_subnets": subnets}


def test_a_group_as_wanted_has_no_drift(described):
    wanted = {**WANTED, "vpc_zone_identifier": list(reversed(described["wanted_subnets"]))}
    assert autoscaling_group_drift(described, wanted) == []


def test_an_omitted_desired_capacity_is_not_compared(described):
    assert autoscaling_group_drift(described, {**WANTED, "desired_capacity": None}) == []
    assert autoscaling_group_drift(described, {**WANTED, "desired_capacity": "3"}) == ["desired_capacity: 2 -> 3"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"min_size": "3"}, "min_size: 2 -> 3"),
        ({"health_check_period": 300}, "health_check_period: 180 -> 300"),
        ({"health_check_type": "EC2"}, "health_check_type: ELB -> EC2"),
        ({"launch_template": {"launch_template_name": "other", "version": "$Default"}},
         "launch_template.launch_template_name: web -> other"),
        ({"termination_policies": ["Default", "OldestLaunchTemplate"]}, "termination_policies:"),
        ({"metrics_collection": False}, "metrics_collection: True -> False"),
        ({"tags": [{"Stack": "unit", "propagate_at_launch": True}]}, "tag Name: ('unit-web', True) -> None"),
        ({"tags": [{"Stack": "unit", "propagate_at_launch": False}, {"Name": "unit-web"}]}, "tag Stack:"),
        ({"vpc_zone_identifier": ["subnet-other"]}, "vpc_zone_identifier:"),
        ({"target_group_arns": ["arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/1"]},
         "target_group_arns: [] ->"),
    ],
)  # fmt: skip
def test_each_differing_setting_is_named(described, change, expected):
    drift = autoscaling_group_drift(described, {**WANTED, **change})
    assert len(drift) == 1 and drift[0].startswith(expected), drift


def test_a_missing_group_drifts():
    assert autoscaling_group_drift({}, WANTED) == ["the group does not exist"]


@pytest.mark.parametrize(("current", "wanted"), [({"min_size": 1}, "not a mapping"), ("a string", WANTED),
                                                ({"min_size": 1}, {"min_size": "two"})])  # fmt: skip
def test_bad_input_is_a_filter_error(current, wanted):
    with pytest.raises(AnsibleFilterError, match="autoscaling_group_drift"):
        autoscaling_group_drift(current, wanted)


def test_the_filter_is_registered():
    assert FilterModule().filters()["autoscaling_group_drift"] is autoscaling_group_drift
