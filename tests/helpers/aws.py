"""boto3 against the local AWS endpoint used by the integration tests, and a stack census."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import boto3
import botocore.exceptions

from local_aws.identities import ADMIN, Identity

REGION = "eu-west-1"


@dataclass(frozen=True)
class LocalAws:
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, service: str, identity: Identity = ADMIN):
        """A client signing as `identity`: by default the emulator's administrator, which the
        tests use to read what the playbooks built (they sign as the deployer)."""
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=identity.access_key,
            aws_secret_access_key=identity.secret_key,
        )


@dataclass
class StackCensus:
    """Everything on the endpoint that belongs to one stack, found through each service's API."""

    aws: LocalAws
    stack: str

    def _tags(self, pairs: list[dict]) -> dict[str, str]:
        return {pair["Key"]: pair["Value"] for pair in pairs}

    def _is_ours(self, tags: dict[str, str]) -> bool:
        return tags.get("Stack") == self.stack

    @cached_property
    def ec2_resources(self) -> list[str]:
        """EC2 resources carrying the stack tag, from each type's own describe call.

        (moto keeps DescribeTags records of deleted resources, AWS does not; the typed calls
        answer the same on both. Deleted NAT gateways and terminated instances are gone.)
        """
        ec2 = self.aws.client("ec2")
        tag = [{"Name": "tag:Stack", "Values": [self.stack]}]
        found = [v["VpcId"] for v in ec2.describe_vpcs(Filters=tag)["Vpcs"]]
        found += [s["SubnetId"] for s in ec2.describe_subnets(Filters=tag)["Subnets"]]
        found += [g["InternetGatewayId"] for g in ec2.describe_internet_gateways(Filters=tag)["InternetGateways"]]
        # Selected by their own Tags: moto's DescribeNatGateways ignores tag filters.
        found += [
            n["NatGatewayId"]
            for n in ec2.describe_nat_gateways()["NatGateways"]
            if self._is_ours(self._tags(n.get("Tags", []))) and n["State"] not in ("deleted", "deleting")
        ]
        found += [r["RouteTableId"] for r in ec2.describe_route_tables(Filters=tag)["RouteTables"]]
        found += [g["GroupId"] for g in ec2.describe_security_groups(Filters=tag)["SecurityGroups"]]
        found += [t["LaunchTemplateId"] for t in ec2.describe_launch_templates(Filters=tag)["LaunchTemplates"]]
        found += [a["AllocationId"] for a in ec2.describe_addresses(Filters=tag)["Addresses"]]
        found += [
            instance["InstanceId"]
            for reservation in ec2.describe_instances(Filters=tag)["Reservations"]
            for instance in reservation["Instances"]
            if instance["State"]["Name"] not in ("terminated", "shutting-down")
        ]
        return sorted(found)

    def everything(self) -> dict[str, list[str]]:
        elb, asg, s3 = self.aws.client("elbv2"), self.aws.client("autoscaling"), self.aws.client("s3")
        ddb, cf, iam = self.aws.client("dynamodb"), self.aws.client("cloudfront"), self.aws.client("iam")
        ssm, cw = self.aws.client("ssm"), self.aws.client("cloudwatch")

        found: dict[str, list[str]] = {"ec2": self.ec2_resources}
        arns = [lb["LoadBalancerArn"] for lb in elb.describe_load_balancers()["LoadBalancers"]]
        arns += [tg["TargetGroupArn"] for tg in elb.describe_target_groups()["TargetGroups"]]
        described = elb.describe_tags(ResourceArns=arns)["TagDescriptions"] if arns else []
        found["elbv2"] = [d["ResourceArn"] for d in described if self._is_ours(self._tags(d["Tags"]))]
        found["autoscaling"] = [
            g["AutoScalingGroupName"]
            for g in asg.describe_auto_scaling_groups()["AutoScalingGroups"]
            if self._is_ours(self._tags(g["Tags"]))
        ]
        found["s3"] = []
        for bucket in s3.list_buckets()["Buckets"]:
            try:
                tags = self._tags(s3.get_bucket_tagging(Bucket=bucket["Name"])["TagSet"])
            except botocore.exceptions.ClientError:
                tags = {}
            if self._is_ours(tags):
                found["s3"].append(bucket["Name"])
        found["dynamodb"] = []
        for name in ddb.list_tables()["TableNames"]:
            arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
            if self._is_ours(self._tags(ddb.list_tags_of_resource(ResourceArn=arn).get("Tags", []))):
                found["dynamodb"].append(name)
        found["cloudfront"] = []
        for summary in cf.list_distributions()["DistributionList"].get("Items", []):
            if self._is_ours(self._tags(cf.list_tags_for_resource(Resource=summary["ARN"])["Tags"].get("Items", []))):
                found["cloudfront"].append(summary["Id"])
        found["cloudfront_oac"] = [
            item["Name"]
            for item in cf.list_origin_access_controls()["OriginAccessControlList"].get("Items", [])
            if item["Name"].startswith(f"{self.stack}-")
        ]
        found["iam"] = [
            role["RoleName"]
            for role in iam.list_roles()["Roles"]
            if self._is_ours(self._tags(iam.list_role_tags(RoleName=role["RoleName"])["Tags"]))
        ]
        found["iam"] += [
            profile["InstanceProfileName"]
            for profile in iam.list_instance_profiles()["InstanceProfiles"]
            if profile["InstanceProfileName"].startswith(f"{self.stack}-")
        ]
        found["ssm"] = [
            p["Name"] for p in ssm.describe_parameters()["Parameters"] if p["Name"].startswith(f"/{self.stack}/")
        ]
        found["cloudwatch"] = [
            a["AlarmName"] for a in cw.describe_alarms(AlarmNamePrefix=f"{self.stack}-")["MetricAlarms"]
        ]
        return {service: names for service, names in found.items() if names}
