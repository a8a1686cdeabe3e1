"""Each moto fix: the gap exists without it (so the test can fail), and the fix closes it."""

from __future__ import annotations

import base64
import datetime
import io
import json

import botocore.exceptions
import pytest

from local_aws.fixes import (
    ALL_FIXES,
    applied,
    autoscaling_lifecycle_hooks,
    autoscaling_metrics,
    autoscaling_standby,
    autoscaling_tag_order,
    cloudfront_invalidation_status,
    cloudfront_s3_origins,
    debian_ami,
    dynamodb_table_id,
    ec2_security_group_rules,
    ec2_tag_resource_types,
    ec2_user_data_limit,
    elbv2_attributes,
    elbv2_target_health,
    iam_action_log,
    launch_templates,
    route53_alias_names,
    s3_bucket_policy_conditions,
)
from tests.helpers.cloudfront import MINIMAL_DISTRIBUTION_CONFIG

from .conftest import client

TEMPLATE_TAGS = [{"ResourceType": "launch-template", "Tags": [{"Key": "Stack", "Value": "unit"}]}]
INSTANCE_TAGS = [{"ResourceType": "instance", "Tags": [{"Key": "Role", "Value": "web"}]}]


def create_table() -> dict:
    ddb = client("dynamodb")
    ddb.create_table(
        TableName="catalog",
        KeySchema=[{"AttributeName": "image_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "image_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return ddb.describe_table(TableName="catalog")["Table"]


def nat_gateway_tag_types() -> set[str]:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24")["Subnet"]["SubnetId"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.create_nat_gateway(
        SubnetId=subnet,
        AllocationId=allocation,
        TagSpecifications=[{"ResourceType": "natgateway", "Tags": [{"Key": "Stack", "Value": "unit"}]}],
    )
    ec2.create_tags(Resources=[allocation], Tags=[{"Key": "Stack", "Value": "unit"}])
    return {tag["ResourceType"] for tag in ec2.describe_tags()["Tags"] if tag["Key"] == "Stack"}


def template_data_after_create() -> dict:
    ec2 = client("ec2")
    ec2.create_launch_template(
        LaunchTemplateName="web",
        LaunchTemplateData={"ImageId": "ami-12345678", "TagSpecifications": INSTANCE_TAGS},
        TagSpecifications=TEMPLATE_TAGS,
    )
    return ec2.describe_launch_template_versions(LaunchTemplateName="web")["LaunchTemplateVersions"][0][
        "LaunchTemplateData"
    ]


def create_group() -> None:
    client("ec2").create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"ImageId": "ami-12345678"})
    client("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName="web",
        LaunchTemplate={"LaunchTemplateName": "web"},
        MinSize=1,
        MaxSize=2,
        AvailabilityZones=["eu-west-1a"],
    )


# DynamoDB TableId


def test_table_id_is_missing_without_the_fix(aws):
    assert "TableId" not in create_table()


def test_table_id_is_a_stable_uuid_with_the_fix(aws):
    with applied([dynamodb_table_id.FIX]):
        table = create_table()
        again = client("dynamodb").describe_table(TableName="catalog")["Table"]
    assert table["TableId"] == again["TableId"] == dynamodb_table_id.table_id_for(table["TableArn"])


# EC2 DescribeTags resource types


def test_tag_resource_types_are_moto_names_without_the_fix(aws):
    assert nat_gateway_tag_types() == {"nat-gateway", "vpc-elastic-ip"}


def test_tag_resource_types_are_ec2_names_with_the_fix(aws):
    with applied([ec2_tag_resource_types.FIX]):
        assert nat_gateway_tag_types() == {"natgateway", "elastic-ip"}
        filtered = client("ec2").describe_tags(Filters=[{"Name": "resource-type", "Values": ["natgateway"]}])
    assert [tag["ResourceType"] for tag in filtered["Tags"]] == ["natgateway"]


# Launch templates


def test_template_tag_spec_leaks_into_data_without_the_fix(aws):
    types = [spec["ResourceType"] for spec in template_data_after_create()["TagSpecifications"]]
    assert "launch-template" in types


def test_template_tag_spec_stays_out_of_data_with_the_fix(aws):
    with applied([launch_templates.FIX]):
        data = template_data_after_create()
    assert data["TagSpecifications"] == INSTANCE_TAGS


def test_deleting_versions_fails_without_the_fix(aws):
    ec2 = client("ec2")
    ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"ImageId": "ami-1"})
    ec2.create_launch_template_version(LaunchTemplateName="web", LaunchTemplateData={"ImageId": "ami-2"})
    # The upstream gap itself: moto raises NotImplementedError for an action it lacks.
    with pytest.raises(NotImplementedError):
        ec2.delete_launch_template_versions(LaunchTemplateName="web", Versions=["2"])


