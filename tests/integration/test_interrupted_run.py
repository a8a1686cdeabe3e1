"""The local AWS endpoint stopped in the middle of site.yml: the run fails, and a rerun (which
starts the endpoint again) converges - every part exactly once, every image published, nothing
left over from the interrupted run - and a further run changes nothing.

The endpoint keeps its state in memory, so stopping it loses the emulated account; what this
proves is that nothing the interrupted run left on this machine (outputs, catalog cache, release
and wheelhouse caches) makes the rerun skip work or duplicate it. Runs on its own endpoint port so
the rest of the integration layer keeps its endpoint.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ansible_collections.image_delivery.stack.plugins.module_utils.catalog_schema import (
    KEY_PREFIX,
    SNAPSHOT_PREFIX,
    snapshot_key,
)

from tests.helpers.aws import LocalAws, StackCensus
from tests.helpers.playbook import PROJECT_ROOT, run_playbook
from tests.helpers.reliability import record

from .conftest import TEST_PORT

PORT = TEST_PORT + 7
STACK = "interrupted"
SETTINGS = {"local_endpoint_port": PORT, "stack_name": STACK, "local_data_plane_enabled": False,
            "catalog_propagation_seconds": 0}  # fmt: skip
# Stop the endpoint once the run reaches this part (after network, groups and storage exist).
STOP_AT = "TASK [load_balancer : Create the internet-facing load balancer"


def endpoint(action: str) -> None:
    command = [sys.executable, "-m", "local_aws", action, "--port", str(PORT)]
    subprocess.run(command, cwd=PROJECT_ROOT, check=True, capture_output=True)


def test_an_endpoint_stopped_mid_run_then_a_rerun_converges(tmp_path):
    endpoint("stop")
    log = tmp_path / "interrupted.log"
    environment = dict(
        os.environ, ANSIBLE_NOCOLOR="1", PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    )
    command = [
        str(Path(sys.executable).with_name("ansible-playbook")),
        "site.yml",
        "--extra-vars",
        json.dumps(SETTINGS),
    ]
    try:
        with log.open("w") as output:
            process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 600
        while STOP_AT not in log.read_text() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert process.poll() is None, f"the run ended before {STOP_AT}:\n{log.read_text()[-2000:]}"
        stopped_at = time.monotonic()
        endpoint("stop")
        assert process.wait(timeout=600) != 0, "the interrupted run must fail"
        failed_after = time.monotonic() - stopped_at

        rerun = run_playbook("site.yml", extra_vars=SETTINGS)
        assert rerun.returncode == 0, rerun.tail(60)
        aws = LocalAws(PORT)
        parts = StackCensus(aws, STACK).everything()
        ec2 = aws.client("ec2")
        tag = [{"Name": "tag:Stack", "Values": [STACK]}]
        assert len(ec2.describe_vpcs(Filters=tag)["Vpcs"]) == 1
        assert len(ec2.describe_subnets(Filters=tag)["Subnets"]) == 4
        for service in ("autoscaling", "dynamodb", "cloudfront"):
            assert len(parts[service]) == 1, f"{service}: {parts[service]}"
        assert len(parts["s3"]) == 2, f"the image and SSM transfer buckets: {parts['s3']}"
        assert len(parts["elbv2"]) == 2, "one load balancer and one target group"

        outputs = json.loads((PROJECT_ROOT / ".state" / STACK / "outputs.json").read_text())
        images = int(outputs["images"])
        keys = [item["Key"] for item in aws.client("s3").list_objects_v2(Bucket=outputs["bucket"]).get("Contents", [])]
        image_keys = [key for key in keys if key.startswith(KEY_PREFIX)]
        items = aws.client("dynamodb").scan(TableName=outputs["table"], Select="COUNT")["Count"]
        assert images > 0 and len(image_keys) == images, f"{len(image_keys)} objects for {images} images"
        assert [key for key in keys if key.startswith(SNAPSHOT_PREFIX)] == [snapshot_key(outputs["catalog_version"])]
        assert items == images + 1, "one item per image and the catalog version"

        again = run_playbook("site.yml", extra_vars=SETTINGS)
        assert again.returncode == 0 and again.changed == 0, again.changed_tasks()
        record(
            "endpoint-stopped",
            f"run failed {failed_after:.0f}s after the stop; rerun converged (1 VPC, 4 subnets, {images} images, "
            f"{items} table items), third run changed=0",
            "rerun converges, nothing lost or duplicated",
            True,
        )
    finally:
        run_playbook("playbooks/teardown.yml", extra_vars=SETTINGS)
        endpoint("stop")
