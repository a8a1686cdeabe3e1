"""IAM on the local endpoint as on AWS: scoped policies, instance profiles and instance metadata.

Each fix is shown against moto in process with IAM enforced (moto's INITIAL_NO_AUTH_ACTION_COUNT
spent), with the identities the endpoint creates (local_aws/identities.py).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import botocore.exceptions
import pytest

from local_aws import identities
from local_aws.fixes import applied, iam_policy_evaluation, instance_metadata, instance_profiles
from local_aws.fixes.iam_policy_evaluation import is_allowed, request_resources

from .conftest import REGION

PROJECT_ROOT = Path(__file__).resolve().parents[3]
DEPLOYER_POLICY = json.loads((PROJECT_ROOT / "docs" / "iam" / "deployer-policy.json").read_text())
DEPLOYER = identities.Identity("deployer", "UNITDEPLOYER00000000", "unit-deployer-secret-key", DEPLOYER_POLICY)
ACCOUNT = identities.ACCOUNT_ID


def as_identity(identity: identities.Identity, service: str, **credentials: str):
    return boto3.client(
        service, region_name=REGION,
        aws_access_key_id=credentials.get("key", identity.access_key),
        aws_secret_access_key=credentials.get("secret", identity.secret_key),
        aws_session_token=credentials.get("token"),
    )  # fmt: skip


def admin(service: str):
    return as_identity(identities.ADMIN, service)


@pytest.fixture
def enforced(aws) -> Iterator[None]:
    """moto with IAM enforced from the first request and the administrator and deployer created."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    identities.create([identities.ADMIN, DEPLOYER])
    before = settings.INITIAL_NO_AUTH_ACTION_COUNT
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0
    try:
        yield
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = before


def denied(call) -> bool:
    try:
        call()
    except botocore.exceptions.ClientError as error:
        return error.response["ResponseMetadata"]["HTTPStatusCode"] == 403 or "AccessDenied" in str(error)
    return False


def create_table(name: str) -> None:
    admin("dynamodb").create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "image_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "image_id", "AttributeType": "S"}],
    )  # fmt: skip


# The evaluation rule (pure)

ALLOW_TABLE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "arn:aws:dynamodb:*:*:table/a-*"}],
}


def test_an_allow_grants_only_its_actions_and_resources():
    table_a, table_b = "arn:aws:dynamodb:eu-west-1:1:table/a-catalog", "arn:aws:dynamodb:eu-west-1:1:table/b-catalog"
    assert is_allowed([ALLOW_TABLE], ("dynamodb:GetItem",), (table_a,))
    assert not is_allowed([ALLOW_TABLE], ("dynamodb:GetItem",), (table_b,))
    assert not is_allowed([ALLOW_TABLE], ("s3:GetObject",), (table_a,))
    assert not is_allowed([ALLOW_TABLE], ("dynamodb:GetItem",), (table_a, table_b)), "every table of a batch"


def test_actions_match_case_insensitively_and_an_explicit_deny_wins():
    deny = {"Statement": [{"Effect": "Deny", "Action": "dynamodb:deleteitem", "Resource": "*"}]}
    assert is_allowed([ALLOW_TABLE], ("DynamoDB:getitem",), ("arn:aws:dynamodb:eu-west-1:1:table/a-x",))
    assert not is_allowed([ALLOW_TABLE, deny], ("dynamodb:DeleteItem",), ("arn:aws:dynamodb:eu-west-1:1:table/a-x",))


def test_not_action_and_an_unknown_resource():
    everything_but_iam = {"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:ec2:*:*:vpc/*"}]}
    assert is_allowed([everything_but_iam], ("ec2:CreateVpc",), (None,)), "no resource known: the action decides"
    assert not is_allowed([everything_but_iam], ("iam:CreateRole",), (None,))
    assert is_allowed([], ("sts:GetCallerIdentity",), (None,)), "AWS answers it for any caller"


def test_requests_are_checked_against_the_resources_aws_checks():
    assert request_resources("ssm", "GetParameter", {}, b'{"Name": "/s/origin-secret"}', REGION, ACCOUNT) == (
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/s/origin-secret",
    )
    batch = json.dumps({"RequestItems": {"t1": {}, "t2": {}}}).encode()
    assert request_resources("dynamodb", "BatchGetItem", {}, batch, REGION, ACCOUNT) == (
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t1",
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t2",
    )
    assert request_resources("ec2", "CreateVpc", {}, b"", REGION, ACCOUNT) == (None,)
    function = f"arn:aws:cloudfront::{ACCOUNT}:function/s-image-format"
    path = "/2020-05-31/function/s-image-format/publish"
    assert request_resources("cloudfront", "PublishFunction", {}, b"", REGION, ACCOUNT, path) == (function,)
    create = (
        b'<CreateFunctionRequest xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Name>s-image-format</Name>'
    )
    assert request_resources("cloudfront", "CreateFunction", {}, create, REGION, ACCOUNT, "/2020-05-31/function") == (
        function,
    )
    assert request_resources(
        "cloudfront", "ListDistributions", {}, b"", REGION, ACCOUNT, "/2020-05-31/distribution"
    ) == (None,)