def test_deleting_versions_keeps_numbers_with_the_fix(aws):
    ec2 = client("ec2")
    with applied([launch_templates.FIX]):
        ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"ImageId": "ami-1"})
        for image in ("ami-2", "ami-3"):
            ec2.create_launch_template_version(LaunchTemplateName="web", LaunchTemplateData={"ImageId": image})
        result = ec2.delete_launch_template_versions(LaunchTemplateName="web", Versions=["2", "1", "9"])
        ec2.create_launch_template_version(LaunchTemplateName="web", LaunchTemplateData={"ImageId": "ami-4"})
        versions = ec2.describe_launch_template_versions(LaunchTemplateName="web", Versions=["3", "4"])
        ec2.delete_launch_template(LaunchTemplateName="web")
    assert [v["VersionNumber"] for v in result["SuccessfullyDeletedLaunchTemplateVersions"]] == [2]
    failed = {
        v["VersionNumber"]: v["ResponseError"]["Code"] for v in result["UnsuccessfullyDeletedLaunchTemplateVersions"]
    }
    assert failed == {1: "launchTemplateVersionIsDefault", 9: "launchTemplateVersionDoesNotExist"}
    assert [(v["VersionNumber"], v["LaunchTemplateData"]["ImageId"]) for v in versions["LaunchTemplateVersions"]] == [
        (3, "ami-3"),
        (4, "ami-4"),
    ]


def launch_from_second_version() -> None:
    ec2, autoscaling = client("ec2"), client("autoscaling")
    user_data = base64.b64encode(b"#!/bin/sh\necho first boot\n").decode()
    ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"ImageId": "ami-1"})
    ec2.create_launch_template_version(
        LaunchTemplateName="web", LaunchTemplateData={"ImageId": "ami-2", "UserData": user_data}
    )
    ec2.modify_launch_template(LaunchTemplateName="web", DefaultVersion="2")
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="web",
        LaunchTemplate={"LaunchTemplateName": "web", "Version": "$Default"},
        MinSize=1,
        MaxSize=1,
        AvailabilityZones=["eu-west-1a"],
    )


def test_launching_from_a_later_version_with_user_data_fails_without_the_fix(aws):
    # In server mode the assertion becomes an HTTP 500; in-process it surfaces as it is.
    with pytest.raises((botocore.exceptions.ClientError, AssertionError)):
        launch_from_second_version()


def test_launching_from_a_later_version_with_user_data_works_with_the_fix(aws):
    with applied([launch_templates.FIX]):
        launch_from_second_version()
        group = client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][
            0
        ]
    assert len(group["Instances"]) == 1


# EC2 user data limit (16,384 raw bytes)

AT_LIMIT = "#" * 16384
OVER_LIMIT = "#" * 16385


def user_data_calls(raw: str) -> list:
    """Each way user data reaches EC2 here: a template, a template version, RunInstances (whose
    UserData botocore encodes itself)."""
    ec2 = client("ec2")
    user_data = base64.b64encode(raw.encode()).decode()
    return [
        lambda: ec2.create_launch_template(
            LaunchTemplateName="big", LaunchTemplateData={"ImageId": "ami-1", "UserData": user_data}
        ),
        lambda: ec2.create_launch_template_version(
            LaunchTemplateName="web", LaunchTemplateData={"ImageId": "ami-1", "UserData": user_data}
        ),
        lambda: ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, UserData=raw),
    ]


def test_user_data_over_the_limit_is_stored_without_the_fix(aws):
    client("ec2").create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"ImageId": "ami-1"})
    for call in user_data_calls(OVER_LIMIT):
        call()


def test_user_data_over_the_limit_is_refused_as_ec2_refuses_it_with_the_fix(aws):
    client("ec2").create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"ImageId": "ami-1"})
    with applied([launch_templates.FIX, ec2_user_data_limit.FIX]):
        codes = []
        for call in user_data_calls(OVER_LIMIT):
            with pytest.raises(botocore.exceptions.ClientError, match="User data is limited to 16384 bytes") as error:
                call()
            codes.append(error.value.response["Error"]["Code"])
        for call in user_data_calls(AT_LIMIT):
            call()
    assert codes == ["InvalidUserData.Malformed", "InvalidUserData.Malformed", "InvalidParameterValue"]


def test_strip_template_tag_spec_keeps_other_resource_types():
    data = {"ImageId": "ami-1", "TagSpecifications": TEMPLATE_TAGS + INSTANCE_TAGS}
    assert launch_templates.strip_template_tag_spec(data) == {"ImageId": "ami-1", "TagSpecifications": INSTANCE_TAGS}
    assert launch_templates.strip_template_tag_spec({"TagSpecifications": TEMPLATE_TAGS}) == {}


# Auto Scaling DisableMetricsCollection


def test_disable_metrics_fails_without_the_fix(aws):
    create_group()
    # The upstream gap itself: moto raises NotImplementedError for an action it lacks.
    with pytest.raises(NotImplementedError):
        client("autoscaling").disable_metrics_collection(AutoScalingGroupName="web")


