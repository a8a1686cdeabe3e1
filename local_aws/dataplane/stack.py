"""Read what the local AWS endpoint records about one stack, found by its tags.

Nothing is looked up by a derived name: the group is the one tagged with the stack, its target
group and launch template come from the group, the listener rule from the target group's load
balancer, and the distribution is the one whose origin is that load balancer's DNS name.
"""

from __future__ import annotations

import base64
import gzip
import re
from dataclasses import dataclass, field
from typing import Any

from .edge import functions_used

# Instances whose container runs: Standby ones too (out of the target group, still part of the group).
ACTIVE_LIFECYCLE_STATES = {"Pending", "Pending:Wait", "Pending:Proceed", "InService", "EnteringStandby", "Standby"}
GZIP_MAGIC = b"\x1f\x8b"
HEADER_VALUE = re.compile(r"^[A-Za-z0-9._~+/=-]+$")


@dataclass(frozen=True)
class Instance:
    instance_id: str
    private_ip: str
    state: str
    lifecycle_state: str

    @property
    def listen_address(self) -> str:
        """An instance whose private address is 10.a.b.c listens on 127.a.b.c."""
        return "127." + self.private_ip.split(".", 1)[1]


@dataclass(frozen=True)
class HealthCheck:
    path: str = "/healthz"
    interval: int = 15
    timeout: int = 5
    healthy_threshold: int = 2
    unhealthy_threshold: int = 3
    matcher: str = "200"


@dataclass(frozen=True)
class OriginRule:
    """The listener rule that forwards only requests carrying the secret origin header."""

    header_name: str
    header_value: str

    def __post_init__(self) -> None:
        if not HEADER_VALUE.match(self.header_value):
            raise ValueError(f"the origin header value of {self.header_name} has characters the balancer cannot match")


@dataclass(frozen=True)
class Stack:
    name: str
    group_name: str = ""
    desired_capacity: int = 0
    health_check_type: str = "EC2"
    health_check_grace_period: int = 300
    instances: tuple[Instance, ...] = ()
    user_data: str = ""
    target_group_arn: str = ""
    target_port: int = 80
    health_check: HealthCheck = field(default_factory=HealthCheck)
    targets: tuple[str, ...] = ()
    deregistration_delay: int = 30
    idle_timeout: int = 60
    load_balancer_dns: str = ""
    origin_rule: OriginRule | None = None
    distribution_id: str = ""
    distribution_config: dict[str, Any] = field(default_factory=dict)
    function_code: dict[str, str] = field(default_factory=dict)  # associated function ARN -> LIVE code

    @property
    def exists(self) -> bool:
        return bool(self.group_name)

    def serving_targets(self) -> list[Instance]:
        """Registered targets whose instance is running (moto keeps terminated ones registered)."""
        by_id = {instance.instance_id: instance for instance in self.instances}
        return [by_id[target] for target in self.targets if target in by_id]


def tagged_with(tags: list[dict], project: str, stack: str) -> bool:
    values = {tag["Key"]: tag["Value"] for tag in tags}
    return values.get("Project") == project and values.get("Stack") == stack


def read_stack(clients: Any, stack: str, project: str = "image-delivery") -> Stack:
    """Everything the data plane needs about ``stack``; an empty Stack when it has no group."""
    groups = [
        group
        for page in clients.autoscaling.get_paginator("describe_auto_scaling_groups").paginate()
        for group in page["AutoScalingGroups"]
        if tagged_with(group.get("Tags", []), project, stack)
    ]
    if not groups:
        return Stack(name=stack)
    group = groups[0]
    instances = read_instances(clients, [item["InstanceId"] for item in group["Instances"]], group)
    target_group_arn = next(iter(group.get("TargetGroupARNs", [])), "")
    settings: dict[str, Any] = {}
    if target_group_arn:
        settings = read_target_group(clients, target_group_arn)
    return Stack(
        name=stack,
        group_name=group["AutoScalingGroupName"],
        desired_capacity=group["DesiredCapacity"],
        health_check_type=group.get("HealthCheckType", "EC2"),
        health_check_grace_period=int(group.get("HealthCheckGracePeriod") or 0),
        instances=instances,
        user_data=read_user_data(clients, group),
        target_group_arn=target_group_arn,
        **settings,
    )


