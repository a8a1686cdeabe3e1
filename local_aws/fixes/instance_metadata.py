"""The instance metadata service (IMDSv2) of each emulated instance, with its role's credentials.

Upstream gap (moto 5.2.5): no instance metadata service, so software on an emulated instance has
no credentials of its own and had to share a key pair. On EC2, an instance reads its id and its
instance profile's temporary role credentials from http://169.254.169.254 after asking for a
session token (IMDSv2, which the launch template requires). Here each instance's metadata lives
under the endpoint, at ``/local-aws/imds/<instance id>/`` (the local data plane points the
instance's ``AWS_EC2_METADATA_SERVICE_ENDPOINT`` there; the AWS SDKs and the first-boot program
read that setting):

    PUT /latest/api/token                               X-aws-ec2-metadata-token-ttl-seconds: 1..21600
    GET /latest/meta-data/instance-id                   X-aws-ec2-metadata-token: <token>
    GET /latest/meta-data/placement/region
    GET /latest/meta-data/iam/security-credentials/     the role's name (404 without a profile)
    GET /latest/meta-data/iam/security-credentials/<role name>

As on EC2: a GET without a valid token of this instance answers 401, the credentials are the
instance profile's role's (an STS session of that role, so every call they sign is authorised
against the role's policies), and a terminated or unknown instance has no metadata (404).
All instances share the host's network here, so the path, not the caller's address, names the
instance: this isolates instances from mistakes, not from a hostile neighbour.
"""

from __future__ import annotations

import datetime
import json
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from ._patching import Fix

PREFIX = "/local-aws/imds/"
TOKEN_TTL_HEADER = "HTTP_X_AWS_EC2_METADATA_TOKEN_TTL_SECONDS"
TOKEN_HEADER = "HTTP_X_AWS_EC2_METADATA_TOKEN"
MAX_TOKEN_TTL = 21600
CREDENTIAL_SECONDS = 6 * 3600
# A session is handed out again until this close to its expiry (the SDKs refresh 15 minutes before).
RENEW_BEFORE = datetime.timedelta(hours=1)


@dataclass
class Session:
    access_key: str
    secret_key: str
    token: str
    expiration: datetime.datetime
    issued: datetime.datetime


class MetadataState:
    """Tokens and the current role session, per instance."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tokens: dict[str, tuple[str, datetime.datetime]] = {}
        self.sessions: dict[tuple[str, str], Session] = {}


STATE = MetadataState()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def find_instance(instance_id: str) -> tuple[Any, str, str] | None:
    """(instance, account, region) of a running or pending instance, or None."""
    from moto.ec2.models import ec2_backends

    for account, regions in list(ec2_backends.items()):
        for region, backend in list(regions.items()):
            for reservation in list(backend.reservations.values()):
                for instance in reservation.instances:
                    if instance.id == instance_id and instance.state in ("pending", "running"):
                        return instance, account, region
    return None


def instance_role(instance: Any, account: str) -> Any | None:
    from moto.iam.models import iam_backends

    profile = instance.iam_instance_profile or {}
    if not profile.get("Arn"):
        return None
    backend = iam_backends[account]["aws"]
    for candidate in backend.instance_profiles.values():
        if candidate.arn == profile["Arn"] and candidate.roles:
            return candidate.roles[0]
    return None


def role_session(instance_id: str, role: Any, account: str, region: str, state: MetadataState) -> Session:
    from moto.sts.models import sts_backends

    key = (instance_id, role.arn)
    with state.lock:
        current = state.sessions.get(key)
        if current and current.expiration - _now() > RENEW_BEFORE:
            return current
        assumed = sts_backends[account]["aws"].assume_role(
            region_name=region, role_session_name=instance_id, role_arn=role.arn, policy=None,
            duration=CREDENTIAL_SECONDS, external_id=None,
        )  # fmt: skip
        issued = _now()
        session = Session(
            assumed.access_key_id, assumed.secret_access_key, assumed.session_token,
            issued + datetime.timedelta(seconds=CREDENTIAL_SECONDS), issued,
        )  # fmt: skip
        state.sessions[key] = session
        return session


def _text(start_response: Any, status: str, body: str, content_type: str = "text/plain") -> list[bytes]:
    data = body.encode()
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data)))])
    return [data]


def answer(environ: dict[str, Any], start_response: Any, state: MetadataState = STATE) -> list[bytes]:
    instance_id, _, path = environ.get("PATH_INFO", "")[len(PREFIX) :].partition("/")
    method = environ.get("REQUEST_METHOD", "GET")
    found = find_instance(instance_id)
    if found is None:
        return _text(start_response, "404 Not Found", "no such instance")
    instance, account, region = found
    if path == "latest/api/token":
        if method != "PUT":
            return _text(start_response, "405 Method Not Allowed", "")
        try:
            ttl = int(environ.get(TOKEN_TTL_HEADER, ""))
        except ValueError:
            ttl = 0
        if not 1 <= ttl <= MAX_TOKEN_TTL:
            return _text(start_response, "400 Bad Request", "")
        token = secrets.token_urlsafe(32)
        with state.lock:
            now = _now()
            for stale in [key for key, (_, expiry) in state.tokens.items() if expiry <= now]:
                del state.tokens[stale]
            state.tokens[token] = (instance_id, now + datetime.timedelta(seconds=ttl))
        return _text(start_response, "200 OK", token)
    with state.lock:
        owner, expiry = state.tokens.get(environ.get(TOKEN_HEADER, ""), ("", _now()))
    if owner != instance_id or expiry <= _now():
        return _text(start_response, "401 Unauthorized", "")
    if method != "GET":
        return _text(start_response, "405 Method Not Allowed", "")
    if path == "latest/meta-data/instance-id":
        return _text(start_response, "200 OK", instance_id)
    if path == "latest/meta-data/placement/region":
        return _text(start_response, "200 OK", region)
    credentials_path = "latest/meta-data/iam/security-credentials/"
    if path.startswith(credentials_path):
        role = instance_role(instance, account)
        if role is None:
            return _text(start_response, "404 Not Found", "")
        asked = path[len(credentials_path) :]
        if not asked:
            return _text(start_response, "200 OK", role.name)
        if asked != role.name:
            return _text(start_response, "404 Not Found", "")
        session = role_session(instance_id, role, account, region, state)
        body = {
            "Code": "Success", "LastUpdated": _iso(session.issued), "Type": "AWS-HMAC",
            "AccessKeyId": session.access_key, "SecretAccessKey": session.secret_key, "Token": session.token,
            "Expiration": _iso(session.expiration),
        }  # fmt: skip
        return _text(start_response, "200 OK", json.dumps(body), "application/json")
    return _text(start_response, "404 Not Found", "")


def _patches() -> list[tuple[Any, str, Any]]:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original_call = DomainDispatcherApplication.__call__

    def call(self: DomainDispatcherApplication, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith(PREFIX):
            return answer(environ, start_response)
        return original_call(self, environ, start_response)

    return [(DomainDispatcherApplication, "__call__", call)]


FIX = Fix(
    name="instance-metadata",
    upstream_gap="no instance metadata service: instances have no role credentials",
    patches=_patches,
)