def test_disable_metrics_with_the_fix(aws):
    asg = client("autoscaling")
    with applied([autoscaling_metrics.FIX]):
        create_group()
        asg.enable_metrics_collection(
            AutoScalingGroupName="web", Granularity="1Minute", Metrics=["GroupMinSize", "GroupMaxSize"]
        )
        asg.disable_metrics_collection(AutoScalingGroupName="web", Metrics=["GroupMinSize"])
        partly = asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]["EnabledMetrics"]
        asg.disable_metrics_collection(AutoScalingGroupName="web")
        none_left = asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]["EnabledMetrics"]
    assert [m["Metric"] for m in partly] == ["GroupMaxSize"]
    assert none_left == []


@pytest.mark.parametrize(
    ("enabled", "disable", "left"),
    [(["A", "B"], None, []), (["A", "B"], [], []), (["A", "B"], ["B"], ["A"]), (["A"], ["C"], ["A"])],
)
def test_remaining_metrics(enabled, disable, left):
    assert autoscaling_metrics.remaining_metrics(enabled, disable) == left


# Debian AMI


def debian_images() -> list[dict]:
    return client("ec2").describe_images(
        Owners=[debian_ami.DEBIAN_OWNER_ID], Filters=[{"Name": "name", "Values": ["debian-12-amd64-*"]}]
    )["Images"]


def test_no_debian_image_without_the_fix(aws):
    assert debian_images() == []


def test_debian_image_with_the_fix():
    with applied([debian_ami.FIX]):
        from moto import mock_aws

        with mock_aws():
            images = debian_images()
    assert [image["ImageId"] for image in images] == [ami["ami_id"] for ami in debian_ami.DEBIAN_12_AMIS]


# The registry


def test_every_fix_names_its_upstream_gap_and_reverts_cleanly():
    for fix in ALL_FIXES:
        assert fix.upstream_gap
        fix.apply()
        fix.apply()
        assert fix.applied
        fix.revert()
        assert not fix.applied


# EC2 security group rules with prefix lists


def alb_group_rules() -> tuple[dict, object]:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc)["GroupId"]
    prefix_list = ec2.describe_managed_prefix_lists()["PrefixLists"][0]["PrefixListId"]
    permission = {
        "IpProtocol": "tcp",
        "FromPort": 80,
        "ToPort": 80,
        "PrefixListIds": [{"PrefixListId": prefix_list, "Description": "CloudFront origin-facing"}],
    }
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[permission])
    rules = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
    return rules[0]["PrefixListIds"][0], lambda: ec2.update_security_group_rule_descriptions_ingress(
        GroupId=group, IpPermissions=[permission]
    )


def test_prefix_list_rule_loses_description_without_the_fix(aws):
    entry, update = alb_group_rules()
    assert "Description" not in entry
    assert "Return" not in update()


def test_prefix_list_rule_keeps_description_with_the_fix(aws):
    with applied([ec2_security_group_rules.FIX]):
        entry, update = alb_group_rules()
        assert entry["Description"] == "CloudFront origin-facing"
        assert update()["Return"] is True


# ELBv2 load balancer attributes


def new_load_balancer_attributes() -> dict[str, str]:
    ec2, elb = client("ec2"), client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"eu-west-1{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate("ab")
    ]
    arn = elb.create_load_balancer(Name="web", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    attributes = elb.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    return {a["Key"]: a["Value"] for a in attributes}


def test_idle_timeout_is_missing_without_the_fix(aws):
    assert "idle_timeout.timeout_seconds" not in new_load_balancer_attributes()


def test_every_default_attribute_with_the_fix(aws):
    with applied([elbv2_attributes.FIX]):
        attributes = new_load_balancer_attributes()
    assert attributes["idle_timeout.timeout_seconds"] == "60"
    assert attributes["deletion_protection.enabled"] == "false"
    assert set(elbv2_attributes.APPLICATION_DEFAULTS) <= set(attributes)


def test_defaults_only_complete_application_load_balancers():
    assert elbv2_attributes.with_defaults({"a": "1"}, "network") == {"a": "1"}
    completed = elbv2_attributes.with_defaults({"idle_timeout.timeout_seconds": "30"}, "application")
    assert completed["idle_timeout.timeout_seconds"] == "30"


# Auto Scaling tag order


def group_tag_keys() -> list[str]:
    create_group()
    asg = client("autoscaling")
    asg.create_or_update_tags(
        Tags=[
            {
                "ResourceId": "web",
                "ResourceType": "auto-scaling-group",
                "Key": key,
                "Value": "v",
                "PropagateAtLaunch": True,
            }
            for key in ("Stack", "Name", "Project")
        ]
    )
    return [tag["Key"] for tag in asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]["Tags"]]


def test_group_tags_unsorted_without_the_fix(aws):
    assert group_tag_keys() == ["Stack", "Name", "Project"]


