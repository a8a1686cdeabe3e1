"""The whole infrastructure on the local endpoint, checked through the AWS APIs.

One stack is built once for the module; the property tests read it through boto3 (never the
playbook's own output). A second stack with a certificate (HTTPS listener with the origin rule,
HTTP redirect, CloudFront speaking HTTPS to the origin) is built beside it, so the same builds
also prove that two stacks on one account share nothing and that tearing one down spares the
other. The lifecycle tests at the end rerun, dry-run, tear down and re-create.
"""

from __future__ import annotations

import base64
import fnmatch
import gzip
import json

import pytest

from tests.helpers.aws import StackCensus
from tests.helpers.certificates import self_signed
from tests.helpers.iam import Policy, not_allowed, recorded_actions
from tests.helpers.playbook import PROJECT_ROOT

from .conftest import outputs_of

STACK = "it-stack"
TLS_STACK = "it-tls"
CLOUDFRONT_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"
REQUIRED_TAGS = {"Project": "image-delivery", "Stack": STACK, "ManagedBy": "ansible"}


@pytest.fixture(scope="module")
def build(playbook):
    """One run of site.yml on an empty endpoint (also proves the amazon.aws#2400 workaround:
    the listener gets its rule in the same run that creates it)."""
    run = playbook("site.yml", "-v", stack=STACK)
    assert run.returncode == 0, run.tail()
    return run


@pytest.fixture(scope="module")
def outputs(build) -> dict:
    return outputs_of(STACK)


@pytest.fixture(scope="module")
def ec2(local_aws):
    return local_aws.client("ec2")


def by_tag(items: list[dict], key: str, value: str) -> list[dict]:
    return [item for item in items if {t["Key"]: t["Value"] for t in item.get("Tags", [])}.get(key) == value]


@pytest.fixture(scope="module")
def subnets(build, ec2, outputs) -> dict[str, list[dict]]:
    found = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [outputs["vpc_id"]]}])["Subnets"]
    return {tier: by_tag(found, "Tier", tier) for tier in ("public", "private")}


@pytest.fixture(scope="module")
def security_groups(build, ec2, outputs) -> dict[str, dict]:
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [outputs["vpc_id"]]}])
    return {group["GroupName"]: group for group in groups["SecurityGroups"]}


@pytest.fixture(scope="module")
def origin_secret(build, local_aws) -> str:
    return local_aws.client("ssm").get_parameter(Name=f"/{STACK}/origin-secret", WithDecryption=True)["Parameter"][
        "Value"
    ]


@pytest.fixture(scope="module")
def distribution_config(build, local_aws, outputs) -> dict:
    cf = local_aws.client("cloudfront")
    return cf.get_distribution_config(Id=outputs["cloudfront_distribution_id"])["DistributionConfig"]


# Network


def test_vpc_has_public_and_private_subnets_in_two_zones(subnets, ec2, outputs):
    vpc = ec2.describe_vpcs(VpcIds=[outputs["vpc_id"]])["Vpcs"][0]
    assert vpc["CidrBlock"] == "10.20.0.0/16"
    for tier in ("public", "private"):
        assert len(subnets[tier]) == 2
        assert len({s["AvailabilityZone"] for s in subnets[tier]}) == 2
    assert all(s["MapPublicIpOnLaunch"] for s in subnets["public"])
    assert not any(s["MapPublicIpOnLaunch"] for s in subnets["private"])


def test_public_subnets_route_to_the_internet_gateway_and_private_ones_to_nat(subnets, ec2, outputs):
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [outputs["vpc_id"]]}])["RouteTables"]
    default_route = {}
    for table in tables:
        for association in table.get("Associations", []):
            if "SubnetId" in association:
                route = [r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
                default_route[association["SubnetId"]] = route[0] if route else {}
    for subnet in subnets["public"]:
        assert default_route[subnet["SubnetId"]].get("GatewayId", "").startswith("igw-")
    nats = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [outputs["vpc_id"]]}])["NatGateways"]
    [nat_subnet] = [n["SubnetId"] for n in nats if n["State"] == "available"]
    assert nat_subnet in {s["SubnetId"] for s in subnets["public"]}
    for subnet in subnets["private"]:
        assert default_route[subnet["SubnetId"]].get("NatGatewayId", "").startswith("nat-")


