"""IAM identity policies evaluated as AWS evaluates them, for every signed request.

Upstream gaps (moto 5.2.5, moto/iam/access_control.py, whose docstring lists them as TODOs):
- every service but S3 is authorised against the resource "*", so an Allow scoped to an ARN
  (``arn:aws:dynamodb:*:*:table/*-catalog``) never matches and a correctly scoped policy is denied
  everything;
- actions are matched case-sensitively (IAM matches them case-insensitively), under moto's own
  S3 action names (no s3:GetEncryptionConfiguration, s3:PutLifecycleConfiguration, ...);
- an Allow statement whose condition moto cannot evaluate counts as an explicit Deny;
- a request without a signature raises a KeyError (a 500) instead of being refused;
- the signature of a request without a body is computed over moto's parsed parameters, which
  for a GET without a query string are the request's headers: every such GET (CloudFront's
  ListDistributions, ListOriginAccessControls, GetDistributionConfig, ...) fails with
  SignatureDoesNotMatch. The payload AWS signs is the body, empty or not.

This fix replaces moto's check with AWS's rule for identity policies: an explicit Deny that matches
wins, else an Allow that matches grants, else the request is denied. Each request is checked as
the IAM actions AWS checks for it (iam_action_log's tables: S3 by method and subresource, the
API names that map to other actions), against the resource AWS checks where the request names it:

- S3: the bucket or object ARN (DeleteObjects: every object it names);
- DynamoDB: the table ARN of ``TableName`` (and every table of a batch's ``RequestItems``);
- SSM Parameter Store: the parameter ARN of ``Name`` / ``Names``;
- Auto Scaling: the group's ARN (with its id) for a call naming ``AutoScalingGroupName``;
- CloudFront Functions: the function's ARN (named in the path, or in CreateFunction's body).

For other requests the statement's Resource is not evaluated (the action alone decides), and
conditions are not evaluated (an Allow with a condition applies). docs/local-data-plane.md lists
what is enforced; tests/unit/docs/test_deployer_policy.py holds the policy's resource scopes and
conditions to what the playbooks need. Unsigned requests are refused, except S3 object reads,
which moto already decides by the bucket policy and the object's ACL, as AWS does.

Enforcement is on when moto's INITIAL_NO_AUTH_ACTION_COUNT is spent (the server sets it to 0).
"""

from __future__ import annotations

import fnmatch
import html
import json
import re
from typing import Any
from urllib.parse import unquote

from ._patching import Fix
from .iam_action_log import CREDENTIAL, iam_actions, s3_actions

ALWAYS_ALLOWED = {"sts:GetCallerIdentity"}


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _action_matches(statement: dict, action: str) -> bool:
    def matches(patterns: Any) -> bool:
        return any(fnmatch.fnmatchcase(action.lower(), str(pattern).lower()) for pattern in _as_list(patterns))

    if "NotAction" in statement:
        return not matches(statement["NotAction"])
    return matches(statement.get("Action", []))


def _resource_matches(statement: dict, resource: str | None) -> bool:
    if resource is None:
        return True  # the request names no resource this emulation knows: the action decides
    if "NotResource" in statement:
        return not any(fnmatch.fnmatchcase(resource, pattern) for pattern in _as_list(statement["NotResource"]))
    if "Resource" not in statement:
        return True
    return any(fnmatch.fnmatchcase(resource, pattern) for pattern in _as_list(statement["Resource"]))


def statements(document: dict) -> list[dict]:
    return _as_list(document.get("Statement", []))


def is_allowed(documents: list[dict], actions: tuple[str, ...], resources: tuple[str | None, ...]) -> bool:
    """AWS's rule for identity policies, for every (action, resource) the request needs: an
    explicit Deny wins, an Allow grants, nothing matching denies. Conditions are not evaluated."""
    for action in actions:
        if action in ALWAYS_ALLOWED:
            continue
        for resource in resources:
            allowed = False
            for document in documents:
                for statement in statements(document):
                    if not (_action_matches(statement, action) and _resource_matches(statement, resource)):
                        continue
                    if statement.get("Effect") == "Deny":
                        return False
                    allowed = allowed or statement.get("Effect") == "Allow"
            if not allowed:
                return False
    return True


def s3_resources(method: str, resource: str, subresources: set[str], body: bytes) -> tuple[str, ...]:
    """The ARNs an S3 request is authorised against: its bucket or object, and for DeleteObjects
    (POST ?delete on the bucket) each object it names, as AWS checks s3:DeleteObject per key."""
    if method == "POST" and "delete" in subresources and "/" not in resource.split(":::", 1)[-1]:
        text = (body or b"").decode(errors="replace")
        keys = [html.unescape(key) for key in re.findall(r"<Key>(.*?)</Key>", text, re.DOTALL)]
        return tuple(f"{resource}/{key}" for key in keys) or (f"{resource}/*",)
    return (resource,)