def test_group_tags_sorted_with_the_fix(aws):
    with applied([autoscaling_tag_order.FIX]):
        assert group_tag_keys() == ["Name", "Project", "Stack"]


# CloudFront S3 origins


def stored_s3_origin() -> dict:
    cf = client("cloudfront")
    control = cf.create_origin_access_control(
        OriginAccessControlConfig={
            "Name": "images",
            "SigningProtocol": "sigv4",
            "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3",
        }
    )["OriginAccessControl"]["Id"]
    origin = {
        "Id": "bucket",
        "DomainName": "images.s3.eu-west-1.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
        "OriginAccessControlId": control,
    }
    behavior = {
        "TargetOriginId": "bucket",
        "ViewerProtocolPolicy": "redirect-to-https",
        "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
        "MinTTL": 0,
    }
    created = cf.create_distribution(
        DistributionConfig={
            "CallerReference": "unit",
            "Comment": "unit",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [origin]},
            "DefaultCacheBehavior": behavior,
        }
    )["Distribution"]
    stored = cf.get_distribution_config(Id=created["Id"])["DistributionConfig"]["Origins"]["Items"][0]
    return {"control": control, **stored}


def test_s3_origin_loses_access_control_without_the_fix(aws):
    stored = stored_s3_origin()
    assert "S3OriginConfig" not in stored
    assert "OriginAccessControlId" not in stored


def test_s3_origin_keeps_access_control_with_the_fix(aws):
    with applied([cloudfront_s3_origins.FIX]):
        stored = stored_s3_origin()
    assert stored["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert stored["OriginAccessControlId"] == stored["control"]


# S3 bucket policy conditions

TLS_ONLY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadByOneDistribution",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::bucket/*",
            "Condition": {"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1"}},
        },
        {
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ],
}


def put_into_policy_bucket(policy: dict) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket="bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_policy(Bucket="bucket", Policy=json.dumps(policy))
    s3.put_object(Bucket="bucket", Key="a.txt", Body=b"x")
    assert s3.get_object(Bucket="bucket", Key="a.txt")["Body"].read() == b"x"


def test_tls_only_policy_denies_the_owner_without_the_fix(aws):
    with pytest.raises(botocore.exceptions.ClientError, match="403"):
        put_into_policy_bucket(TLS_ONLY_POLICY)


def test_tls_only_policy_lets_the_owner_write_and_read_with_the_fix(aws):
    with applied([s3_bucket_policy_conditions.FIX]):
        put_into_policy_bucket(TLS_ONLY_POLICY)