def test_private_subnets_reach_s3_and_dynamodb_through_free_gateway_endpoints(subnets, ec2, outputs):
    vpc = [{"Name": "vpc-id", "Values": [outputs["vpc_id"]]}]
    private = {subnet["SubnetId"] for subnet in subnets["private"]}
    private_tables = {
        table["RouteTableId"]
        for table in ec2.describe_route_tables(Filters=vpc)["RouteTables"]
        if {a.get("SubnetId") for a in table.get("Associations", [])} & private
    }
    endpoints = {e["ServiceName"]: e for e in ec2.describe_vpc_endpoints(Filters=vpc)["VpcEndpoints"]}
    assert set(endpoints) == {"com.amazonaws.eu-west-1.s3", "com.amazonaws.eu-west-1.dynamodb"}
    for endpoint in endpoints.values():
        assert endpoint["VpcEndpointType"] == "Gateway"
        assert set(endpoint["RouteTableIds"]) == private_tables, "the private subnets only"
        assert {"Key": "Stack", "Value": STACK} in endpoint["Tags"]


# Security groups


def test_load_balancer_accepts_only_cloudfront(security_groups, ec2):
    prefix_list = ec2.describe_managed_prefix_lists(
        Filters=[{"Name": "prefix-list-name", "Values": [CLOUDFRONT_PREFIX_LIST]}]
    )["PrefixLists"][0]["PrefixListId"]
    ingress = security_groups[f"{STACK}-alb"]["IpPermissions"]
    assert [(p["FromPort"], [x["PrefixListId"] for x in p["PrefixListIds"]]) for p in ingress] == [(80, [prefix_list])]
    assert all(not p["IpRanges"] and not p["UserIdGroupPairs"] for p in ingress)


def test_instances_accept_only_the_load_balancer(security_groups):
    alb, instances = security_groups[f"{STACK}-alb"], security_groups[f"{STACK}-instances"]
    ingress = instances["IpPermissions"]
    assert [(p["FromPort"], [g["GroupId"] for g in p["UserIdGroupPairs"]]) for p in ingress] == [(80, [alb["GroupId"]])]
    assert all(not p["IpRanges"] and not p["PrefixListIds"] for p in ingress)
    assert [g["GroupId"] for p in alb["IpPermissionsEgress"] for g in p["UserIdGroupPairs"]] == [instances["GroupId"]]


# Storage


def test_bucket_is_private_encrypted_and_versioned(build, local_aws, outputs):
    s3, bucket = local_aws.client("s3"), outputs["bucket"]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


