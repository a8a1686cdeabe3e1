"""A record of the IAM actions each access key used, to hold the deployer policy to the real calls.

Upstream gap (moto 5.2.5): moto evaluates IAM policies only when INITIAL_NO_AUTH_ACTION_COUNT is
set, and then for every caller at once (the emulator's own machinery included), with no record of
what was asked. AWS's own answer to "which permissions does this job need" is a record of the
calls (CloudTrail, IAM Access Analyzer's policy generation); this is the endpoint's record.

Every request that reaches moto's authorization step is recorded under the access key id of its
signature, as the IAM action AWS would check: `<service prefix>:<action>`. A few API names differ
from the IAM action they need and are mapped (IAM_ACTIONS below). S3 authorizes by method and
subresource, not by API name (HeadBucket needs s3:ListBucket, GetBucketEncryption needs
s3:GetEncryptionConfiguration); moto's own table for that is incomplete (no encryption, ownership
controls, request payment or object lock; HeadBucket as an action), so S3 requests are mapped here
from AWS's Service Authorization Reference (S3_BUCKET_ACTIONS, S3_OBJECT_ACTIONS).

    GET    /local-aws/iam-actions    {"<access key id>": ["ec2:CreateVpc", ...], ...}
    DELETE /local-aws/iam-actions    forget the record
"""

from __future__ import annotations

import re
import threading
from typing import Any

from ._patching import Fix, json_answer, serve_route

ROUTE = "/local-aws/iam-actions"
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/[^/]+/([^/]+)/")
# Signing names that are not the service's IAM prefix.
IAM_PREFIXES = {"monitoring": "cloudwatch"}
# API operations authorized as other actions (AWS's Service Authorization Reference).
IAM_ACTIONS = {
    "cloudfront:CreateDistributionWithTags": ("cloudfront:CreateDistribution", "cloudfront:TagResource"),
}

# S3, by method and subresource ("" without one), as AWS's Service Authorization Reference lists.
S3_BUCKET_ACTIONS = {
    "HEAD": {"": "ListBucket"},
    "GET": {
        "": "ListBucket",
        "accelerate": "GetAccelerateConfiguration",
        "acl": "GetBucketAcl",
        "cors": "GetBucketCORS",
        "encryption": "GetEncryptionConfiguration",
        "lifecycle": "GetLifecycleConfiguration",
        "location": "GetBucketLocation",
        "logging": "GetBucketLogging",
        "notification": "GetBucketNotification",
        "object-lock": "GetBucketObjectLockConfiguration",
        "ownershipControls": "GetBucketOwnershipControls",
        "policy": "GetBucketPolicy",
        "policyStatus": "GetBucketPolicyStatus",
        "publicAccessBlock": "GetBucketPublicAccessBlock",
        "requestPayment": "GetBucketRequestPayment",
        "tagging": "GetBucketTagging",
        "uploads": "ListBucketMultipartUploads",
        "versioning": "GetBucketVersioning",
        "versions": "ListBucketVersions",
        "website": "GetBucketWebsite",
    },
    "PUT": {
        "": "CreateBucket",
        "accelerate": "PutAccelerateConfiguration",
        "acl": "PutBucketAcl",
        "cors": "PutBucketCORS",
        "encryption": "PutEncryptionConfiguration",
        "lifecycle": "PutLifecycleConfiguration",
        "logging": "PutBucketLogging",
        "notification": "PutBucketNotification",
        "object-lock": "PutBucketObjectLockConfiguration",
        "ownershipControls": "PutBucketOwnershipControls",
        "policy": "PutBucketPolicy",
        "publicAccessBlock": "PutBucketPublicAccessBlock",
        "requestPayment": "PutBucketRequestPayment",
        "tagging": "PutBucketTagging",
        "versioning": "PutBucketVersioning",
        "website": "PutBucketWebsite",
    },
    "DELETE": {
        "": "DeleteBucket",
        "cors": "PutBucketCORS",
        "encryption": "PutEncryptionConfiguration",
        "lifecycle": "PutLifecycleConfiguration",
        "ownershipControls": "PutBucketOwnershipControls",
        "policy": "DeleteBucketPolicy",
        "publicAccessBlock": "PutBucketPublicAccessBlock",
        "tagging": "PutBucketTagging",
        "website": "DeleteBucketWebsite",
    },
    "POST": {"delete": "DeleteObject"},
}
S3_OBJECT_ACTIONS = {
    "HEAD": {"": "GetObject", "versionId": "GetObjectVersion"},
    "GET": {
        "": "GetObject",
        "acl": "GetObjectAcl",
        "tagging": "GetObjectTagging",
        "uploadId": "ListMultipartUploadParts",
        "versionId": "GetObjectVersion",
    },
    "PUT": {"": "PutObject", "acl": "PutObjectAcl", "tagging": "PutObjectTagging", "uploadId": "PutObject"},
    "DELETE": {
        "": "DeleteObject",
        "tagging": "DeleteObjectTagging",
        "uploadId": "AbortMultipartUpload",
        "versionId": "DeleteObjectVersion",
    },
    "POST": {"": "PutObject", "restore": "RestoreObject", "uploadId": "PutObject", "uploads": "PutObject"},
}


