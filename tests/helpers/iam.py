"""The deployer's IAM policy (docs/iam/deployer-policy.json) and the calls the local endpoint saw.

The endpoint records, per access key, the IAM action of every call it serves
(local_aws/fixes/iam_action_log.py); the tests hold the policy to that record.
"""

from __future__ import annotations

import fnmatch
import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

from local_aws.server import IDENTITIES_VARIABLE

from .playbook import PROJECT_ROOT

DEPLOYER_POLICY = PROJECT_ROOT / "docs" / "iam" / "deployer-policy.json"
_LOCAL_VARS = yaml.safe_load((PROJECT_ROOT / "inventory" / "local.yml").read_text())["all"]["vars"]
_ENDPOINT_DEFAULTS = yaml.safe_load((PROJECT_ROOT / "roles" / "local_endpoint" / "defaults" / "main.yml").read_text())
# The key pair the playbooks sign with on the local target (inventory/local.yml).
DEPLOYER_ACCESS_KEY: str = _LOCAL_VARS["aws_access_key"]
DEPLOYER_SECRET_KEY: str = _LOCAL_VARS["aws_secret_key"]
DEPLOYER_NAME: str = _ENDPOINT_DEFAULTS["local_endpoint_deployer_name"]


def deployer_identity(policy_file: Path = DEPLOYER_POLICY, name: str = DEPLOYER_NAME,
                      access_key: str = DEPLOYER_ACCESS_KEY, secret_key: str = DEPLOYER_SECRET_KEY) -> str:  # fmt: skip
    """The identity roles/local_endpoint creates, in `python -m local_aws`'s form."""
    return ",".join([name, access_key, secret_key, str(policy_file)])


def endpoint_environment(*identities: str) -> dict[str, str]:
    """The environment in which `python -m local_aws start` creates the deployer (and `identities`)."""
    return {**os.environ, IDENTITIES_VARIABLE: "\n".join([deployer_identity(), *identities])}


# Actions AWS answers for any caller, whatever the policy (sts:GetCallerIdentity needs no permission).
ALWAYS_ALLOWED = {"sts:GetCallerIdentity"}


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@dataclass(frozen=True)
class Policy:
    document: dict

    @classmethod
    def load(cls, path: Path = DEPLOYER_POLICY) -> Policy:
        return cls(json.loads(path.read_text()))

    @property
    def statements(self) -> list[dict]:
        return self.document["Statement"]

    @property
    def actions(self) -> set[str]:
        return {action for statement in self.statements for action in _as_list(statement["Action"])}

    def allows(self, action: str, resource: str | None = None) -> bool:
        """An Allow statement matches the action (IAM matches actions case-insensitively) and, when
        a resource is given, one of its resources. Conditions are not evaluated here."""
        for statement in self.statements:
            if statement["Effect"] != "Allow":
                continue
            if not any(fnmatch.fnmatch(action.lower(), pattern.lower()) for pattern in _as_list(statement["Action"])):
                continue
            if resource is None or any(fnmatch.fnmatchcase(resource, r) for r in _as_list(statement["Resource"])):
                return True
        return False

    def without(self, sid: str) -> Policy:
        return Policy({**self.document, "Statement": [s for s in self.statements if s.get("Sid") != sid]})


def recorded_actions(endpoint_url: str, access_key: str = DEPLOYER_ACCESS_KEY) -> set[str]:
    with urllib.request.urlopen(f"{endpoint_url}/local-aws/iam-actions", timeout=10) as response:
        return set(json.load(response).get(access_key, []))


def forget_actions(endpoint_url: str) -> None:
    request = urllib.request.Request(f"{endpoint_url}/local-aws/iam-actions", method="DELETE")
    urllib.request.urlopen(request, timeout=10).close()  # the answer is {"ok": true}; an error raises


def not_allowed(policy: Policy, actions: set[str]) -> list[str]:
    return sorted(action for action in actions - ALWAYS_ALLOWED if not policy.allows(action))
