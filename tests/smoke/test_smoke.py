"""Smoke layer: `make smoke`'s playbook (playbooks/smoke.yml) on the local target, as CI's proof
that it works: a throwaway stack built, checked from outside (search, original, variant, cache hit,
the load balancer refusing a request without the origin header, an instance terminated and
replaced), torn down, and nothing of it left.

It runs on an endpoint port of its own, with the ports and addresses inventory/local.yml gives
the smoke stack, so it shares nothing with the other layers or a stack of `make up`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import yaml

from tests.helpers.playbook import PROJECT_ROOT, run_playbook
from tests.helpers.reliability import record

ENDPOINT_PORT = int(os.environ.get("IMAGE_DELIVERY_SMOKE_PORT", "5060"))
STACK = "ci-smoke"


def stop_everything() -> None:
    """Leftovers of an earlier run: the smoke stack's data plane, then its endpoint."""
    for command in (
        [sys.executable, "-m", "local_aws.dataplane", "stop", "--stack", STACK],
        [sys.executable, "-m", "local_aws", "stop", "--port", str(ENDPOINT_PORT)],
    ):
        subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, check=False)


def test_the_smoke_playbook_builds_checks_and_leaves_nothing():
    inventory = yaml.safe_load((PROJECT_ROOT / "inventory" / "local.yml").read_text())
    settings = {**inventory["all"]["vars"]["smoke_settings"], "local_endpoint_port": ENDPOINT_PORT}
    stop_everything()
    started = time.monotonic()
    try:
        run = run_playbook(
            "playbooks/smoke.yml", "-i", "inventory/local.yml", "-i", "inventory/local.aws_ec2.yml",
            extra_vars={"smoke_stack_name": STACK, "smoke_settings": settings, "local_endpoint_port": ENDPOINT_PORT},
            environment={"IMAGE_DELIVERY_ENDPOINT_PORT": str(ENDPOINT_PORT)}, timeout=2400,
        )  # fmt: skip
    finally:
        stop_everything()
    seconds = time.monotonic() - started
    assert run.returncode == 0, run.tail(80)
    assert f"Smoke test of {STACK} passed; nothing of it is left." in run.output
    for check in ("Search through the site", "Check that the second variant request was a cache hit",
                  "Ask the load balancer directly, without CloudFront's origin header",
                  "Wait until the group is at full strength without it, every target healthy"):  # fmt: skip
        assert f"TASK [{check}" in run.output, check
    record(
        "smoke",
        f"built, checked (search, original, variant, cache hit, direct request refused, an instance replaced), "
        f"torn down, nothing left, in {seconds / 60:.1f} min",
        "passes, nothing left",
        True,
        seconds=round(seconds),
    )