def s3_actions(method: str, resource: str, subresources: set[str], headers: dict, body: bytes) -> tuple[str, ...]:
    """The IAM actions AWS checks for one S3 request on `resource` (arn:aws:s3:::bucket[/key])."""
    if resource.endswith(":::*"):
        return ("s3:ListAllMyBuckets",)
    table = S3_OBJECT_ACTIONS if "/" in resource.split(":::", 1)[-1] else S3_BUCKET_ACTIONS
    by_subresource = table.get(method, {})
    # A subresource names the action; versionId counts only where nothing more specific is given.
    named = sorted(subresources & by_subresource.keys() - {"versionId"}) or sorted(subresources & {"versionId"})
    action = by_subresource.get(named[0] if named else "")
    if action is None:
        return ()
    actions = [f"s3:{action}"]
    if method == "POST" and "delete" in subresources and b"<VersionId>" in (body or b""):
        actions.append("s3:DeleteObjectVersion")
    if method == "PUT" and {key.lower() for key in headers} & {"x-amz-copy-source"}:
        actions.append("s3:GetObject")
    return tuple(actions)


class ActionLog:
    """The IAM actions seen, by access key id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._actions: dict[str, set[str]] = {}

    def record(self, access_key: str, actions: tuple[str, ...]) -> None:
        with self._lock:
            self._actions.setdefault(access_key, set()).update(actions)

    def snapshot(self) -> dict[str, list[str]]:
        with self._lock:
            return {key: sorted(actions) for key, actions in self._actions.items()}

    def clear(self) -> None:
        with self._lock:
            self._actions.clear()


LOG = ActionLog()


def iam_actions(authorization: str, operation: str) -> tuple[str, tuple[str, ...]] | None:
    """(access key id, IAM actions) of a signed request, or None for an unsigned one."""
    match = CREDENTIAL.search(authorization or "")
    if not match or not operation:
        return None
    access_key, signing_name = match.groups()
    action = f"{IAM_PREFIXES.get(signing_name, signing_name)}:{operation}"
    return access_key, IAM_ACTIONS.get(action, (action,))


def answer(environ: dict[str, Any], start_response: Any, log: ActionLog) -> list[bytes]:
    if environ.get("REQUEST_METHOD") == "DELETE":
        log.clear()
        body: dict = {"ok": True}
    else:
        body = log.snapshot()
    return json_answer(start_response, body)


def _patches() -> list[tuple[Any, str, Any]]:
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.iam.access_control import S3IAMRequest

    original_authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        authorization = self.headers.get("Authorization", "")
        if iam_request_cls is S3IAMRequest:
            signed = CREDENTIAL.search(authorization)
            actions = s3_actions(self.method, resource, set(self.querystring), dict(self.headers), self.raw_body)
            if signed and actions:
                LOG.record(signed.group(1), actions)
        else:
            recorded = iam_actions(authorization, self._get_action())
            if recorded:
                LOG.record(*recorded)
        return original_authorize(self, iam_request_cls, resource)

    return [
        serve_route(ROUTE, lambda environ, start_response: answer(environ, start_response, LOG)),
        (ActionAuthenticatorMixin, "_authenticate_and_authorize_action", authorize),
    ]


FIX = Fix(
    name="iam-action-log",
    upstream_gap="no record of the IAM actions each caller used",
    patches=_patches,
)
