# Copyright: image-delivery contributors
# Apache License 2.0
"""What of one stack exists, found through each service's own describe calls.

Used after a teardown (playbooks/smoke.yml) to list anything left. It asks only what the deployer
policy (docs/iam/deployer-policy.json) grants: EC2 and load balancer describes filtered by the
stack's tag, the group's tags, the distributions' tags, alarms by the stack's name prefix, and the
bucket, table and edge function by the names the build reported. A terminated instance or a deleted NAT gateway
is gone (AWS lists them for a while after).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

GONE_EC2_STATES = {"terminated", "shutting-down", "deleted", "deleting"}
MISSING_CODES = {"404", "NoSuchBucket", "ResourceNotFoundException", "NoSuchDistribution", "NoSuchFunctionExists"}


def tags_of(pairs: list[dict]) -> dict[str, str]:
    return {pair["Key"]: pair["Value"] for pair in pairs or []}


def ec2_resources(ec2: Any, stack: str) -> list[str]:
    tag = [{"Name": "tag:Stack", "Values": [stack]}]
    found = [v["VpcId"] for v in ec2.describe_vpcs(Filters=tag)["Vpcs"]]
    found += [s["SubnetId"] for s in ec2.describe_subnets(Filters=tag)["Subnets"]]
    found += [g["InternetGatewayId"] for g in ec2.describe_internet_gateways(Filters=tag)["InternetGateways"]]
    found += [
        n["NatGatewayId"]
        for n in ec2.describe_nat_gateways(Filter=tag)["NatGateways"]
        # Also by their own tags: moto's DescribeNatGateways ignores the filter.
        if tags_of(n.get("Tags", [])).get("Stack") == stack and n["State"] not in GONE_EC2_STATES
    ]
    found += [r["RouteTableId"] for r in ec2.describe_route_tables(Filters=tag)["RouteTables"]]
    found += [g["GroupId"] for g in ec2.describe_security_groups(Filters=tag)["SecurityGroups"]]
    found += [t["LaunchTemplateId"] for t in ec2.describe_launch_templates(Filters=tag)["LaunchTemplates"]]
    found += [a["AllocationId"] for a in ec2.describe_addresses(Filters=tag)["Addresses"]]
    found += [
        i["InstanceId"]
        for reservation in ec2.describe_instances(Filters=tag)["Reservations"]
        for i in reservation["Instances"]
        if i["State"]["Name"] not in GONE_EC2_STATES
    ]
    return sorted(found)


def load_balancing_resources(elbv2: Any, stack: str) -> list[str]:
    arns = [lb["LoadBalancerArn"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]]
    arns += [tg["TargetGroupArn"] for tg in elbv2.describe_target_groups()["TargetGroups"]]
    found = []
    for start in range(0, len(arns), 20):  # DescribeTags takes at most 20 ARNs
        described = elbv2.describe_tags(ResourceArns=arns[start : start + 20])["TagDescriptions"]
        found += [d["ResourceArn"] for d in described if tags_of(d["Tags"]).get("Stack") == stack]
    return sorted(found)


def groups(autoscaling: Any, stack: str) -> list[str]:
    pages = autoscaling.get_paginator("describe_auto_scaling_groups").paginate()
    return sorted(
        g["AutoScalingGroupName"]
        for page in pages
        for g in page["AutoScalingGroups"]
        if tags_of(g.get("Tags", [])).get("Stack") == stack
    )


def distributions(cloudfront: Any, stack: str) -> list[str]:
    found = []
    for summary in cloudfront.list_distributions()["DistributionList"].get("Items", []):
        tags = cloudfront.list_tags_for_resource(Resource=summary["ARN"])["Tags"].get("Items", [])
        if tags_of(tags).get("Stack") == stack:
            found.append(summary["Id"])
    return sorted(found)


def alarms(cloudwatch: Any, stack: str) -> list[str]:
    return sorted(a["AlarmName"] for a in cloudwatch.describe_alarms(AlarmNamePrefix=f"{stack}-")["MetricAlarms"])


def existing(probe: Callable[[], Any], error_type: type[Exception]) -> bool:
    """Whether a describe of one named resource finds it (a not-found answer means gone)."""
    try:
        probe()
    except error_type as error:
        code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
        if code in MISSING_CODES:
            return False
        raise
    return True


def census(
    client: Callable[[str], Any],
    stack: str,
    buckets: list[str],
    tables: list[str],
    error_type: type[Exception],
    functions: list[str] = (),
) -> dict[str, list[str]]:
    """Everything of ``stack`` still there, by service; services with nothing are left out."""
    s3, dynamodb, cloudfront = client("s3"), client("dynamodb"), client("cloudfront")
    found = {
        "ec2": ec2_resources(client("ec2"), stack),
        "elbv2": load_balancing_resources(client("elbv2"), stack),
        "autoscaling": groups(client("autoscaling"), stack),
        "cloudfront": distributions(cloudfront, stack)
        + sorted(f for f in functions if f and existing(lambda f=f: cloudfront.describe_function(Name=f), error_type)),
        "cloudwatch": alarms(client("cloudwatch"), stack),
        "s3": sorted(b for b in buckets if b and existing(lambda b=b: s3.head_bucket(Bucket=b), error_type)),
        "dynamodb": sorted(
            t for t in tables if t and existing(lambda t=t: dynamodb.describe_table(TableName=t), error_type)
        ),
    }
    return {service: names for service, names in found.items() if names}
