"""S3 bucket policies: a statement whose condition does not hold does not apply.

Upstream gap (moto 5.2.5, moto/iam/access_control.py and policy_conditions.py): moto evaluates only
the StringEquals operator and ignores every other one (Bool, StringLike, ...), so a conditional
Deny always applies; when a condition does not match it returns DENIED whatever the statement's
Effect; and it supplies no request context such as `aws:SecureTransport`. AWS applies a statement
only when its condition holds. So the usual TLS-only statement
(Deny if aws:SecureTransport is false) and a CloudFront-only Allow (condition on AWS:SourceArn) make
moto refuse every PutObject and GetObject of the bucket's own account, which AWS allows.

The fix evaluates bucket policies statement by statement with AWS's rule (a non-matching condition
makes the statement neutral) and treats requests as sent over TLS: the local endpoint stands in for
AWS's HTTPS endpoint and is reachable on loopback only.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from ._patching import Fix

REQUEST_CONTEXT = {"aws:SecureTransport": "true"}


def condition_holds(condition: dict, context: dict[str, str]) -> bool:
    """AWS's rule for the operators bucket policies commonly use: every operator and key must hold;
    a key missing from the context fails the test unless the operator ends in IfExists; an
    operator this function does not know makes the statement not apply."""
    known = {key.lower(): value for key, value in context.items()}
    for operator, tests in condition.items():
        base = operator.removesuffix("IfExists")
        for key, expected in tests.items():
            expected_values = [str(v) for v in (expected if isinstance(expected, list) else [expected])]
            actual = known.get(key.lower())
            if actual is None:
                if operator.endswith("IfExists"):
                    continue
                return False
            if base in ("StringEquals", "ArnEquals"):
                holds = actual in expected_values
            elif base == "Bool":
                holds = actual.lower() in [v.lower() for v in expected_values]
            elif base == "StringNotEquals":
                holds = actual not in expected_values
            elif base in ("StringLike", "ArnLike"):
                holds = any(fnmatch.fnmatchcase(actual, v) for v in expected_values)
            else:
                return False
            if not holds:
                return False
    return True


def bucket_permission(policy_document: str, action: str, resource: str) -> Any:
    """AWS's evaluation of a bucket policy for a request: DENIED wins, then PERMITTED, else NEUTRAL."""
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    statements = json.loads(policy_document).get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    result = PermissionResult.NEUTRAL
    for document in statements:
        statement = IAMPolicyStatement(document)
        if not condition_holds(document.get("Condition", {}), REQUEST_CONTEXT):
            continue  # AWS: a statement whose condition does not hold does not apply
        outcome = statement.is_action_permitted(action, resource)
        if outcome == PermissionResult.DENIED:
            return outcome
        if outcome == PermissionResult.PERMITTED:
            result = outcome
    return result


def _patches() -> list[tuple[Any, str, Any]]:
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self: FakeBucket, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        return bucket_permission(self.policy.decode(), action, resource)

    return [(FakeBucket, "get_permission", get_permission)]


FIX = Fix(
    name="s3-bucket-policy-conditions",
    upstream_gap="bucket policy statements whose condition does not match deny instead of not applying",
    patches=_patches,
)
