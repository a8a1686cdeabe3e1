"""The local balancer's health checks as ELB target states, with a real HAProxy and real targets.

What the data plane reports to the endpoint (DescribeTargetHealth) must be what the checks saw,
and a reload (a target joins or leaves) must not reset the others to "initial", as an ALB does
not forget a target's health when another one registers.
"""

from __future__ import annotations

import http.server
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from local_aws.dataplane import balancer
from local_aws.dataplane.stack import HealthCheck, Instance, Stack
from tests.helpers.sockets import free_port

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs haproxy (make test-tools)")


def serve(address: str, port: int, status: int) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            """Quiet: the checks come every second."""

    server = http.server.ThreadingHTTPServer((address, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def targets() -> Iterator[tuple[int, list[Instance]]]:
    port = free_port()
    instances = [Instance("i-healthy", "10.77.0.10", "running", "InService"),
                 Instance("i-failing", "10.77.0.11", "running", "InService"),
                 Instance("i-joining", "10.77.0.12", "running", "InService")]  # fmt: skip
    statuses = (200, 500, 200)
    servers = [serve(item.listen_address, port, status) for item, status in zip(instances, statuses, strict=True)]
    yield port, instances
    for server in servers:
        server.shutdown()


def worker_pid(settings: balancer.BalancerSettings) -> str:
    info = balancer.command(settings, "show info") or ""
    return next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("Pid:")), "")


def wait_for(condition, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError("not reached in time")


def test_checks_become_target_states_and_a_reload_keeps_them(tmp_path, targets):
    port, (healthy, failing, joining) = targets
    settings = balancer.BalancerSettings("127.0.0.1", free_port(), tmp_path / "balancer")
    checks = HealthCheck(interval=1, timeout=1, healthy_threshold=2, unhealthy_threshold=2)
    stack = Stack(name="health", group_name="web", instances=(healthy, failing, joining), target_group_arn="arn:tg",
                  target_port=port, targets=("i-failing", "i-healthy"), health_check=checks)  # fmt: skip
    try:
        assert balancer.apply(stack, settings) == "started"
        ids = ["i-healthy", "i-failing"]
        wait_for(lambda: balancer.target_health(settings, ids) == {"i-healthy": "healthy", "i-failing": "unhealthy"})
        # A target joins; the checks now run every 10 s, so right after the reload the new worker
        # has not checked anyone yet: what it reports, it loaded from the saved state.
        before = worker_pid(settings)
        joined = replace(stack, targets=("i-failing", "i-healthy", "i-joining"),
                         health_check=replace(stack.health_check, interval=10))  # fmt: skip
        assert balancer.apply(joined, settings) == "reloaded"
        wait_for(lambda: worker_pid(settings) not in {"", before})
        after_reload = balancer.target_health(settings, [*ids, "i-joining"])
        assert after_reload == {"i-healthy": "healthy", "i-failing": "unhealthy", "i-joining": "initial"}
    finally:
        balancer.stop(settings)
