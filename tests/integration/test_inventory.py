"""The aws_ec2 inventory files find exactly the stack's instances on the local endpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import ansible
import pytest
import yaml

from tests.helpers.iam import DEPLOYER_ACCESS_KEY, DEPLOYER_SECRET_KEY
from tests.helpers.playbook import PROJECT_ROOT, run_playbook

BUILTIN_ROUTING = yaml.safe_load((Path(ansible.__file__).parent / "config" / "ansible_builtin_runtime.yml").read_text())

STACK = "it-inventory"
GROUP = f"{STACK}-web"


@pytest.fixture(scope="module")
def instances(local_aws) -> list[str]:
    """An Auto Scaling group of two instances for the stack, plus instances that must not show up."""
    ec2, autoscaling = local_aws.client("ec2"), local_aws.client("autoscaling")
    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.77.1.0/24", AvailabilityZone="eu-west-1b")["Subnet"]
    image = ec2.describe_images(Owners=["136693071363"])["Images"][0]["ImageId"]
    ec2.create_launch_template(
        LaunchTemplateName=GROUP, LaunchTemplateData={"ImageId": image, "InstanceType": "t3.micro"}
    )
    tags = [{"Key": "Project", "Value": "image-delivery"}, {"Key": "Stack", "Value": STACK}]
    on_group = {"PropagateAtLaunch": True, "ResourceId": GROUP, "ResourceType": "auto-scaling-group"}
    group_tags = [{**t, **on_group} for t in tags]
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=GROUP,
        LaunchTemplate={"LaunchTemplateName": GROUP},
        MinSize=2,
        MaxSize=2,
        DesiredCapacity=2,
        VPCZoneIdentifier=subnet["SubnetId"],
        Tags=group_tags,
    )
    other = [{"Key": "Project", "Value": "image-delivery"}, {"Key": "Stack", "Value": "another-stack"}]
    ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet["SubnetId"],
                      TagSpecifications=[{"ResourceType": "instance", "Tags": other}])  # fmt: skip
    stopped = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet["SubnetId"],
                                TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])  # fmt: skip
    ec2.terminate_instances(InstanceIds=[stopped["Instances"][0]["InstanceId"]])
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])["AutoScalingGroups"][0]
    return sorted(i["InstanceId"] for i in group["Instances"])


def unwrapped(value):
    """ansible-inventory --list marks templated values as {"__ansible_unsafe": value}."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: unwrapped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrapped(item) for item in value]
    return value


def inventory(path: str, local_aws, **environment: str) -> dict:
    env = {
        **os.environ,
        "IMAGE_DELIVERY_ENDPOINT_PORT": str(local_aws.port),
        "IMAGE_DELIVERY_STACK": STACK,
        "IMAGE_DELIVERY_REGION": "eu-west-1",
        **environment,
    }
    command = [str(Path(sys.executable).with_name("ansible-inventory")), "-i", path, "--list", "--flush-cache"]
    listed = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=True)
    return unwrapped(json.loads(listed.stdout))


def test_the_local_inventory_lists_the_group_by_instance_id(instances, local_aws):
    found = inventory("inventory/local.aws_ec2.yml", local_aws)
    hostvars = found["_meta"]["hostvars"]
    assert sorted(hostvars) == instances
    assert sorted(found["asg_it_inventory_web"]["hosts"]) == instances
    assert sorted(found["az_eu_west_1b"]["hosts"]) == instances
    for instance_id, variables in hostvars.items():
        # The short name: Ansible routes it to containers.podman.podman, and the mitogen_linear
        # strategy carries it as mitogen_podman.
        assert variables["ansible_connection"] == "podman"
        assert BUILTIN_ROUTING["plugin_routing"]["connection"]["podman"] == {"redirect": "containers.podman.podman"}
        assert variables["ansible_become"] is False
        assert variables["ansible_host"] == instance_id
        private = variables["instance_private_ip"].split(".")
        assert variables["instance_listen_address"] == "127." + ".".join(private[1:])


def test_the_aws_inventory_uses_ssm_and_the_same_selection(instances, local_aws):
    found = inventory(
        "inventory/aws.aws_ec2.yml",
        local_aws,
        AWS_URL=f"http://127.0.0.1:{local_aws.port}",
        AWS_ACCESS_KEY_ID=DEPLOYER_ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=DEPLOYER_SECRET_KEY,
    )
    hostvars = found["_meta"]["hostvars"]
    assert sorted(hostvars) == instances
    assert {v["ansible_connection"] for v in hostvars.values()} == {"amazon.aws.aws_ssm"}
    assert {v["ansible_aws_ssm_region"] for v in hostvars.values()} == {"eu-west-1"}
    account = local_aws.client("sts").get_caller_identity()["Account"]
    # The transfer bucket the storage role creates (test_stack.py checks it under the same name).
    assert {v["ansible_aws_ssm_bucket_name"] for v in hostvars.values()} == {f"{STACK}-ssm-transfer-{account}"}
    assert {v["ansible_aws_ssm_timeout"] for v in hostvars.values()} == {960}


def run_with_inventory_of(playbook: str, local_aws, inventory_stack: str):
    """A playbook for STACK whose aws_ec2 inventory reads another stack from the environment."""
    return run_playbook(
        playbook, "-i", "inventory/local.yml", "-i", "inventory/local.aws_ec2.yml",
        extra_vars={"stack_name": STACK, "local_endpoint_port": local_aws.port},
        environment={"IMAGE_DELIVERY_ENDPOINT_PORT": str(local_aws.port), "IMAGE_DELIVERY_STACK": inventory_stack},
        timeout=300,
    )  # fmt: skip


def test_an_inventory_reading_another_stack_fails_validation_naming_both(instances, local_aws):
    run = run_with_inventory_of("playbooks/validate.yml", local_aws, "another-stack")
    assert run.returncode != 0
    assert "reads stack 'another-stack'" in run.output
    assert f"IMAGE_DELIVERY_STACK={STACK}" in run.output


def test_the_release_fails_loudly_when_the_inventory_misses_the_groups_instances(instances, local_aws):
    run = run_with_inventory_of("playbooks/instances.yml", local_aws, "nobody-here")
    assert run.returncode != 0, run.tail(30)
    assert "Fail when the group has instances that the inventory did not find" in run.output
    assert f"has {len(instances)} running, in service or launching" in run.output
    assert all(instance in run.output for instance in instances)


def test_the_aws_target_fails_in_seconds_without_the_session_manager_plugin(instances, local_aws, tmp_path):
    """The aws_ssm connection needs AWS's session-manager-plugin on the controller (not installed here)."""
    run = run_playbook(
        "playbooks/validate.yml", "-i", "inventory/aws.yml", "-i", "inventory/aws.aws_ec2.yml",
        extra_vars={"stack_name": STACK},
        environment={"IMAGE_DELIVERY_STACK": STACK, "AWS_URL": f"http://127.0.0.1:{local_aws.port}",
                     "AWS_ACCESS_KEY_ID": DEPLOYER_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": DEPLOYER_SECRET_KEY,
                     "AWS_SESSION_MANAGER_PLUGIN": str(tmp_path / "no-such-plugin")},
        timeout=300,
    )  # fmt: skip
    assert run.returncode != 0
    assert "Fail when the Session Manager plugin is missing" in run.output
    assert "needs AWS's session-manager-plugin" in run.output
