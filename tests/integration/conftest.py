"""Integration layer: the playbooks against the local AWS endpoint on its own port.

The suite uses port 5010 (not the 5000 of `make up`) and its own stack names, so it never
touches a stack a developer has running. Under pytest-xdist (`scripts/test_layers.py` runs the
layer with `-n 2 --dist loadfile`) each worker has an endpoint of its own, 100 ports further per
worker, and a test file stays on one worker, so the stacks of two files never meet.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.helpers.aws import LocalAws
from tests.helpers.iam import Policy, endpoint_environment, forget_actions, not_allowed, recorded_actions
from tests.helpers.playbook import PROJECT_ROOT, PlaybookRun, run_playbook


def worker_index() -> int:
    """0 without pytest-xdist, else the number of this worker (gw0, gw1, ...)."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


TEST_PORT = int(os.environ.get("IMAGE_DELIVERY_TEST_PORT", "5010")) + 100 * worker_index()


# The files that build and tear down whole stacks, longest first (about 28, 10, 8 and 10 minutes
# of a CI worker); the rest take seconds. Under pytest-xdist a file runs on one worker, so starting
# the long ones first (scripts/test_layers.py turns off xdist's reordering by test count) keeps the
# two workers busy to the end instead of leaving one with the longest file last.
LONGEST_FIRST = ("test_stack", "test_awx_jobs", "test_interrupted_run", "test_catalog")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Reorder this layer's tests only (the hook sees every layer's), in the places they hold."""

    def rank(item: pytest.Item) -> int:
        name = item.module.__name__.rsplit(".", 1)[-1]
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    places = [index for index, item in enumerate(items) if "tests.integration." in item.module.__name__]
    for place, item in zip(places, sorted((items[index] for index in places), key=rank), strict=True):
        items[place] = item


def endpoint_command(action: str) -> list[str]:
    return [sys.executable, "-m", "local_aws", action, "--port", str(TEST_PORT)]


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    """A fresh local AWS endpoint for the session (a leftover one is stopped first), with IAM
    enforced and the deployer the playbooks sign as."""
    subprocess.run(endpoint_command("stop"), cwd=PROJECT_ROOT, check=True, capture_output=True)
    subprocess.run(
        endpoint_command("start"), cwd=PROJECT_ROOT, check=True, capture_output=True, env=endpoint_environment()
    )
    yield LocalAws(TEST_PORT)
    subprocess.run(endpoint_command("stop"), cwd=PROJECT_ROOT, check=True, capture_output=True)


@pytest.fixture(scope="module", autouse=True)
def deployer_calls_are_in_the_policy(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test file that ran playbooks: every AWS action they called is one that
    docs/iam/deployer-policy.json allows (the endpoint records them, local_aws/fixes/iam_action_log.py).
    A call the policy lacks fails here as an error of the file's last test, naming the actions."""
    yield
    tests = [item for item in request.session.items if getattr(item, "module", None) is request.module]
    if not any("local_aws" in getattr(item, "fixturenames", ()) for item in tests):
        return
    endpoint = request.getfixturevalue("local_aws").url
    missing = not_allowed(Policy.load(), recorded_actions(endpoint))
    forget_actions(endpoint)
    assert not missing, f"docs/iam/deployer-policy.json lacks actions the playbooks called: {missing}"


@pytest.fixture(scope="session")
def playbook(local_aws: LocalAws):
    """Run a playbook against the test endpoint: playbook(path, *args, stack=..., **extra_vars).

    The AWS side only: the local data plane (instance containers, load balancer, edge) is left to
    the end-to-end layer, which runs it on its own endpoint and ports.
    """

    def run(path: str, *args: str, stack: str, **extra_vars) -> PlaybookRun:
        settings = {
            "local_endpoint_port": local_aws.port,
            "stack_name": stack,
            "local_data_plane_enabled": False,
            "catalog_propagation_seconds": 0,  # no instance serves the catalog here
        }
        return run_playbook(path, *args, extra_vars={**settings, **extra_vars})

    return run


def outputs_of(stack: str) -> dict:
    return json.loads((PROJECT_ROOT / ".state" / stack / "outputs.json").read_text())
