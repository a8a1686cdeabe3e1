"""End-to-end layer: the main command's playbooks build a whole stack on this machine (local AWS
endpoint, instance containers, load balancer, edge) on ports of its own, and the tests use it the
way a viewer and an operator do.

The stack has its own endpoint port, stack name, VPC range (so its instances listen on
127.42.x.y, never on the addresses of a stack a developer runs with `make up`) and edge ports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.helpers.aws import LocalAws
from tests.helpers.playbook import PROJECT_ROOT, PlaybookRun, run_playbook

ENDPOINT_PORT = int(os.environ.get("IMAGE_DELIVERY_E2E_PORT", "5050"))
STACK = "e2e-stack"
# podman through the project's wrapper (the containers.conf this machine may need).
PODMAN = str(PROJECT_ROOT / "local_aws" / "podman" / "podman")
EDGE_PORT, BALANCER_PORT, ORIGIN_ACCESS_PORT = 18280, 18281, 18282
SETTINGS = {
    "stack_name": STACK,
    "local_endpoint_port": ENDPOINT_PORT,
    "local_data_plane_edge_port": EDGE_PORT,
    "local_data_plane_balancer_port": BALANCER_PORT,
    "local_data_plane_origin_access_port": ORIGIN_ACCESS_PORT,
    "network_vpc_cidr": "10.42.0.0/16",
    "network_public_subnet_cidrs": ["10.42.0.0/24", "10.42.1.0/24"],
    "network_private_subnet_cidrs": ["10.42.10.0/24", "10.42.11.0/24"],
    # A faster health check than the default (15 s x 3): the fault tests wait for its window.
    "load_balancer_health_check_interval": 5,
    "load_balancer_health_check_timeout": 2,
    "load_balancer_deregistration_delay": 5,
    # Shorter than the defaults (180 s, 300 s) so that the load test sees the group scale back in.
    "compute_instance_warmup": 60,
    "compute_default_cooldown": 60,
}
ENVIRONMENT = {"IMAGE_DELIVERY_STACK": STACK, "IMAGE_DELIVERY_ENDPOINT_PORT": str(ENDPOINT_PORT)}
INVENTORIES = ("-i", "inventory/local.yml", "-i", "inventory/local.aws_ec2.yml")


def run(playbook: str, *args: str, **extra_vars) -> PlaybookRun:
    return run_playbook(
        playbook, *INVENTORIES, *args, extra_vars={**SETTINGS, **extra_vars}, environment=ENVIRONMENT, timeout=1800
    )


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


def fetch(url: str, headers: dict | None = None, timeout: float = 10) -> Response:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Response(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


@dataclass
class Stack:
    aws: LocalAws
    site: PlaybookRun
    # Statuses of the requests sent through the edge the moment site.yml ended.
    first_statuses: list[int] = field(default_factory=list)

    @property
    def edge(self) -> str:
        return f"http://127.0.0.1:{EDGE_PORT}"

    @property
    def balancer(self) -> str:
        return f"http://127.0.0.1:{BALANCER_PORT}"

    @property
    def outputs(self) -> dict:
        """What site.yml wrote to the stack's outputs file (bucket, group, target group, ...)."""
        return json.loads((PROJECT_ROOT / ".state" / STACK / "outputs.json").read_text())

    @property
    def group_name(self) -> str:
        return self.outputs["autoscaling_group"]

    def get(self, path: str, **kwargs) -> Response:
        return fetch(self.edge + path, **kwargs)

    def instances(self) -> list[dict]:
        group = self.aws.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[self.group_name])
        return group["AutoScalingGroups"][0]["Instances"]

    def containers(self) -> dict[str, bool]:
        listing = subprocess.run(
            [PODMAN, "ps", "--all", "--format", "json",
             "--filter", f"label=image-delivery.stack={STACK}"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return {item["Names"][0]: item["State"] == "running" for item in json.loads(listing.stdout or "[]")}

    def balancer_states(self) -> dict[str, str]:
        from local_aws.dataplane import balancer

        settings = balancer.BalancerSettings(
            "127.0.0.1", BALANCER_PORT, PROJECT_ROOT / ".state" / STACK / "dataplane" / "balancer"
        )
        return balancer.server_states(settings)

    def wait_until(self, condition, timeout: float, interval: float = 2.0, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(interval)
        raise AssertionError(f"{what} not reached within {timeout:.0f}s")


class SteadyLoad:
    """Requests that miss the edge cache (a unique query each) at a steady pace, in a thread."""

    def __init__(self, stack: Stack, per_second: float = 20) -> None:
        self.stack, self.pause = stack, 1 / per_second
        self.results: list[tuple[float, int]] = []
        self.running = True
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self) -> None:
        while self.running:
            try:
                status = self.stack.get(f"/api/search?q=sea&_={uuid.uuid4().hex}", timeout=10).status
            except OSError:
                status = 0
            self.results.append((time.monotonic(), status))
            time.sleep(self.pause)

    def __enter__(self) -> SteadyLoad:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.running = False
        self.thread.join(timeout=15)

    def failures(self, since: float = 0.0, until: float = float("inf")) -> int:
        return sum(1 for moment, status in self.results if since <= moment < until and status != 200)

    def count(self, since: float = 0.0, until: float = float("inf")) -> int:
        return sum(1 for moment, _ in self.results if since <= moment < until)


class CapacityWatch:
    """The most instance containers running and targets serving at once, sampled in a thread."""

    def __init__(self, stack: Stack, interval: float = 3.0) -> None:
        self.stack, self.interval = stack, interval
        self.peak_containers = self.peak_serving = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                running = sum(self.stack.containers().values())
                serving = list(self.stack.balancer_states().values()).count("UP")
            except (OSError, subprocess.SubprocessError, ValueError):  # podman or HAProxy busy: next sample
                continue
            self.peak_containers = max(self.peak_containers, running)
            self.peak_serving = max(self.peak_serving, serving)

    def __enter__(self) -> CapacityWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join(timeout=30)

    def __repr__(self) -> str:
        return f"CapacityWatch(peak_containers={self.peak_containers}, peak_serving={self.peak_serving})"


def requests_right_after(stack: Stack, count: int = 40, pause: float = 0.1) -> list[int]:
    """The page and searches that miss the cache, through the edge, at once (0 for no answer)."""
    statuses = []
    for number in range(count):
        path = "/" if number % 4 == 0 else f"/api/search?q=sea&_={uuid.uuid4().hex}"
        try:
            statuses.append(stack.get(path, timeout=10).status)
        except OSError:
            statuses.append(0)
        time.sleep(pause)
    return statuses


def stop_everything() -> None:
    """Leftovers of an earlier run: the data plane of the test stack, then its endpoint."""
    data_plane = [sys.executable, "-m", "local_aws.dataplane", "stop", "--stack", STACK]
    subprocess.run(data_plane, cwd=PROJECT_ROOT, capture_output=True, check=False)
    endpoint = [sys.executable, "-m", "local_aws", "stop", "--port", str(ENDPOINT_PORT)]
    subprocess.run(endpoint, cwd=PROJECT_ROOT, capture_output=True, check=False)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """The whole stack, built by site.yml the way `make up` builds it; torn down afterwards."""
    stop_everything()
    site = run("site.yml")
    if site.returncode != 0:
        stop_everything()  # no instance containers or listeners left on the ports of the next run
    assert site.returncode == 0, site.tail(80)
    built = Stack(LocalAws(ENDPOINT_PORT), site)
    built.first_statuses = requests_right_after(built)
    yield built
    teardown = run("playbooks/teardown.yml")
    stop_everything()
    assert teardown.returncode == 0, teardown.tail(40)