# Against moto with IAM enforced


def test_moto_denies_the_deployer_its_own_table_without_the_fix(enforced):
    create_table("s-catalog")
    assert denied(lambda: as_identity(DEPLOYER, "dynamodb").describe_table(TableName="s-catalog"))


def test_the_deployer_policy_is_enforced_with_its_scopes(enforced):
    with applied([iam_policy_evaluation.FIX]):
        create_table("s-catalog")
        create_table("s-other")
        dynamodb, ssm = as_identity(DEPLOYER, "dynamodb"), as_identity(DEPLOYER, "ssm")
        assert dynamodb.describe_table(TableName="s-catalog")["Table"]["TableName"] == "s-catalog"
        assert denied(lambda: dynamodb.describe_table(TableName="s-other")), "a table the policy does not name"
        admin("ssm").put_parameter(Name="/s/other-setting", Value="v", Type="String")
        assert denied(lambda: ssm.get_parameter(Name="/s/other-setting"))
        assert as_identity(DEPLOYER, "ec2").describe_vpcs()["Vpcs"] is not None
        cloudfront, code = as_identity(DEPLOYER, "cloudfront"), b"function handler(e) { return e.request; }"
        config = {"Comment": "", "Runtime": "cloudfront-js-2.0"}
        cloudfront.create_function(Name="s-image-format", FunctionConfig=config, FunctionCode=code)
        assert denied(lambda: cloudfront.create_function(Name="s-auth", FunctionConfig=config, FunctionCode=code))
        assert denied(lambda: as_identity(DEPLOYER, "iam").create_user(UserName="someone"))
        bad_secret = as_identity(DEPLOYER, "ec2", secret="not-the-deployers-secret")
        with pytest.raises(botocore.exceptions.ClientError, match=r"AuthFailure|validate"):
            bad_secret.describe_vpcs()


def test_moto_refuses_the_signature_of_a_get_without_a_query_string_without_the_fix(enforced):
    with pytest.raises(botocore.exceptions.ClientError):
        admin("cloudfront").list_distributions()


def test_a_get_without_a_query_string_is_signed_over_its_empty_body_with_the_fix(enforced):
    with applied([iam_policy_evaluation.FIX]):
        assert admin("cloudfront").list_distributions()["DistributionList"]["Quantity"] == 0
        assert as_identity(DEPLOYER, "cloudfront").list_origin_access_controls()["OriginAccessControlList"]


def test_a_policy_without_a_statement_the_run_needs_is_denied_that_call(enforced):
    """Removing the deployer policy's CatalogTable statement denies creating the catalog table."""
    trimmed = {**DEPLOYER_POLICY, "Statement": [s for s in DEPLOYER_POLICY["Statement"] if s["Sid"] != "Catalog"]}
    lesser = identities.Identity("lesser", "UNITLESSER0000000000", "unit-lesser-secret-key", trimmed)
    identities.create([lesser])
    with applied([iam_policy_evaluation.FIX]):
        create = as_identity(lesser, "dynamodb").create_table
        assert denied(lambda: create(
            TableName="s-catalog", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "image_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "image_id", "AttributeType": "S"}],
        ))  # fmt: skip


# Instance profiles and the instance metadata service