def test_previous_versions_and_unfinished_uploads_expire(build, local_aws, outputs):
    (rule,) = local_aws.client("s3").get_bucket_lifecycle_configuration(Bucket=outputs["bucket"])["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule.get("Prefix", rule.get("Filter", {}).get("Prefix")) == "", "the whole bucket"
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 7
    assert "Expiration" not in rule, "current objects never expire"


def test_the_ssm_transfer_bucket_is_private_unversioned_tls_only_and_emptied_daily(build, local_aws):
    s3 = local_aws.client("s3")
    account = local_aws.client("sts").get_caller_identity()["Account"]
    bucket = f"{STACK}-ssm-transfer-{account}"  # the name inventory/aws.aws_ec2.yml derives too
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_versioning(Bucket=bucket).get("Status") in (None, "Suspended")
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert (rule["Status"], rule["Expiration"]["Days"]) == ("Enabled", 1)
    (deny,) = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_only_the_distribution_may_read_the_bucket_over_tls(build, local_aws, outputs):
    s3, cf = local_aws.client("s3"), local_aws.client("cloudfront")
    distribution_arn = cf.get_distribution(Id=outputs["cloudfront_distribution_id"])["Distribution"]["ARN"]
    statements = {
        s["Sid"]: s for s in json.loads(s3.get_bucket_policy(Bucket=outputs["bucket"])["Policy"])["Statement"]
    }
    allow = statements["ReadByThisDistributionOnly"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert allow["Condition"]["StringEquals"]["AWS:SourceArn"] == distribution_arn
    assert statements["TlsOnly"]["Effect"] == "Deny"


def test_catalog_table_is_keyed_on_image_id_and_on_demand(build, local_aws, outputs):
    table = local_aws.client("dynamodb").describe_table(TableName=outputs["table"])["Table"]
    assert table["KeySchema"] == [{"AttributeName": "image_id", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


# Compute


def test_launch_template_requires_imdsv2_and_encrypts_the_root_volume(build, ec2, security_groups):
    data = ec2.describe_launch_template_versions(LaunchTemplateName=f"{STACK}-web", Versions=["$Default"])[
        "LaunchTemplateVersions"
    ][0]["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert all(m["Ebs"]["Encrypted"] for m in data["BlockDeviceMappings"])
    profile = data["IamInstanceProfile"]
    assert profile.get("Name") == f"{STACK}-instance" or profile["Arn"].endswith(f":instance-profile/{STACK}-instance")
    assert data["SecurityGroupIds"] == [security_groups[f"{STACK}-instances"]["GroupId"]]
    image = ec2.describe_images(ImageIds=[data["ImageId"]])["Images"][0]
    assert image["OwnerId"] == "136693071363" and image["Name"].startswith("debian-12-amd64-")
    user_data = base64.b64decode(data["UserData"])  # gzip-compressed: the first-boot program is over 16 KB as text
    assert f"IMAGE_DELIVERY_STACK={STACK}" in gzip.decompress(user_data).decode()


def test_one_launch_template_version_after_the_build(build, ec2):
    versions = ec2.describe_launch_template_versions(LaunchTemplateName=f"{STACK}-web")["LaunchTemplateVersions"]
    assert len(versions) == 1


def test_group_spans_the_private_subnets_with_elb_health_checks(build, local_aws, outputs, subnets):
    group = local_aws.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[outputs["autoscaling_group"]]
    )["AutoScalingGroups"][0]
    assert (group["MinSize"], group["MaxSize"], group["DesiredCapacity"]) == (2, 4, 2)
    assert set(group["VPCZoneIdentifier"].split(",")) == {s["SubnetId"] for s in subnets["private"]}
    assert group["HealthCheckType"] == "ELB" and group["HealthCheckGracePeriod"] > 0
    assert group["TargetGroupARNs"] == [outputs["target_group_arn"]]
    assert len(group["Instances"]) == 2


def test_group_tracks_average_cpu_at_50_percent(build, local_aws, outputs):
    policies = local_aws.client("autoscaling").describe_policies(AutoScalingGroupName=outputs["autoscaling_group"])[
        "ScalingPolicies"
    ]
    [policy] = policies
    config = policy["TargetTrackingConfiguration"]
    assert policy["PolicyType"] == "TargetTrackingScaling"
    assert config["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ASGAverageCPUUtilization"
    assert config["TargetValue"] == 50


def role_policy_statements(iam, role: str, name: str) -> list[dict]:
    document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    return document["Statement"] if isinstance(document, dict) else json.loads(document)["Statement"]


def test_instance_role_reads_only_this_stacks_bucket_and_table(build, local_aws, outputs):
    """Reads of the stack's bucket and table, and the completion of its own group's launch hook."""
    iam = local_aws.client("iam")
    role = f"{STACK}-instance"
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    assert sorted(names) == [f"{STACK}-read-images-and-catalog", f"{STACK}-session-manager"]
    every = role_policy_statements(iam, role, f"{STACK}-read-images-and-catalog")
    (launch,) = [s for s in every if s.get("Sid") == "CompleteOwnLaunch"]
    account = local_aws.client("sts").get_caller_identity()["Account"]
    assert launch["Action"] == ["autoscaling:CompleteLifecycleAction"]
    assert launch["Resource"] == [
        f"arn:aws:autoscaling:eu-west-1:{account}:autoScalingGroup:*:autoScalingGroupName/{outputs['autoscaling_group']}"
    ]
    statements = [s for s in every if s is not launch]
    resources = {r for s in statements for r in s["Resource"]}
    assert "*" not in resources
    assert all(outputs["bucket"] in r or outputs["table"] in r for r in resources)
    actions = {a for s in statements for a in s["Action"]}
    assert not any(a.endswith(("*", "PutObject", "DeleteObject", "PutItem", "DeleteItem")) for a in actions)


def test_instance_role_can_use_session_manager_but_read_no_parameter(build, local_aws):
    """AmazonSSMManagedInstanceCore allows ssm:GetParameter* on every parameter of the account
    (other stacks' origin secrets); the role has Session Manager's own minimal set instead."""
    iam = local_aws.client("iam")
    role = f"{STACK}-instance"
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
    statements = role_policy_statements(iam, role, f"{STACK}-session-manager")
    actions = {action for statement in statements for action in statement["Action"]}
    assert actions == {"ssm:UpdateInstanceInformation", "ssmmessages:CreateControlChannel",
                       "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel",
                       "ssmmessages:OpenDataChannel"}  # fmt: skip
    every_action = {a for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
                    for s in role_policy_statements(iam, role, name) for a in s["Action"]}  # fmt: skip
    assert not any(action.startswith(("ssm:GetParameter", "kms:")) for action in every_action)


# Load balancer


def test_target_group_checks_healthz(build, local_aws, outputs):
    group = local_aws.client("elbv2").describe_target_groups(TargetGroupArns=[outputs["target_group_arn"]])[
        "TargetGroups"
    ][0]
    assert (group["Protocol"], group["Port"], group["HealthCheckPath"]) == ("HTTP", 80, "/healthz")
    assert group["Matcher"]["HttpCode"] == "200"
    assert group["HealthCheckTimeoutSeconds"] < group["HealthCheckIntervalSeconds"]


def test_listener_forwards_only_with_the_secret_origin_header(
    build, local_aws, subnets, security_groups, origin_secret
):
    elb = local_aws.client("elbv2")
    lb = elb.describe_load_balancers(Names=[f"{STACK}-alb"])["LoadBalancers"][0]
    assert lb["Scheme"] == "internet-facing"
    assert {z["SubnetId"] for z in lb["AvailabilityZones"]} == {s["SubnetId"] for s in subnets["public"]}
    assert lb["SecurityGroups"] == [security_groups[f"{STACK}-alb"]["GroupId"]]
    [listener] = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    assert listener["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "403"
    rules = [r for r in elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"] if not r["IsDefault"]]
    [condition] = rules[0]["Conditions"]
    assert condition["HttpHeaderConfig"] == {"HttpHeaderName": "X-Origin-Verify", "Values": [origin_secret]}
    assert rules[0]["Actions"][0]["Type"] == "forward"


def test_origin_secret_is_long_random_and_never_printed(build, origin_secret):
    assert len(origin_secret) >= 32
    assert origin_secret not in build.output


# CDN


def test_distribution_sends_the_secret_header_to_the_load_balancer(distribution_config, outputs, origin_secret):
    origins = {o["Id"]: o for o in distribution_config["Origins"]["Items"]}
    alb = origins["load-balancer"]
    assert alb["DomainName"] == outputs["load_balancer_dns"]
    assert alb["CustomHeaders"]["Items"] == [{"HeaderName": "X-Origin-Verify", "HeaderValue": origin_secret}]


def test_distribution_reads_images_from_the_bucket_through_an_access_control(distribution_config, local_aws, outputs):
    bucket_origin = {o["Id"]: o for o in distribution_config["Origins"]["Items"]}["image-bucket"]
    controls = local_aws.client("cloudfront").list_origin_access_controls()["OriginAccessControlList"]["Items"]
    assert bucket_origin["OriginAccessControlId"] == {c["Name"]: c["Id"] for c in controls}[f"{STACK}-images"]
    assert bucket_origin["DomainName"].startswith(outputs["bucket"] + ".s3.")
    assert bucket_origin["S3OriginConfig"]["OriginAccessIdentity"] == ""


def test_distribution_behaviors_cache_keys_and_ttls(distribution_config, local_aws):
    default = distribution_config["DefaultCacheBehavior"]
    behaviors = {b["PathPattern"]: b for b in distribution_config["CacheBehaviors"]["Items"]}
    assert default["TargetOriginId"] == "load-balancer"
    assert behaviors["/images/*"]["TargetOriginId"] == "image-bucket"
    assert behaviors["/images/*"]["MinTTL"] == 31536000
    resize_keys = behaviors["/img/*"]["ForwardedValues"]["QueryStringCacheKeys"]["Items"]
    assert resize_keys == ["dpr", "fit", "fmt", "gravity", "h", "q", "s", "w"]  # sorted
    assert behaviors["/api/*"]["ForwardedValues"]["QueryString"] is True
    assert behaviors["/api/*"]["MaxTTL"] <= 300
    # fmt=auto: the edge function reduces Accept, and only /img/* keys (and forwards) it.
    assert behaviors["/img/*"]["ForwardedValues"]["Headers"]["Items"] == ["Accept"]
    assert all(not b["ForwardedValues"].get("Headers", {}).get("Items") for p, b in behaviors.items() if p != "/img/*")
    (association,) = behaviors["/img/*"]["FunctionAssociations"]["Items"]
    assert association["EventType"] == "viewer-request"
    name = association["FunctionARN"].rsplit("/", 1)[1]
    live = local_aws.client("cloudfront").get_function(Name=name, Stage="LIVE")["FunctionCode"].read().decode()
    assert live == (PROJECT_ROOT / "roles/cdn/files/image_format.js").read_text().rstrip("\n")
    for behavior in [default, *behaviors.values()]:
        assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
        assert behavior["Compress"] is True
    assert distribution_config["PriceClass"] == "PriceClass_100"


# Monitoring, tags, outputs


def test_alarms_watch_5xx_unhealthy_hosts_and_response_time(build, local_aws):
    alarms = local_aws.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{STACK}-")["MetricAlarms"]
    assert {a["MetricName"] for a in alarms} == {
        "HTTPCode_ELB_5XX_Count",
        "HTTPCode_Target_5XX_Count",
        "UnHealthyHostCount",
        "TargetResponseTime",
    }
    assert all(a["Namespace"] == "AWS/ApplicationELB" and a["Dimensions"] for a in alarms)


def test_every_tagged_resource_carries_the_stack_tags(build, local_aws, ec2):
    census = StackCensus(local_aws, STACK)
    resources = census.ec2_resources
    prefixes = {r.split("-")[0] for r in resources}
    assert prefixes >= {"vpc", "subnet", "igw", "nat", "rtb", "sg", "lt", "i"}
    for resource in resources:
        tags = {
            t["Key"]: t["Value"]
            for t in ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [resource]}])["Tags"]
        }
        assert REQUIRED_TAGS.items() <= tags.items(), resource
    assert set(census.everything()) >= {"ec2", "elbv2", "autoscaling", "s3", "dynamodb", "cloudfront", "iam", "ssm"}


def test_outputs_file_describes_the_stack(outputs, local_aws):
    cf = local_aws.client("cloudfront")
    distribution = cf.get_distribution(Id=outputs["cloudfront_distribution_id"])["Distribution"]
    assert outputs["cloudfront_domain"] == distribution["DomainName"]
    lb = local_aws.client("elbv2").describe_load_balancers(Names=[f"{STACK}-alb"])["LoadBalancers"][0]
    assert outputs["load_balancer_dns"] == lb["DNSName"]
    assert outputs["stack_name"] == STACK and outputs["target"] == "local"


def test_the_demo_image_set_is_published(outputs, local_aws):
    demo = [p for p in (PROJECT_ROOT / "files/images").rglob("*") if p.suffix in {".jpg", ".png", ".webp", ".gif"}]
    keys = local_aws.client("s3").list_objects_v2(Bucket=outputs["bucket"], Prefix="images/").get("KeyCount")
    table = local_aws.client("dynamodb").scan(TableName=outputs["table"], Select="COUNT")["Count"]
    assert len(demo) >= 60
    assert keys == len(demo) == outputs["images"]
    assert table == len(demo) + 1  # one item per image and the catalog version item


# A second stack, with a certificate


ORIGIN_NAME = "origin.it-tls.example.com"


@pytest.fixture(scope="module")
def tls_settings(local_aws) -> dict:
    """An issued certificate for the origin name (imported, as ACM issues it at once) and the
    Route 53 zone the origin name's alias record goes into. The second stack also takes the other
    network layout (a NAT gateway in each zone) and another instance port."""
    certificate, key = self_signed(ORIGIN_NAME)
    arn = local_aws.client("acm").import_certificate(Certificate=certificate, PrivateKey=key)["CertificateArn"]
    zone = local_aws.client("route53").create_hosted_zone(Name="it-tls.example.com", CallerReference=TLS_STACK)
    return {
        "network_nat_per_zone": True,
        "load_balancer_target_port": 8080,
        "tls_certificate_arn": arn,
        "origin_domain_name": ORIGIN_NAME,
        "dns_hosted_zone_id": zone["HostedZone"]["Id"].removeprefix("/hostedzone/"),
    }


@pytest.fixture(scope="module")
def tls_stack(build, playbook, tls_settings):
    """The second stack, built once the first exists (torn down by a test near the end)."""
    run = playbook("site.yml", stack=TLS_STACK, **tls_settings)
    assert run.returncode == 0, run.tail()
    return {"certificate": tls_settings["tls_certificate_arn"], "settings": tls_settings, **outputs_of(TLS_STACK)}


def origin_records(local_aws, tls_settings) -> list[dict]:
    listing = local_aws.client("route53").list_resource_record_sets(HostedZoneId=tls_settings["dns_hosted_zone_id"])
    return [r for r in listing["ResourceRecordSets"] if r["Name"].rstrip(".") == ORIGIN_NAME]


def test_the_two_stacks_share_no_resource(tls_stack, outputs, local_aws):
    for key in ("vpc_id", "bucket", "table", "autoscaling_group", "load_balancer_dns", "cloudfront_distribution_id"):
        assert outputs[key] and tls_stack[key] and outputs[key] != tls_stack[key], key
    census = {stack: StackCensus(local_aws, stack).everything() for stack in (STACK, TLS_STACK)}
    for service in census[STACK]:
        assert not set(census[STACK][service]) & set(census[TLS_STACK].get(service, [])), service


def test_the_only_listener_is_https_and_requires_the_header(tls_stack, local_aws):
    """No HTTP listener: the security group admits only 443, so nobody could reach one."""
    elb = local_aws.client("elbv2")
    lb = elb.describe_load_balancers(Names=[f"{TLS_STACK}-alb"])["LoadBalancers"][0]
    listeners = {
        item["Port"]: item for item in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    }
    assert set(listeners) == {443}
    https = listeners[443]
    assert https["Protocol"] == "HTTPS"
    assert https["Certificates"][0]["CertificateArn"] == tls_stack["certificate"]
    assert https["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    rules = [r for r in elb.describe_rules(ListenerArn=https["ListenerArn"])["Rules"] if not r["IsDefault"]]
    assert rules[0]["Conditions"][0]["HttpHeaderConfig"]["HttpHeaderName"] == "X-Origin-Verify"


def test_only_443_is_open_to_cloudfront(tls_stack, local_aws):
    groups = local_aws.client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [f"{TLS_STACK}-alb"]}]
    )
    assert [p["FromPort"] for p in groups["SecurityGroups"][0]["IpPermissions"]] == [443]


def test_the_instance_port_is_one_setting(tls_stack, local_aws):
    """load_balancer_target_port: the target group sends to it and the instances' group opens it,
    to the load balancer only (the security_groups role's own default is not used by site.yml)."""
    port = tls_stack["settings"]["load_balancer_target_port"]
    group = local_aws.client("elbv2").describe_target_groups(Names=[f"{TLS_STACK}-web"])["TargetGroups"][0]
    assert group["Port"] == port
    groups = local_aws.client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [f"{TLS_STACK}-instances"]}]
    )
    assert [(p["FromPort"], p["ToPort"]) for p in groups["SecurityGroups"][0]["IpPermissions"]] == [(port, port)]


