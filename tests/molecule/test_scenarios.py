"""Molecule scenarios, run the way a developer runs them (`molecule test`), as one pytest layer.

The base image is built offline first (local_aws/podman/build-base-image.sh), which also says whether this
machine's podman needs a containers.conf; the scenario then converges both instance roles, checks
idempotence and verifies over HTTP.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.playbook import PROJECT_ROOT

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="session")
def podman_environment() -> dict[str, str]:
    built = subprocess.run(
        ["local_aws/podman/build-base-image.sh"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900
    )
    assert built.returncode == 0, built.stderr[-3000:]
    conf = built.stdout.strip().rsplit("CONTAINERS_CONF=", 1)[-1]
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    environment.pop("CONTAINERS_CONF", None)
    if conf:
        environment["CONTAINERS_CONF"] = conf
    return environment


@pytest.mark.parametrize("scenario", ["default"])
def test_scenario_converges_idempotently_and_verifies(podman_environment, scenario):
    run = subprocess.run(
        ["molecule", "test", "--scenario-name", scenario],
        cwd=PROJECT_ROOT,
        env=podman_environment,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    output = ANSI.sub("", run.stdout + run.stderr)
    artifacts = PROJECT_ROOT / ".state" / "test-artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / f"molecule-{scenario}.log").write_text(output)
    assert run.returncode == 0, output[-6000:]
    for step in ("converge", "idempotence", "verify"):
        assert f"{step}: Executed: Successful" in output, step