def _parameter(data: dict, name: str) -> Any:
    value = data.get(name)
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def cloudfront_function_name(operation: str, path: str, body: bytes) -> str | None:
    """The function a CloudFront Functions call acts on: in the path (/function/<name>[/...]), or
    for CreateFunction in the XML body's Name."""
    if not operation.endswith("Function"):
        return None  # ListFunctions and the distribution calls: not scoped to a function here
    found = re.search(r"/function/([^/?]+)", path or "")
    if found:
        return unquote(found[1])
    named = re.search(rb"<Name>([^<]+)</Name>", body or b"")
    return named[1].decode() if named else None


def request_resources(
    service: str, operation: str, data: dict, body: bytes, region: str, account: str, path: str = ""
) -> tuple:
    """The resource ARNs AWS authorises this request against, or (None,) when this emulation does
    not derive them (the statement's Resource is then not evaluated)."""
    if service == "cloudfront":
        name = cloudfront_function_name(operation, path, body)
        return (f"arn:aws:cloudfront::{account}:function/{name}",) if name else (None,)
    if service in ("dynamodb", "ssm"):
        try:
            parameters = json.loads(body or b"{}")
        except ValueError:
            return (None,)
        if service == "dynamodb":
            batch = list(parameters.get("RequestItems") or {})
            tables = [parameters["TableName"]] if parameters.get("TableName") else batch
            return tuple(f"arn:aws:dynamodb:{region}:{account}:table/{table}" for table in tables) or (None,)
        names = [parameters["Name"]] if parameters.get("Name") else list(parameters.get("Names", []))
        return tuple(f"arn:aws:ssm:{region}:{account}:parameter/{name.lstrip('/')}" for name in names) or (None,)
    if service == "autoscaling" and not operation.startswith("Describe"):
        name = _parameter(data, "AutoScalingGroupName")
        if name:
            from moto.autoscaling.models import autoscaling_backends

            group = autoscaling_backends[account][region].autoscaling_groups.get(name)
            if group is not None:
                return (group.arn,)
    return (None,)


def _policy_document(policy: Any) -> dict:
    from moto.iam.access_control import IAMPolicy

    return IAMPolicy(policy)._policy_json


def _patches() -> list[tuple[Any, str, Any]]:
    from urllib.parse import parse_qs, urlsplit

    from botocore.awsrequest import AWSRequest
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.core.exceptions import AccessDeniedError
    from moto.iam.access_control import IAMRequestBase, S3IAMRequest
    from moto.s3.exceptions import S3AccessDeniedError

    def create_aws_request(self: IAMRequestBase) -> AWSRequest:
        signed_headers = self._get_string_between("SignedHeaders=", ",", self._headers["Authorization"]).split(";")
        headers = self._create_headers_for_aws_request(signed_headers, self._headers)
        body: Any = self._body
        if not body and "x-www-form-urlencoded" in self._headers.get("Content-Type", ""):
            body = self._data  # a form body: the server parsed it into the parameters
        request = AWSRequest(method=self._method, url=self._path, data=body or b"", headers=headers)
        request.context["timestamp"] = headers["X-Amz-Date"]
        return request

    def check_action_permitted(self: IAMRequestBase, resource: str) -> None:
        if isinstance(self, S3IAMRequest):
            query = parse_qs(urlsplit(self._path).query, keep_blank_values=True)
            actions = s3_actions(self._method, resource, set(query), dict(self._headers), self._body)
            actions = actions or (self._action,)
            resources: tuple = s3_resources(self._method, resource, set(query), self._body)
        else:
            service, _, operation = self._action.partition(":")
            recorded = iam_actions(self._headers.get("Authorization", ""), operation)
            actions = recorded[1] if recorded else (self._action,)
            resources = request_resources(
                service, operation, self._data, self._body, self._region, self.account_id, self._path
            )
        documents = [_policy_document(policy) for policy in self._access_key.collect_policies()]
        if not is_allowed(documents, actions, resources):
            self._raise_access_denied()

    original_authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        enforced = ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT
        if enforced and not CREDENTIAL.search(self.headers.get("Authorization", "")):
            is_object = "/" in resource.split(":::", 1)[-1]
            if iam_request_cls is S3IAMRequest and is_object and self.method in ("GET", "HEAD"):
                return  # an anonymous object read: moto applied the bucket policy and the object's ACL
            if iam_request_cls is S3IAMRequest:
                raise S3AccessDeniedError()
            raise AccessDeniedError(user_arn="anonymous", action=f"{self._get_action()} (the request is not signed)")
        return original_authorize(self, iam_request_cls, resource)

    return [
        (IAMRequestBase, "check_action_permitted", check_action_permitted),
        (IAMRequestBase, "_create_aws_request", create_aws_request),
        (ActionAuthenticatorMixin, "_authenticate_and_authorize_action", authorize),
    ]


FIX = Fix(
    name="iam-policy-evaluation",
    upstream_gap="scoped IAM policies are denied (resource '*' for non-S3 services), case-sensitive actions, "
    "unsigned requests crash",
    patches=_patches,
)
