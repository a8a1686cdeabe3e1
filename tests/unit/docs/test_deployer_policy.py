"""docs/iam/deployer-policy.json: a well-formed policy whose resource scopes are the names the roles
give a stack's resources (rendered from the roles' own defaults and tasks), and nothing wider.

Which actions it must grant is held to the calls of real runs by the integration layer
(tests/integration/conftest.py and test_stack.py); this file covers the resources, which the
local endpoint does not record."""

from __future__ import annotations

import jinja2
import pytest
import yaml

from tests.helpers.iam import DEPLOYER_POLICY, Policy, _as_list
from tests.helpers.playbook import PROJECT_ROOT

ACCOUNT, REGION, STACK = "123456789012", "eu-central-1", "images-prod"


def role_file(path: str) -> object:
    return yaml.safe_load((PROJECT_ROOT / "roles" / path).read_text())


def render(template: str, **variables) -> str:
    return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(template).render(**variables)


@pytest.fixture(scope="module")
def names() -> dict[str, str]:
    """The stack's resource names, as the roles derive them for STACK in ACCOUNT."""
    settle = next(task for task in role_file("storage/tasks/bucket_name.yml") if "ansible.builtin.set_fact" in task)
    facts = settle["ansible.builtin.set_fact"]
    context = {"stack_name": STACK, "storage_bucket_name": "", "storage_caller": {"account": ACCOUNT}}
    return {
        "bucket": render(facts["storage_bucket"], **context),
        "transfer_bucket": render(facts["storage_transfer_bucket"], **context),
        "table": render(role_file("storage/defaults/main.yml")["storage_table_name"], stack_name=STACK),
        "parameter": render(
            role_file("load_balancer/defaults/main.yml")["load_balancer_origin_secret_parameter"], stack_name=STACK
        ),
        "role": render(role_file("compute/defaults/main.yml")["compute_instance_role_name"], stack_name=STACK),
        "group": render(role_file("compute/defaults/main.yml")["compute_group_name"], stack_name=STACK),
        "function": render(role_file("cdn/defaults/main.yml")["cdn_image_format_function_name"], stack_name=STACK),
    }


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.load()


def test_the_policy_is_well_formed(policy):
    document = policy.document
    assert document["Version"] == "2012-10-17"
    sids = [statement["Sid"] for statement in policy.statements]
    assert len(sids) == len(set(sids)), "statement ids are unique"
    for statement in policy.statements:
        assert statement["Effect"] == "Allow"
        assert statement["Action"] and statement["Resource"], statement["Sid"]
        wildcards = [action for action in statement["Action"] if "*" in action]
        # Wildcards only read, or reach only the stack's own resources (the edge function: every
        # action on it, from Create to Publish, and on nothing else).
        scoped = "*" not in _as_list(statement["Resource"])
        assert scoped or all(action.split(":")[1] == "Describe*" for action in wildcards), (
            f"{statement['Sid']}: read-only"
        )
    characters = len("".join(DEPLOYER_POLICY.read_text().split()))
    assert characters <= 6144, "a managed policy holds at most 6,144 characters (white space not counted)"


def test_the_stacks_own_resources_are_in_scope(policy, names):
    arn = {
        "bucket": f"arn:aws:s3:::{names['bucket']}",
        "object": f"arn:aws:s3:::{names['bucket']}/images/ab/cat.jpg",
        "transfer": f"arn:aws:s3:::{names['transfer_bucket']}",
        "transfer_object": f"arn:aws:s3:::{names['transfer_bucket']}/i-0123/file",
        "table": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{names['table']}",
        "parameter": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{names['parameter'].lstrip('/')}",
        "role": f"arn:aws:iam::{ACCOUNT}:role/{names['role']}",
        "profile": f"arn:aws:iam::{ACCOUNT}:instance-profile/{names['role']}",
        "group": f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:0a1b:autoScalingGroupName/{names['group']}",
        "function": f"arn:aws:cloudfront::{ACCOUNT}:function/{names['function']}",
    }
    for action, resource in [
        ("s3:CreateBucket", arn["bucket"]),
        ("s3:PutBucketPolicy", arn["bucket"]),
        ("s3:PutObject", arn["object"]),
        ("s3:DeleteObjectVersion", arn["object"]),
        ("s3:CreateBucket", arn["transfer"]),
        ("s3:PutObject", arn["transfer_object"]),
        ("s3:GetObject", arn["transfer_object"]),
        ("dynamodb:CreateTable", arn["table"]),
        ("dynamodb:BatchWriteItem", arn["table"]),
        ("ssm:PutParameter", arn["parameter"]),
        ("ssm:GetParameter", arn["parameter"]),
        ("iam:CreateRole", arn["role"]),
        ("iam:PutRolePolicy", arn["role"]),
        ("iam:PassRole", arn["role"]),
        ("iam:CreateInstanceProfile", arn["profile"]),
        ("autoscaling:EnterStandby", arn["group"]),
        ("autoscaling:ExitStandby", arn["group"]),
        ("autoscaling:CompleteLifecycleAction", arn["group"]),
        ("autoscaling:DeleteTags", arn["group"]),
        ("autoscaling:TerminateInstanceInAutoScalingGroup", arn["group"]),  # playbooks/smoke.yml
        ("cloudfront:CreateFunction", arn["function"]),
        ("cloudfront:PublishFunction", arn["function"]),
        ("cloudfront:DeleteFunction", arn["function"]),
    ]:
        assert policy.allows(action, resource), f"{action} on {resource}"


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("s3:PutObject", "arn:aws:s3:::someone-elses-bucket/key"),
        ("s3:DeleteBucket", "arn:aws:s3:::billing-reports"),
        ("dynamodb:DeleteTable", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"),
        ("ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/prod/database-password"),
        ("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/Administrator"),
        ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/Administrator"),
        (
            "autoscaling:EnterStandby",
            f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:0a1b:autoScalingGroupName/batch-jobs",
        ),
        (
            "autoscaling:DeleteTags",
            f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:0a1b:autoScalingGroupName/batch-jobs",
        ),
        ("cloudfront:UpdateFunction", f"arn:aws:cloudfront::{ACCOUNT}:function/auth-at-edge"),
        ("cloudfront:DeleteFunction", f"arn:aws:cloudfront::{ACCOUNT}:function/{STACK}-image-format-old"),
        (
            "autoscaling:TerminateInstanceInAutoScalingGroup",
            f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:0a1b:autoScalingGroupName/batch-jobs",
        ),
    ],
)
def test_other_resources_of_the_account_are_out_of_scope(policy, action, resource):
    assert not policy.allows(action, resource)
