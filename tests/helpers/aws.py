"""boto3 against the local AWS endpoint used by the integration tests, and a stack census."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import boto3
import botocore.exceptions
from ansible_collections.image_delivery.stack.plugins.module_utils import stack_census

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
    """Everything on the endpoint that belongs to one stack, found through each service's API: the
    smoke playbook's census (module_utils/stack_census.py) and, beyond what the deployer may read,
    buckets and tables by tag, IAM, SSM parameters and origin access controls."""

    aws: LocalAws
    stack: str

    def _is_ours(self, tags: dict[str, str]) -> bool:
        return tags.get("Stack") == self.stack

    @cached_property
    def ec2_resources(self) -> list[str]:
        """EC2 resources carrying the stack tag, from each type's own describe call (the smoke
        playbook's census: moto keeps DescribeTags records of deleted resources, AWS does not)."""
        return stack_census.ec2_resources(self.aws.client("ec2"), self.stack)

    def everything(self) -> dict[str, list[str]]:
        elb, asg, s3 = self.aws.client("elbv2"), self.aws.client("autoscaling"), self.aws.client("s3")
        ddb, cf, iam = self.aws.client("dynamodb"), self.aws.client("cloudfront"), self.aws.client("iam")
        ssm, cw = self.aws.client("ssm"), self.aws.client("cloudwatch")

        found: dict[str, list[str]] = {"ec2": self.ec2_resources}
        found["elbv2"] = stack_census.load_balancing_resources(elb, self.stack)
        found["autoscaling"] = stack_census.groups(asg, self.stack)
        found["s3"] = []
        for bucket in s3.list_buckets()["Buckets"]:
            try:
                tags = stack_census.tags_of(s3.get_bucket_tagging(Bucket=bucket["Name"])["TagSet"])
            except botocore.exceptions.ClientError:
                tags = {}
            if self._is_ours(tags):
                found["s3"].append(bucket["Name"])
        found["dynamodb"] = []
        for name in ddb.list_tables()["TableNames"]:
            arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
            if self._is_ours(stack_census.tags_of(ddb.list_tags_of_resource(ResourceArn=arn).get("Tags", []))):
                found["dynamodb"].append(name)
        found["cloudfront"] = stack_census.distributions(cf, self.stack)
        found["cloudfront_oac"] = [
            item["Name"]
            for item in cf.list_origin_access_controls()["OriginAccessControlList"].get("Items", [])
            if item["Name"].startswith(f"{self.stack}-")
        ]
        found["cloudfront_functions"] = [
            item["Name"]
            for item in cf.list_functions()["FunctionList"].get("Items", [])
            if item["Name"].startswith(f"{self.stack}-")
        ]
        found["iam"] = [
            role["RoleName"]
            for role in iam.list_roles()["Roles"]
            if self._is_ours(stack_census.tags_of(iam.list_role_tags(RoleName=role["RoleName"])["Tags"]))
        ]
        found["iam"] += [
            profile["InstanceProfileName"]
            for profile in iam.list_instance_profiles()["InstanceProfiles"]
            if profile["InstanceProfileName"].startswith(f"{self.stack}-")
        ]
        found["ssm"] = [
            p["Name"] for p in ssm.describe_parameters()["Parameters"] if p["Name"].startswith(f"/{self.stack}/")
        ]
        found["cloudwatch"] = stack_census.alarms(cw, self.stack)
        return {service: names for service, names in found.items() if names}