def read_instances(clients: Any, instance_ids: list[str], group: dict) -> tuple[Instance, ...]:
    if not instance_ids:
        return ()
    lifecycle = {item["InstanceId"]: item["LifecycleState"] for item in group["Instances"]}
    reservations = clients.ec2.describe_instances(InstanceIds=instance_ids)["Reservations"]
    found = [
        Instance(
            item["InstanceId"], item.get("PrivateIpAddress", ""), item["State"]["Name"], lifecycle[item["InstanceId"]]
        )
        for reservation in reservations
        for item in reservation["Instances"]
    ]
    return tuple(
        sorted(
            (i for i in found if i.state in {"pending", "running"} and i.lifecycle_state in ACTIVE_LIFECYCLE_STATES),
            key=lambda i: i.instance_id,
        )
    )


def read_user_data(clients: Any, group: dict) -> str:
    template = group.get("LaunchTemplate") or {}
    name = template.get("LaunchTemplateName")
    if not name:
        return ""
    versions = clients.ec2.describe_launch_template_versions(
        LaunchTemplateName=name, Versions=[template.get("Version") or "$Default"]
    )["LaunchTemplateVersions"]
    encoded = versions[0]["LaunchTemplateData"].get("UserData", "") if versions else ""
    return user_data_text(encoded)


def user_data_text(encoded: str) -> str:
    """The script an instance runs from its user data: Base64 undone and, as cloud-init does,
    gzip-compressed data unpacked."""
    raw = base64.b64decode(encoded) if encoded else b""
    if raw[:2] == GZIP_MAGIC:
        raw = gzip.decompress(raw)
    return raw.decode()


def read_target_group(clients: Any, arn: str) -> dict[str, Any]:
    elb = clients.elbv2
    group = elb.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
    health = HealthCheck(
        path=group.get("HealthCheckPath", "/"),
        interval=int(group.get("HealthCheckIntervalSeconds", 30)),
        timeout=int(group.get("HealthCheckTimeoutSeconds", 5)),
        healthy_threshold=int(group.get("HealthyThresholdCount", 5)),
        unhealthy_threshold=int(group.get("UnhealthyThresholdCount", 2)),
        matcher=group.get("Matcher", {}).get("HttpCode", "200"),
    )
    attributes = {
        item["Key"]: item["Value"] for item in elb.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
    }
    targets = tuple(
        sorted(
            item["Target"]["Id"] for item in elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
        )
    )
    settings: dict[str, Any] = {
        "target_port": int(group.get("Port", 80)),
        "health_check": health,
        "targets": targets,
        "deregistration_delay": int(attributes.get("deregistration_delay.timeout_seconds", 300)),
    }
    balancer_arns = group.get("LoadBalancerArns", [])
    if balancer_arns:
        settings.update(read_load_balancer(clients, balancer_arns[0], arn))
    return settings


def read_load_balancer(clients: Any, balancer_arn: str, target_group_arn: str) -> dict[str, Any]:
    elb = clients.elbv2
    balancer = elb.describe_load_balancers(LoadBalancerArns=[balancer_arn])["LoadBalancers"][0]
    attributes = {
        item["Key"]: item["Value"]
        for item in elb.describe_load_balancer_attributes(LoadBalancerArn=balancer_arn)["Attributes"]
    }
    settings: dict[str, Any] = {
        "load_balancer_dns": balancer["DNSName"],
        "idle_timeout": int(attributes.get("idle_timeout.timeout_seconds", 60)),
    }
    for listener in elb.describe_listeners(LoadBalancerArn=balancer_arn)["Listeners"]:
        for rule in elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]:
            forwards = any(action.get("TargetGroupArn") == target_group_arn for action in rule.get("Actions", []))
            for condition in rule.get("Conditions", []):
                header = condition.get("HttpHeaderConfig")
                if forwards and condition.get("Field") == "http-header" and header and header.get("Values"):
                    settings["origin_rule"] = OriginRule(header["HttpHeaderName"], header["Values"][0])
    distribution = find_distribution(clients, balancer["DNSName"])
    if distribution:
        settings.update(distribution)
    return settings


def find_distribution(clients: Any, origin_domain: str) -> dict[str, Any]:
    cloudfront = clients.cloudfront
    items = cloudfront.list_distributions()["DistributionList"].get("Items", [])
    for summary in items:
        domains = [origin["DomainName"] for origin in summary["Origins"].get("Items", [])]
        if origin_domain in domains:
            config = cloudfront.get_distribution_config(Id=summary["Id"])["DistributionConfig"]
            code = {
                arn: cloudfront.get_function(Name=arn.rsplit("/", 1)[-1], Stage="LIVE")["FunctionCode"].read().decode()
                for arn in functions_used(config)
            }
            return {"distribution_id": summary["Id"], "distribution_config": config, "function_code": code}
    return {}