def launch_instance_with_role(bucket_arn: str) -> str:
    iam = admin("iam")
    ec2_principal = {"Service": "ec2.amazonaws.com"}
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": ec2_principal, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName="s-instance", AssumeRolePolicyDocument=json.dumps(trust))
    reads = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket_arn}/*"}],
    }
    iam.put_role_policy(RoleName="s-instance", PolicyName="reads", PolicyDocument=json.dumps(reads))
    profile = iam.create_instance_profile(InstanceProfileName="s-instance")["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName="s-instance", RoleName="s-instance")
    ec2 = admin("ec2")
    ec2.create_launch_template(
        LaunchTemplateName="web",
        LaunchTemplateData={"ImageId": "ami-12345678", "IamInstanceProfile": {"Arn": profile["Arn"]}},
    )
    admin("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName="web", LaunchTemplate={"LaunchTemplateName": "web"},
        MinSize=1, MaxSize=1, AvailabilityZones=[f"{REGION}a"],
    )  # fmt: skip
    (instance,) = admin("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"][0]["Instances"]
    return instance["InstanceId"]


def described_profile(instance_id: str) -> dict | None:
    (reservation,) = admin("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"]
    return reservation["Instances"][0].get("IamInstanceProfile")


def test_group_instances_lack_the_templates_profile_without_the_fix(aws):
    identities.create([identities.ADMIN])
    assert described_profile(launch_instance_with_role("arn:aws:s3:::b")) is None


def test_group_instances_carry_the_templates_profile_with_the_fix(aws):
    identities.create([identities.ADMIN])
    with applied([instance_profiles.FIX]):
        profile = described_profile(launch_instance_with_role("arn:aws:s3:::b"))
    assert profile and profile["Arn"].endswith(":instance-profile/s-instance")


def metadata(instance_id: str, path: str, method: str = "GET", **headers: str) -> tuple[str, str]:
    """One request to the metadata service's WSGI answer: (status, body)."""
    environ = {
        "PATH_INFO": f"{instance_metadata.PREFIX}{instance_id}/{path}", "REQUEST_METHOD": method,
        "wsgi.input": io.BytesIO(b""),
        **{"HTTP_" + name.upper(): value for name, value in headers.items()},
    }  # fmt: skip
    status: list[str] = []
    body = b"".join(instance_metadata.answer(environ, lambda code, _headers: status.append(code)))
    return status[0], body.decode()


def token(instance_id: str) -> str:
    status, body = metadata(instance_id, "latest/api/token", "PUT", X_AWS_EC2_METADATA_TOKEN_TTL_SECONDS="60")
    assert status.startswith("200"), status
    return body


def test_the_metadata_service_requires_a_session_token_of_the_instance(enforced):
    with applied([instance_profiles.FIX]):
        instance_id = launch_instance_with_role("arn:aws:s3:::b")
    assert metadata(instance_id, "latest/meta-data/instance-id")[0].startswith("401"), "IMDSv1 is refused"
    assert metadata(instance_id, "latest/api/token", "PUT")[0].startswith("400"), "a token needs a TTL"
    assert metadata("i-00000000000000000", "latest/api/token", "PUT")[0].startswith("404")
    own = token(instance_id)
    answer = metadata(instance_id, "latest/meta-data/instance-id", X_AWS_EC2_METADATA_TOKEN=own)
    assert answer == ("200 OK", instance_id)
    assert metadata(instance_id, "latest/meta-data/iam/security-credentials/", X_AWS_EC2_METADATA_TOKEN=own) == (
        "200 OK", "s-instance",
    )  # fmt: skip


def test_an_instance_signs_as_its_role_and_gets_only_what_the_role_allows(enforced):
    s3 = admin("s3")
    for bucket in ("s-images", "other-images"):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with applied([instance_profiles.FIX, iam_policy_evaluation.FIX]):
        instance_id = launch_instance_with_role("arn:aws:s3:::s-images")
        own = token(instance_id)
        status, body = metadata(
            instance_id, "latest/meta-data/iam/security-credentials/s-instance", X_AWS_EC2_METADATA_TOKEN=own
        )
        assert status == "200 OK"
        credentials = json.loads(body)
        assert credentials["Code"] == "Success" and credentials["AccessKeyId"].startswith("ASIA")
        role = as_identity(
            identities.ADMIN, "s3",
            key=credentials["AccessKeyId"], secret=credentials["SecretAccessKey"], token=credentials["Token"],
        )  # fmt: skip
        assert role.get_object(Bucket="s-images", Key="k")["Body"].read() == b"x"
        assert denied(lambda: role.get_object(Bucket="other-images", Key="k")), "another stack's bucket"
        assert denied(lambda: role.put_object(Bucket="s-images", Key="k", Body=b"y")), "the role only reads"


def test_starting_again_brings_an_identity_up_to_date(aws):
    """`start` on a running endpoint re-sends its identities: an edited policy applies, an
    unchanged identity is left alone, and the user keeps exactly the one key pair asked for."""
    from moto.iam.models import iam_backends

    assert identities.create([DEPLOYER]) == ["deployer"]
    assert identities.create([DEPLOYER]) == []
    narrower = identities.Identity(DEPLOYER.name, DEPLOYER.access_key, DEPLOYER.secret_key, ALLOW_TABLE)
    assert identities.create(identities.from_json(identities.as_json([narrower]))) == ["deployer"]
    user = iam_backends[ACCOUNT]["aws"].users["deployer"]
    assert [key.access_key_id for key in user.access_keys] == [DEPLOYER.access_key]
    assert json.loads(user.policies["deployer-policy"]) == ALLOW_TABLE


def test_an_identity_needs_a_policy_document(tmp_path):
    (tmp_path / "policy.json").write_text('{"not": "a policy"}')
    with pytest.raises(ValueError, match="not an IAM policy"):
        identities.Identity.parse(f"x,KEY,SECRET,{tmp_path / 'policy.json'}")
    with pytest.raises(ValueError, match="NAME,ACCESS_KEY"):
        identities.Identity.parse("x,KEY")


def test_deleting_many_objects_is_authorised_per_object(enforced):
    """DeleteObjects (s3_bucket's force delete in teardown) needs s3:DeleteObject on each key, not
    on the bucket: a policy granting it on `bucket/*` may empty the bucket."""
    admin("s3").create_bucket(Bucket="s-images-1", CreateBucketConfiguration={"LocationConstraint": REGION})
    admin("s3").put_object(Bucket="s-images-1", Key="images/a b&c.jpg", Body=b"x")
    with applied([iam_policy_evaluation.FIX]):
        deleted = as_identity(DEPLOYER, "s3").delete_objects(
            Bucket="s-images-1", Delete={"Objects": [{"Key": "images/a b&c.jpg"}]}
        )
    assert [item["Key"] for item in deleted.get("Deleted", [])] == ["images/a b&c.jpg"], deleted