def test_cloudfront_talks_https_to_the_load_balancer(tls_stack, local_aws):
    cf = local_aws.client("cloudfront")
    config = cf.get_distribution_config(Id=tls_stack["cloudfront_distribution_id"])["DistributionConfig"]
    origin = {o["Id"]: o for o in config["Origins"]["Items"]}["load-balancer"]
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origin["CustomOriginConfig"]["OriginSslProtocols"]["Items"] == ["TLSv1.2"]
    # The name the certificate covers, not the load balancer's own (which no certificate covers).
    assert origin["DomainName"] == ORIGIN_NAME == tls_stack["origin_domain_name"]


def test_the_origin_name_is_an_alias_of_the_load_balancer(tls_stack, local_aws):
    lb = local_aws.client("elbv2").describe_load_balancers(Names=[f"{TLS_STACK}-alb"])["LoadBalancers"][0]
    (record,) = origin_records(local_aws, tls_stack["settings"])
    assert record["Type"] == "A"
    assert record["AliasTarget"]["DNSName"].rstrip(".").lower() == lb["DNSName"].lower()
    assert record["AliasTarget"]["HostedZoneId"] == lb["CanonicalHostedZoneId"]


def test_a_nat_gateway_per_zone_carries_the_private_subnets_of_its_own_zone(tls_stack, ec2):
    vpc = [{"Name": "vpc-id", "Values": [tls_stack["vpc_id"]]}]
    subnets = ec2.describe_subnets(Filters=vpc)["Subnets"]
    zone_of = {subnet["SubnetId"]: subnet["AvailabilityZone"] for subnet in subnets}
    private = {s["SubnetId"] for s in by_tag(subnets, "Tier", "private")}
    # Selected by VpcId: moto's DescribeNatGateways ignores filters.
    nats = [n for n in ec2.describe_nat_gateways()["NatGateways"] if n["VpcId"] == tls_stack["vpc_id"]]
    zone_of_nat = {nat["NatGatewayId"]: zone_of[nat["SubnetId"]] for nat in nats if nat["State"] == "available"}
    assert len(zone_of_nat) == 2 and len(set(zone_of_nat.values())) == 2, "one NAT gateway in each zone"
    tables = ec2.describe_route_tables(Filters=vpc)["RouteTables"]
    routed = {}
    for table in tables:
        default = [r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
        for association in table.get("Associations", []):
            if association.get("SubnetId") in private:
                routed[association["SubnetId"]] = (table["RouteTableId"], default[0].get("NatGatewayId"))
    assert set(routed) == private
    assert all(zone_of_nat[nat] == zone_of[subnet] for subnet, (_table, nat) in routed.items())
    endpoints = ec2.describe_vpc_endpoints(Filters=vpc)["VpcEndpoints"]
    assert endpoints and all(set(e["RouteTableIds"]) == {t for t, _nat in routed.values()} for e in endpoints)


def test_a_second_run_of_the_tls_stack_changes_nothing(tls_stack, playbook):
    """The ACM ViewerCertificate and HTTPS listener compare equal to what the endpoint returns."""
    rerun = playbook("site.yml", stack=TLS_STACK, **tls_stack["settings"])
    assert rerun.returncode == 0, rerun.tail()
    assert rerun.changed == 0, rerun.changed_tasks()


# Lifecycle: rerun, dry run, teardown, re-create (in this order)


def test_second_run_changes_nothing(build, playbook):
    run = playbook("site.yml", stack=STACK)
    assert run.returncode == 0, run.tail()
    assert run.changed == 0, run.changed_tasks()


def test_check_mode_on_the_built_stack_runs_clean(build, playbook):
    run = playbook("site.yml", "--check", stack=STACK)
    assert run.returncode == 0, run.tail()
    # Nothing at all: amazon.aws.autoscaling_group's "would modify" for any existing group is
    # worked around in roles/compute/tasks/group_settings.yml.
    assert run.changed_tasks() == [], run.changed_tasks()


def test_teardown_leaves_nothing_spares_the_other_stack_and_a_second_teardown_changes_nothing(
    build, tls_stack, playbook, local_aws
):
    other_before = StackCensus(local_aws, TLS_STACK).everything()
    first = playbook("playbooks/teardown.yml", stack=STACK)
    assert first.returncode == 0, first.tail()
    assert StackCensus(local_aws, STACK).everything() == {}
    assert StackCensus(local_aws, TLS_STACK).everything() == other_before, "the other stack lost resources"
    second = playbook("playbooks/teardown.yml", stack=STACK)
    assert second.returncode == 0, second.tail()
    assert second.changed == 0, second.changed_tasks()


def test_create_after_teardown_works(playbook, local_aws):
    """The stack it re-creates goes with the session's endpoint."""
    run = playbook("site.yml", stack=STACK)
    assert run.returncode == 0, run.tail()
    assert "cloudfront" in StackCensus(local_aws, STACK).everything()


def test_tearing_down_the_tls_stack_leaves_nothing(tls_stack, playbook, local_aws):
    teardown = playbook("playbooks/teardown.yml", stack=TLS_STACK, **tls_stack["settings"])
    assert teardown.returncode == 0, teardown.tail()
    assert StackCensus(local_aws, TLS_STACK).everything() == {}
    assert origin_records(local_aws, tls_stack["settings"]) == [], "the origin name's alias record is gone"


# The deployer policy (every call of the runs above is allowed: tests/integration/conftest.py)

# Actions in docs/iam/deployer-policy.json that the local endpoint never sees as a call of their own.
NOT_A_CALL_HERE = {
    # AWS authorizes these as part of another call.
    "ec2:CreateTags": "tags given at creation (TagSpecifications) need it",
    "ec2:RunInstances": "Auto Scaling checks that the caller could launch from the group's launch template",
    "autoscaling:CreateOrUpdateTags": "tags given to CreateAutoScalingGroup need it",
    "dynamodb:TagResource": "tags given to CreateTable need it",
    "iam:TagRole": "tags given to CreateRole need it",
    "iam:TagInstanceProfile": "tags given to CreateInstanceProfile need it",
    "iam:PassRole": "creating the group with a launch template that names the instance profile",
    "iam:CreateServiceLinkedRole": "the first Auto Scaling group and load balancer of an account",
    # Runs with instances (the end-to-end layer and AWS), none here.
    "elasticloadbalancing:RegisterTargets": "the rolling release registers a target the group left out",
    "autoscaling:EnterStandby": "the rolling release takes a batch out of service",
    "autoscaling:ExitStandby": "the rolling release puts a batch back",
    "autoscaling:CompleteLifecycleAction": "a batch back from standby passes the launch hook",
    "autoscaling:DeleteTags": "the rolling release removes the MinSize it kept for a batch",
    "autoscaling:TerminateInstanceInAutoScalingGroup": "playbooks/smoke.yml terminates an instance in its group",
    "autoscaling:DescribeAutoScalingInstances": "playbooks/smoke.yml (autoscaling_instance reads them)",
    "elasticloadbalancing:DescribeTargetHealth": "the release and playbooks/ready.yml wait for healthy targets",
    "ec2:CreateLaunchTemplateVersion": "a changed launch template (new AMI or settings)",
    "ec2:ModifyLaunchTemplate": "making the new version the default",
    "cloudfront:GetInvalidation": "a catalog change finds its earlier invalidations (test_catalog.py)",
    "s3:GetObjectTagging": "the release bundle's upload (s3_object compares the object's tags)",
    # The AWS target's connection and inventory.
    "ssm:StartSession": "the amazon.aws.aws_ssm connection: one session per task on an instance",
    "ssm:TerminateSession": "closing it",
    "s3:GetObject": "the aws_ssm connection's file transfers (presigned by the controller), release reads",
    "ec2:DescribeInstances": "the amazon.aws.aws_ec2 inventory",
}


def test_the_deployer_policy_grants_nothing_the_runs_do_not_use(local_aws):
    """Least privilege, the other way round: each action the policy grants was called by this
    file's runs (build, rerun, check, teardown, re-create, TLS build and teardown), or is listed
    above with the reason the endpoint does not see it."""
    policy = Policy.load()
    used = recorded_actions(local_aws.url) | NOT_A_CALL_HERE.keys()
    unused = {granted for granted in policy.actions if not fnmatch.filter(used, granted)}
    assert not unused, f"docs/iam/deployer-policy.json grants actions no run calls: {sorted(unused)}"
    assert not not_allowed(policy, set(NOT_A_CALL_HERE)), "the policy must grant the listed actions"
    dropped = next(s for s in policy.statements if "elasticloadbalancing:CreateLoadBalancer" in s["Action"])
    assert not_allowed(policy.without(dropped["Sid"]), recorded_actions(local_aws.url)), (
        "without the load balancer statement the recorded calls must fail the policy"
    )
