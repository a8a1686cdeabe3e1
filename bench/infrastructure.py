"""Benchmark: first build, no-op rerun, a one-image catalog change and teardown of the stack's AWS
side on the local endpoint, or with --with-instances of the whole stack as `make up` builds it.

Reports wall time and AWS API calls (requests in the endpoint's log) for each phase, and the
ratios rerun/first (goal: <= 0.5) and change/first measured in the same run. The change phase
publishes the demo images with one of them edited (playbooks/catalog.yml: one upload, one table
write, one invalidation); without instances it skips the catalog propagation wait
(catalog_propagation_seconds, 35 s by default), which a stack with instances adds.
With several strategies (the project's mitogen_linear and Ansible's plain linear as the
baseline), each builds its own stack in the same run, and each phase is also reported as a ratio
to the first strategy's. Uses its own endpoint port and stack names, so it never touches a stack
of `make up`. With --with-instances the stack also gets its instances (podman), balancer and
edge on ports of its own (18480-18482) and a VPC range of its own, through the same inventories
as `make up`, and the change phase waits for the instances to load the catalog: these are the
figures a user sees. Writes .state/bench/infrastructure[-instances].json, and each phase's
playbook output (with its slowest tasks) under .state/bench/logs/.

    .venv/bin/python bench/infrastructure.py [--port 5020] [--stack bench-stack]
        [--strategies linear,image_delivery.stack.mitogen_linear] [--with-instances]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from tests.helpers.iam import endpoint_environment  # noqa: E402
from tests.helpers.playbook import run_playbook  # noqa: E402

# The AWS side only: no instance containers, balancer or edge (they would take the ports of a
# stack of `make up`), and no wait for instances to load a catalog that none of them serves.
AWS_SIDE_ONLY = {"local_data_plane_enabled": False, "catalog_propagation_seconds": 0}
# The whole stack, beside a stack of `make up` (its own edge, balancer and origin ports, VPC range).
WITH_INSTANCES = {
    "local_data_plane_edge_port": 18480,
    "local_data_plane_balancer_port": 18481,
    "local_data_plane_origin_access_port": 18482,
    "network_vpc_cidr": "10.44.0.0/16",
    "network_public_subnet_cidrs": ["10.44.0.0/24", "10.44.1.0/24"],
    "network_private_subnet_cidrs": ["10.44.10.0/24", "10.44.11.0/24"],
}
INVENTORIES = ("-i", "inventory/local.yml", "-i", "inventory/local.aws_ec2.yml")
REQUEST_LINE = re.compile(r'"(GET|POST|PUT|DELETE|HEAD|PATCH) [^"]*" \d{3}')


def api_calls(log: Path) -> int:
    """Requests the endpoint has served so far, minus its own readiness probes."""
    if not log.exists():
        return 0
    text = log.read_text(errors="replace")
    return sum(1 for line in text.splitlines() if REQUEST_LINE.search(line) and "/moto-api/" not in line)


def endpoint(action: str, port: int) -> None:
    subprocess.run(
        [sys.executable, "-m", "local_aws", action, "--port", str(port)],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        env=endpoint_environment(),
    )


def phase(
    name: str, playbook: str, port: int, stack: str, log: Path, strategy: str, instances: bool, **extra_vars: object
) -> dict:
    calls_before = api_calls(log)
    started = time.perf_counter()
    scope = WITH_INSTANCES if instances else AWS_SIDE_ONLY
    environment = {"ANSIBLE_STRATEGY": strategy}
    if instances:
        environment |= {"IMAGE_DELIVERY_STACK": stack, "IMAGE_DELIVERY_ENDPOINT_PORT": str(port)}
    run = run_playbook(
        playbook,
        *(INVENTORIES if instances else ()),
        extra_vars={"local_endpoint_port": port, "stack_name": stack, **scope, **extra_vars},
        environment=environment,
        timeout=2400,
    )
    seconds = time.perf_counter() - started
    logs = PROJECT_ROOT / ".state" / "bench" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / f"{stack}-{name.replace(' ', '-')}.log").write_text(run.output)  # with the slowest tasks
    if run.returncode != 0:
        raise SystemExit(f"{name} failed:\n{run.tail()}")
    return {
        "strategy": strategy,
        "phase": name,
        "seconds": round(seconds, 2),
        "api_calls": api_calls(log) - calls_before,
        **run.stats,
    }


def demo_images_with_one_edited(folder: Path) -> Path:
    """A copy of the demo images in which one picture is mirrored (new bytes, same name)."""
    shutil.copytree(PROJECT_ROOT / "files" / "images", folder)
    picture = folder / "science" / "rocket-launch.jpg"
    with Image.open(picture) as original:
        original.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(picture, quality=90)
    return folder


def build_rerun_teardown(port: int, stack: str, log: Path, strategy: str, instances: bool) -> list[dict]:
    with tempfile.TemporaryDirectory() as scratch:
        images = demo_images_with_one_edited(Path(scratch) / "images")
        try:
            return [
                phase("first run", "site.yml", port, stack, log, strategy, instances),
                phase("no-op rerun", "site.yml", port, stack, log, strategy, instances),
                phase(
                    "1-image change",
                    "playbooks/catalog.yml",
                    port,
                    stack,
                    log,
                    strategy,
                    instances,
                    catalog_source_dir=str(images),
                ),
                phase("teardown", "playbooks/teardown.yml", port, stack, log, strategy, instances),
            ]
        finally:
            if instances:  # whatever a failed phase left: the stack's containers, balancer and edge
                subprocess.run(
                    [sys.executable, "-m", "local_aws.dataplane", "stop", "--stack", stack],
                    cwd=PROJECT_ROOT, capture_output=True, check=False,
                )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=5020)
    parser.add_argument("--stack", default="bench-stack")
    parser.add_argument(
        "--strategies",
        default="linear,image_delivery.stack.mitogen_linear",
        help="comma-separated Ansible strategies; the first is the baseline of the ratios",
    )
    parser.add_argument(
        "--with-instances", action="store_true", help="the whole stack: instances, balancer and edge (as make up)"
    )
    args = parser.parse_args()
    log = PROJECT_ROOT / ".state" / f"local-aws-{args.port}" / "local-aws.log"

    endpoint("stop", args.port)
    log.unlink(missing_ok=True)
    endpoint("start", args.port)
    strategies = [name for name in args.strategies.split(",") if name]
    try:
        runs = {
            strategy: build_rerun_teardown(args.port, f"{args.stack}-{number}", log, strategy, args.with_instances)
            for number, strategy in enumerate(strategies)
        }
    finally:
        endpoint("stop", args.port)

    baseline = runs[strategies[0]]
    goal = 0.3 if args.with_instances else 0.5
    summary = {
        "scope": "whole stack" if args.with_instances else "AWS side",
        "results": [row for rows in runs.values() for row in rows],
        "goal_rerun_over_first": goal,
    }
    print(f"{'strategy':<16}{'phase':<16}{'seconds':>9}{'API calls':>11}{'changed':>9}{'vs ' + strategies[0]:>18}")
    for strategy, rows in runs.items():
        for row, base in zip(rows, baseline, strict=True):
            row["over_baseline_seconds"] = round(row["seconds"] / base["seconds"], 3)
            print(
                f"{strategy:<16}{row['phase']:<16}{row['seconds']:>9.1f}{row['api_calls']:>11}"
                f"{row.get('changed', -1):>9}{row['over_baseline_seconds']:>18.2f}"
            )
        first, rerun, change = rows[0], rows[1], rows[2]
        ratios = {
            "rerun_over_first_seconds": round(rerun["seconds"] / first["seconds"], 3),
            "rerun_over_first_api_calls": round(rerun["api_calls"] / max(first["api_calls"], 1), 3),
            "change_over_first_seconds": round(change["seconds"] / first["seconds"], 3),
            "change_over_first_api_calls": round(change["api_calls"] / max(first["api_calls"], 1), 3),
        }
        summary[strategy] = ratios
        print(
            f"{strategy}: rerun/first {ratios['rerun_over_first_seconds']:.2f} of the time, "
            f"{ratios['rerun_over_first_api_calls']:.2f} of the API calls (goal <= {goal}); 1-image change/first "
            f"{ratios['change_over_first_seconds']:.2f} of the time, {ratios['change_over_first_api_calls']:.2f} "
            "of the API calls"
        )
    name = "infrastructure-instances.json" if args.with_instances else "infrastructure.json"
    out = PROJECT_ROOT / ".state" / "bench" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
