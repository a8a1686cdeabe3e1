"""The IAM identities the local endpoint starts with, as an AWS account has them before a deploy.

With IAM enforced (the default), every request is authorised against its signer's policies, as on
AWS (local_aws/fixes/iam_policy_evaluation.py). The endpoint creates, before it serves:

- the emulator's own administrator (ADMIN): the local data plane, balancer and edge stand in for
  AWS itself and the tests read what was built with it; nothing of the stack signs with it;
- each identity named on the command line (``--identity NAME,ACCESS_KEY,SECRET_KEY,POLICY_FILE``):
  an IAM user with that key pair and that policy inline. The local target passes the deployer,
  limited to docs/iam/deployer-policy.json (roles/local_endpoint). Starting a running endpoint
  again brings its identities up to date (``PUT /local-aws/identities``), so an edited policy
  applies at the next run.

Instances get no key pair: they get their instance profile's role credentials from the emulated
instance metadata service (local_aws/fixes/instance_metadata.py), as EC2 instances do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .fixes._patching import Fix

ROUTE = "/local-aws/identities"
ACCOUNT_ID = "123456789012"  # moto's default account, the one unsigned-for-account calls land in
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@dataclass(frozen=True)
class Identity:
    """An IAM user with a fixed key pair and one inline policy. The key pairs are not secrets: the
    endpoint listens on loopback only and holds no real data."""

    name: str
    access_key: str
    secret_key: str
    policy: dict

    @classmethod
    def parse(cls, text: str) -> Identity:
        """NAME,ACCESS_KEY,SECRET_KEY,POLICY_FILE (the command line's form)."""
        parts = text.split(",")
        if len(parts) != 4 or not all(parts):
            raise ValueError(f"an identity is NAME,ACCESS_KEY,SECRET_KEY,POLICY_FILE, not {text!r}")
        name, access_key, secret_key, policy_file = parts
        policy = json.loads(Path(policy_file).read_text())
        if not isinstance(policy, dict) or "Statement" not in policy:
            raise ValueError(f"{policy_file} is not an IAM policy document")
        return cls(name, access_key, secret_key, policy)

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT_ID}:user/{self.name}"


# Access key ids have AWS's shape (20 capitals and digits; moto finds the caller by it), without
# AWS's AKIA prefix, so that no secret scanner takes them for real keys.
ADMIN = Identity("local-aws-admin", "LOCALAWSADMIN0000000", "local-aws-admin-secret-key", ADMIN_POLICY)


def create(identities: list[Identity]) -> list[str]:
    """Create or update the users in moto's IAM backend, in process (no request, so no
    authorisation): each gets its policy (replacing the one it had) and its key pair as its only
    key. Returns the names created or changed."""
    from moto.iam.models import iam_backends

    backend = iam_backends[ACCOUNT_ID]["aws"]
    changed = []
    for identity in identities:
        policy_name, document = f"{identity.name}-policy", json.dumps(identity.policy)
        if identity.name not in backend.users:
            backend.create_user(region_name="us-east-1", user_name=identity.name)
        user = backend.users[identity.name]
        keys = [(key.access_key_id, key.secret_access_key) for key in user.access_keys]
        current = user.policies.get(policy_name)
        if keys == [(identity.access_key, identity.secret_key)] and current == document:
            continue
        backend.put_user_policy(identity.name, policy_name, document)
        for key in list(user.access_keys):
            backend.delete_access_key(key.access_key_id, identity.name)
        key = backend.create_access_key(identity.name)
        del backend.access_keys[key.physical_resource_id]
        key.access_key_id, key.secret_access_key = identity.access_key, identity.secret_key
        backend.access_keys[key.physical_resource_id] = key
        changed.append(identity.name)
    return changed


def as_json(identities: list[Identity]) -> bytes:
    return json.dumps([vars(identity) for identity in identities]).encode()


def from_json(data: bytes) -> list[Identity]:
    return [Identity(**fields) for fields in json.loads(data)]


def answer(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """PUT /local-aws/identities with a JSON list of identities: create or update them."""
    from .fixes._patching import json_answer

    if environ.get("REQUEST_METHOD") != "PUT":
        return json_answer(start_response, {"error": "PUT a JSON list of identities"}, "405 Method Not Allowed")
    length = int(environ.get("CONTENT_LENGTH") or 0)
    try:
        wanted = from_json(environ["wsgi.input"].read(length))
    except (ValueError, TypeError) as error:
        return json_answer(start_response, {"error": str(error)}, "400 Bad Request")
    return json_answer(start_response, {"changed": create(wanted)})


def route() -> Fix:
    """The endpoint's own route that brings identities up to date (emulator machinery, on loopback
    like /moto-api/, which can wipe everything anyway)."""
    from .fixes._patching import Fix, serve_route

    return Fix(name="identities-route", upstream_gap="", patches=lambda: [serve_route(ROUTE, answer)])