def test_an_unconditional_deny_still_denies_with_the_fix(aws):
    deny_puts = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::bucket/*"}
        ],
    }
    with applied([s3_bucket_policy_conditions.FIX]), pytest.raises(botocore.exceptions.ClientError, match="403"):
        put_into_policy_bucket(deny_puts)


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        ({"Bool": {"aws:SecureTransport": "false"}}, False),
        ({"Bool": {"aws:SecureTransport": "true"}}, True),
        ({"StringEquals": {"AWS:SourceArn": "arn:x"}}, False),
        ({"StringEqualsIfExists": {"AWS:SourceArn": "arn:x"}}, True),
        ({"StringLike": {"aws:securetransport": "t*"}}, True),
        ({"NumericLessThan": {"aws:SecureTransport": "1"}}, False),
    ],
)
def test_condition_evaluation_follows_aws(condition, holds):
    assert s3_bucket_policy_conditions.condition_holds(condition, {"aws:SecureTransport": "true"}) is holds


# ELBv2 target health


def target_group_with_instances(count: int = 2) -> tuple[str, list[str]]:
    ec2, elb = client("ec2"), client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instances = [
        item["InstanceId"] for item in ec2.run_instances(ImageId=image, MinCount=count, MaxCount=count)["Instances"]
    ]
    arn = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": instance} for instance in instances])
    return arn, instances


def target_states(arn: str) -> dict[str, str]:
    found = client("elbv2").describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    return {item["Target"]["Id"]: item["TargetHealth"]["State"] for item in found}


def test_an_unchecked_target_is_healthy_without_the_fix(aws):
    arn, _instances = target_group_with_instances()
    assert set(target_states(arn).values()) == {"healthy"}


def test_targets_are_initial_until_checked_then_as_posted_with_the_fix(aws):
    elbv2_target_health.REGISTRY.clear()
    with applied([elbv2_target_health.FIX]):
        arn, (first, second) = target_group_with_instances()
        assert target_states(arn) == {first: "initial", second: "initial"}
        elbv2_target_health.REGISTRY.post(arn, {first: "healthy", second: "unhealthy"})
        described = client("elbv2").describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
        client("ec2").terminate_instances(InstanceIds=[first])
        after_termination = target_states(arn)
    health = {item["Target"]["Id"]: item["TargetHealth"] for item in described}
    assert health[first]["State"] == "healthy"
    assert health[second] == {"State": "unhealthy", "Reason": "Target.FailedHealthChecks",
                              "Description": "Health checks failed"}  # fmt: skip
    assert after_termination == {second: "unhealthy"}, "a terminated instance leaves the target group"


def test_the_health_route_takes_states_and_refuses_bad_ones():
    registry = elbv2_target_health.HealthRegistry()
    answers = []

    def call(method: str, body: bytes = b"") -> dict:
        environ = {"REQUEST_METHOD": method, "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
        data = elbv2_target_health.answer(environ, lambda status, headers: answers.append(status), registry)
        return json.loads(b"".join(data))

    assert call("POST", json.dumps({"target_group_arn": "arn:tg", "targets": {"i-1": "healthy"}}).encode())["ok"]
    assert call("GET") == {"arn:tg": {"i-1": "healthy"}}
    refused = call("POST", json.dumps({"target_group_arn": "arn:tg", "targets": {"i-1": "fine"}}).encode())
    assert refused["ok"] is False and "initial" in refused["error"]
    assert answers == ["200 OK", "200 OK", "400 Bad Request"]
    assert registry.state("arn:tg", "i-1") == "healthy" and registry.state("arn:tg", "i-2") == "initial"


# IAM action log


def some_calls() -> None:
    client("ec2").describe_vpcs()
    s3 = client("s3")
    s3.create_bucket(Bucket="unit-log", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.list_objects_v2(Bucket="unit-log")
    s3.put_object(Bucket="unit-log", Key="a", Body=b"x")
    s3.head_object(Bucket="unit-log", Key="a")
    client("cloudwatch").describe_alarms()
    client("dynamodb").list_tables()


def test_no_record_of_the_actions_without_the_fix(aws):
    iam_action_log.LOG.clear()
    some_calls()
    assert iam_action_log.LOG.snapshot() == {}


def test_each_call_is_recorded_as_the_iam_action_aws_checks_with_the_fix(aws):
    iam_action_log.LOG.clear()
    with applied([iam_action_log.FIX]):
        some_calls()
    (actions,) = iam_action_log.LOG.snapshot().values()  # one caller (mock_aws signs with its own key)
    assert actions == [
        "cloudwatch:DescribeAlarms",  # signed as "monitoring"
        "dynamodb:ListTables",
        "ec2:DescribeVpcs",
        "s3:CreateBucket",
        "s3:GetObject",  # HeadObject
        "s3:ListBucket",  # ListObjectsV2
        "s3:PutObject",
    ]


def test_api_names_map_to_the_actions_they_need():
    signed = "AWS4-HMAC-SHA256 Credential=AKID/20261202/us-east-1/cloudfront/aws4_request, SignedHeaders=host"
    assert iam_action_log.iam_actions(signed, "CreateDistributionWithTags") == (
        "AKID",
        ("cloudfront:CreateDistribution", "cloudfront:TagResource"),
    )
    assert iam_action_log.iam_actions("", "DescribeVpcs") is None, "an unsigned request has no caller"


def test_the_action_route_lists_and_forgets():
    log = iam_action_log.ActionLog()
    log.record("AKID", ("ec2:DescribeVpcs",))

    def call(method: str) -> dict:
        data = iam_action_log.answer({"REQUEST_METHOD": method}, lambda status, headers: None, log)
        return json.loads(b"".join(data))

    assert call("GET") == {"AKID": ["ec2:DescribeVpcs"]}
    assert call("DELETE") == {"ok": True}
    assert call("GET") == {}


@pytest.mark.parametrize(
    ("method", "resource", "subresources", "headers", "body", "actions"),
    [
        ("HEAD", "arn:aws:s3:::b", set(), {}, b"", ("s3:ListBucket",)),
        ("GET", "arn:aws:s3:::b", {"encryption"}, {}, b"", ("s3:GetEncryptionConfiguration",)),
        ("GET", "arn:aws:s3:::b", {"versions", "prefix"}, {}, b"", ("s3:ListBucketVersions",)),
        ("DELETE", "arn:aws:s3:::b", {"publicAccessBlock"}, {}, b"", ("s3:PutBucketPublicAccessBlock",)),
        ("DELETE", "arn:aws:s3:::b/k", {"versionId"}, {}, b"", ("s3:DeleteObjectVersion",)),
        ("GET", "arn:aws:s3:::b/k", {"tagging", "versionId"}, {}, b"", ("s3:GetObjectTagging",)),
        ("POST", "arn:aws:s3:::b", {"delete"}, {}, b"<Object><Key>k</Key><VersionId>1</VersionId></Object>",
         ("s3:DeleteObject", "s3:DeleteObjectVersion")),
        ("PUT", "arn:aws:s3:::b/k", set(), {"X-Amz-Copy-Source": "b/j"}, b"", ("s3:PutObject", "s3:GetObject")),
        ("GET", "arn:aws:s3:::*", set(), {}, b"", ("s3:ListAllMyBuckets",)),
    ],
)  # fmt: skip
def test_s3_requests_need_the_actions_of_aws_s3_authorization(method, resource, subresources, headers, body, actions):
    assert iam_action_log.s3_actions(method, resource, subresources, headers, body) == actions


# Auto Scaling launch lifecycle hooks


def group_behind_a_target_group(hook_timeout: int | None = None) -> tuple[str, object]:
    """A group of two behind a target group, with a launch hook when ``hook_timeout`` is given
    (put before the capacity, as compute/tasks/group.yml does)."""
    ec2, autoscaling, elbv2 = client("ec2"), client("autoscaling"), client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24", AvailabilityZone="eu-west-1a")["Subnet"]
    target_group = elbv2.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance")
    arn = target_group["TargetGroups"][0]["TargetGroupArn"]
    ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"ImageId": "ami-12345678"})
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="web", LaunchTemplate={"LaunchTemplateName": "web"}, MinSize=0, MaxSize=4,
        DesiredCapacity=0, VPCZoneIdentifier=subnet["SubnetId"], TargetGroupARNs=[arn],
    )  # fmt: skip
    if hook_timeout is not None:
        autoscaling.put_lifecycle_hook(
            AutoScalingGroupName="web", LifecycleHookName="launching", HeartbeatTimeout=hook_timeout,
            LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING", DefaultResult="ABANDON",
        )  # fmt: skip
    autoscaling.update_auto_scaling_group(AutoScalingGroupName="web", MinSize=2, DesiredCapacity=2)
    return arn, autoscaling


def lifecycle_states(autoscaling) -> dict[str, str]:
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
    return {item["InstanceId"]: item["LifecycleState"] for item in group["Instances"]}


def registered(target_group_arn: str) -> set[str]:
    health = client("elbv2").describe_target_health(TargetGroupArn=target_group_arn)["TargetHealthDescriptions"]
    return {item["Target"]["Id"] for item in health}


def test_a_launch_hook_holds_nothing_without_the_fix(aws):
    arn, autoscaling = group_behind_a_target_group(hook_timeout=600)
    states = lifecycle_states(autoscaling)
    assert set(states.values()) == {"InService"}
    assert registered(arn) == set(states)
    with pytest.raises(NotImplementedError):  # the server answers 500
        autoscaling.complete_lifecycle_action(
            AutoScalingGroupName="web", LifecycleHookName="launching", LifecycleActionResult="CONTINUE",
            InstanceId=next(iter(states)),
        )  # fmt: skip


def test_a_launch_hook_holds_new_instances_until_continue_with_the_fix(aws):
    with applied([autoscaling_lifecycle_hooks.FIX]):
        arn, autoscaling = group_behind_a_target_group(hook_timeout=600)
        states = lifecycle_states(autoscaling)
        assert len(states) == 2 and set(states.values()) == {"Pending:Wait"}
        assert registered(arn) == set()
        # Held instances count in the capacity: changing it does not launch more of them.
        autoscaling.update_auto_scaling_group(AutoScalingGroupName="web", MaxSize=3)
        assert set(lifecycle_states(autoscaling)) == set(states)
        first, second = sorted(states)
        autoscaling.complete_lifecycle_action(
            AutoScalingGroupName="web", LifecycleHookName="launching", LifecycleActionResult="CONTINUE",
            InstanceId=first,
        )  # fmt: skip
        assert lifecycle_states(autoscaling) == {first: "InService", second: "Pending:Wait"}
        assert registered(arn) == {first}
        # Completed once: a second completion names no active action, as on AWS.
        with pytest.raises(botocore.exceptions.ClientError, match="No active Lifecycle Action"):
            autoscaling.complete_lifecycle_action(
                AutoScalingGroupName="web", LifecycleHookName="launching", LifecycleActionResult="CONTINUE",
                InstanceId=first,
            )  # fmt: skip


def test_abandon_replaces_the_instance_with_the_fix(aws):
    with applied([autoscaling_lifecycle_hooks.FIX]):
        _, autoscaling = group_behind_a_target_group(hook_timeout=600)
        abandoned = sorted(lifecycle_states(autoscaling))[0]
        autoscaling.complete_lifecycle_action(
            AutoScalingGroupName="web", LifecycleHookName="launching", LifecycleActionResult="ABANDON",
            InstanceId=abandoned,
        )  # fmt: skip
        states = lifecycle_states(autoscaling)
        assert abandoned not in states and len(states) == 2
        assert set(states.values()) == {"Pending:Wait"}, "the replacement is held by the hook as well"
        found = client("ec2").describe_instances(InstanceIds=[abandoned])["Reservations"][0]["Instances"][0]
        assert found["State"]["Name"] in {"shutting-down", "terminated"}


def test_the_heartbeat_timeout_applies_the_default_result_with_the_fix(aws):
    with applied([autoscaling_lifecycle_hooks.FIX]):
        _, autoscaling = group_behind_a_target_group(hook_timeout=600)
        held = sorted(lifecycle_states(autoscaling))
        # Time passes: the first one's heartbeat was recorded, the second one's was not.
        autoscaling.record_lifecycle_action_heartbeat(
            AutoScalingGroupName="web", LifecycleHookName="launching", InstanceId=held[0]
        )
        from moto.autoscaling.models import autoscaling_backends

        backend = autoscaling_backends["123456789012"]["eu-west-1"]
        for state in backend.autoscaling_groups["web"].instance_states:
            state.launch_wait.deadline -= 600 if state.instance.id == held[1] else 1
        states = lifecycle_states(autoscaling)
        assert states[held[0]] == "Pending:Wait"
        assert held[1] not in states, "ABANDON by default: terminated and replaced"
        assert len(states) == 2


def test_without_a_hook_instances_are_in_service_and_registered_with_the_fix(aws):
    with applied([autoscaling_lifecycle_hooks.FIX]):
        arn, autoscaling = group_behind_a_target_group()
        states = lifecycle_states(autoscaling)
        assert len(states) == 2 and set(states.values()) == {"InService"}
        assert registered(arn) == set(states)


# Route 53 alias names


def alias_target_after_upsert() -> dict:
    route53 = client("route53")
    zone = route53.create_hosted_zone(Name="example.com", CallerReference="unit")["HostedZone"]["Id"]
    record = {
        "Name": "origin.example.com",
        "Type": "A",
        "AliasTarget": {
            "HostedZoneId": "Z32O12XQLNTSW2",
            "DNSName": "My-ALB-1.eu-west-1.elb.amazonaws.com",
            "EvaluateTargetHealth": False,
        },
    }
    route53.change_resource_record_sets(
        HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]}
    )
    listing = route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    return next(r for r in listing if r["Type"] == "A")["AliasTarget"]


def test_alias_names_come_back_as_given_without_the_fix(aws):
    assert alias_target_after_upsert()["DNSName"] == "My-ALB-1.eu-west-1.elb.amazonaws.com"


def test_alias_names_come_back_lower_case_and_qualified_with_the_fix(aws):
    with applied([route53_alias_names.FIX]):
        assert alias_target_after_upsert()["DNSName"] == "my-alb-1.eu-west-1.elb.amazonaws.com."


# Auto Scaling standby


def drain_now(group_name: str = "web") -> None:
    """Time passes: every EnteringStandby instance's deregistration delay is over."""
    from moto.autoscaling.models import autoscaling_backends

    for state in autoscaling_backends["123456789012"]["eu-west-1"].autoscaling_groups[group_name].instance_states:
        if hasattr(state, "standby_at"):
            state.standby_at = 0


def group_sizes(autoscaling) -> tuple[int, int, int]:
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
    return group["MinSize"], group["DesiredCapacity"], group["MaxSize"]


def test_standby_below_the_minimum_and_still_registered_without_the_fix(aws):
    arn, autoscaling = group_behind_a_target_group()
    first = sorted(lifecycle_states(autoscaling))[0]
    autoscaling.enter_standby(AutoScalingGroupName="web", InstanceIds=[first], ShouldDecrementDesiredCapacity=True)
    assert group_sizes(autoscaling)[:2] == (2, 1), "moto lets the desired capacity fall below MinSize"
    assert first in registered(arn), "moto keeps the standby instance in the target group"


def test_enter_standby_follows_the_groups_sizes_and_drains_the_target_with_the_fix(aws):
    with applied([autoscaling_lifecycle_hooks.FIX, autoscaling_standby.FIX]):
        arn, autoscaling = group_behind_a_target_group()
        first, second = sorted(lifecycle_states(autoscaling))
        with pytest.raises(botocore.exceptions.ClientError, match=r"min-size=2.*To place into standby 1 instances"):
            autoscaling.enter_standby(
                AutoScalingGroupName="web", InstanceIds=[first], ShouldDecrementDesiredCapacity=True
            )
        assert lifecycle_states(autoscaling) == {first: "InService", second: "InService"}

        autoscaling.update_auto_scaling_group(AutoScalingGroupName="web", MinSize=1)
        autoscaling.enter_standby(AutoScalingGroupName="web", InstanceIds=[first], ShouldDecrementDesiredCapacity=True)
        assert lifecycle_states(autoscaling) == {first: "EnteringStandby", second: "InService"}
        assert registered(arn) == {second}, "deregistered at once; it drains for the deregistration delay"
        assert group_sizes(autoscaling) == (1, 1, 4)
        drain_now()
        assert lifecycle_states(autoscaling) == {first: "Standby", second: "InService"}
        with pytest.raises(botocore.exceptions.ClientError, match=f"The instance {first} is not in InService"):
            autoscaling.enter_standby(
                AutoScalingGroupName="web", InstanceIds=[first], ShouldDecrementDesiredCapacity=True
            )
        with pytest.raises(botocore.exceptions.ClientError, match=f"The instance {second} is not in Standby"):
            autoscaling.exit_standby(AutoScalingGroupName="web", InstanceIds=[second])


def test_without_decrement_the_group_replaces_the_standby_instance_with_the_fix(aws):
    with applied([autoscaling_lifecycle_hooks.FIX, autoscaling_standby.FIX]):
        _, autoscaling = group_behind_a_target_group()
        first = sorted(lifecycle_states(autoscaling))[0]
        autoscaling.enter_standby(AutoScalingGroupName="web", InstanceIds=[first], ShouldDecrementDesiredCapacity=False)
        states = lifecycle_states(autoscaling)
        assert len(states) == 3 and states[first] == "EnteringStandby"
        assert list(states.values()).count("InService") == 2


def test_exit_standby_goes_through_the_launch_hook_with_the_fix(aws):
    with applied([autoscaling_lifecycle_hooks.FIX, autoscaling_standby.FIX]):
        arn, autoscaling = group_behind_a_target_group(hook_timeout=600)
        for instance_id in lifecycle_states(autoscaling):
            autoscaling.complete_lifecycle_action(
                AutoScalingGroupName="web", LifecycleHookName="launching", LifecycleActionResult="CONTINUE",
                InstanceId=instance_id,
            )  # fmt: skip
        first, second = sorted(lifecycle_states(autoscaling))
        autoscaling.update_auto_scaling_group(AutoScalingGroupName="web", MinSize=1)
        autoscaling.enter_standby(AutoScalingGroupName="web", InstanceIds=[first], ShouldDecrementDesiredCapacity=True)
        with pytest.raises(botocore.exceptions.ClientError, match="is not in Standby"):
            autoscaling.exit_standby(AutoScalingGroupName="web", InstanceIds=[first])  # still draining
        drain_now()
        autoscaling.exit_standby(AutoScalingGroupName="web", InstanceIds=[first])
        assert lifecycle_states(autoscaling) == {first: "Pending:Wait", second: "InService"}
        assert registered(arn) == {second}, "held by the launch hook: not registered yet"
        assert group_sizes(autoscaling) == (1, 2, 4)
        autoscaling.complete_lifecycle_action(
            AutoScalingGroupName="web", LifecycleHookName="launching", LifecycleActionResult="CONTINUE",
            InstanceId=first,
        )  # fmt: skip
        assert lifecycle_states(autoscaling) == {first: "InService", second: "InService"}
        assert registered(arn) == {first, second}


def test_exit_standby_may_not_pass_the_maximum_with_the_fix(aws):
    with applied([autoscaling_lifecycle_hooks.FIX, autoscaling_standby.FIX]):
        _, autoscaling = group_behind_a_target_group()
        first = sorted(lifecycle_states(autoscaling))[0]
        autoscaling.update_auto_scaling_group(AutoScalingGroupName="web", MinSize=1)
        autoscaling.enter_standby(AutoScalingGroupName="web", InstanceIds=[first], ShouldDecrementDesiredCapacity=True)
        drain_now()
        autoscaling.update_auto_scaling_group(AutoScalingGroupName="web", MaxSize=1)
        with pytest.raises(botocore.exceptions.ClientError, match=r"max-size=1.*To move 1 instances out of standby"):
            autoscaling.exit_standby(AutoScalingGroupName="web", InstanceIds=[first])


# CloudFront invalidation status


def invalidation_statuses() -> list[str]:
    """The status of a new invalidation when created and when read back at once."""
    cf = client("cloudfront")
    created = cf.create_distribution(
        DistributionConfig={"CallerReference": "unit", "Comment": "unit", **MINIMAL_DISTRIBUTION_CONFIG}
    )["Distribution"]
    invalidation = cf.create_invalidation(
        DistributionId=created["Id"],
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/a"]}, "CallerReference": "one"},
    )["Invalidation"]
    read = cf.get_invalidation(DistributionId=created["Id"], Id=invalidation["Id"])["Invalidation"]
    listed = cf.list_invalidations(DistributionId=created["Id"])["InvalidationList"]["Items"][0]
    return [invalidation["Status"], read["Status"], listed["Status"]]


def test_an_invalidation_is_completed_at_once_in_moto_spelling_without_the_fix(aws):
    assert invalidation_statuses() == ["COMPLETED"] * 3


def test_an_invalidation_is_in_progress_then_completed_with_the_fix(aws):
    with applied([cloudfront_invalidation_status.FIX]):
        assert invalidation_statuses() == ["InProgress"] * 3
    now = datetime.datetime(2026, 12, 6, 12, 0, 0)
    seconds = cloudfront_invalidation_status.IN_PROGRESS_SECONDS
    assert cloudfront_invalidation_status.invalidation_status(now, now) == "InProgress"
    assert (
        cloudfront_invalidation_status.invalidation_status(now, now + datetime.timedelta(seconds=seconds))
        == "Completed"
    )
