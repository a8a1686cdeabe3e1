"""The local load balancer: HAProxy rendered from the target group and the listener rule.

Like the ALB listener, it answers 403 with a JSON reason to any request without the secret origin
header, and forwards the rest round robin to the registered targets. Active health checks use the
target group's path, interval, timeout and thresholds; a target that fails them leaves rotation
and comes back when it passes again. Reloads are graceful (HAProxy master-worker): open
connections finish on the old worker, which is what deregistration draining needs.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..processes import running_pid, stop_pid, write_if_changed
from .stack import Stack

FORBIDDEN_BODY = json.dumps({"error": "forbidden", "detail": "requests must come through the CDN"})


@dataclass(frozen=True)
class BalancerSettings:
    listen_host: str
    listen_port: int
    state_dir: Path
    executable: str = "haproxy"

    @property
    def config_file(self) -> Path:
        return self.state_dir / "haproxy.cfg"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "haproxy.pid"

    @property
    def stats_socket(self) -> Path:
        return self.state_dir / "haproxy.sock"

    @property
    def server_state_file(self) -> Path:
        """The servers' health saved before a reload and loaded by the new worker."""
        return self.state_dir / "haproxy.servers"


def render(stack: Stack, settings: BalancerSettings) -> str:
    health = stack.health_check
    lines = [
        "# Rendered by the local data plane from the target group on the local AWS endpoint.",
        "global",
        f"    stats socket {settings.stats_socket} mode 600 level admin",
        f"    server-state-file {settings.server_state_file}",
        "    maxconn 4096",
        "",
        "defaults",
        "    mode http",
        # A reload keeps each target's health (an ALB does not forget it when a target joins).
        "    load-server-state-from-file global",
        "    option httplog",
        "    timeout connect 5s",
        f"    timeout client {stack.idle_timeout}s",
        f"    timeout server {stack.idle_timeout}s",
        f"    timeout check {health.timeout}s",
        # A request that could not reach a target (refused, reset before a response) is retried
        # on another one: what the ALB does for connection errors.
        "    retries 2",
        "    option redispatch 1",
        "    retry-on conn-failure empty-response response-timeout",
        "",
        "frontend listener",
        f"    bind {settings.listen_host}:{settings.listen_port}",
        "    option forwardfor",
    ]
    if stack.origin_rule is None:
        lines.append("    http-request return status 403 content-type application/json string " + quote(FORBIDDEN_BODY))
    else:
        rule = stack.origin_rule
        lines.append(
            "    http-request return status 403 content-type application/json string "
            f"{quote(FORBIDDEN_BODY)} unless {{ req.hdr({rule.header_name}) -m str {rule.header_value} }}"
        )
    lines += [
        "    default_backend targets",
        "",
        "backend targets",
        "    balance roundrobin",
        "    option httpchk",
        f"    http-check send meth GET uri {health.path} ver HTTP/1.1 hdr Host localhost",
        f"    http-check expect status {health.matcher}",
        f"    default-server check inter {health.interval}s"
        f" fall {health.unhealthy_threshold} rise {health.healthy_threshold}",
    ]
    for instance in stack.serving_targets():
        lines.append(f"    server {instance.instance_id} {instance.listen_address}:{stack.target_port}")
    if not stack.serving_targets():
        lines.append(
            "    http-request return status 503 content-type application/json string "
            + quote(json.dumps({"error": "unavailable", "detail": "no registered targets"}))
        )
    return "\n".join(lines) + "\n"


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def apply(stack: Stack, settings: BalancerSettings) -> str:
    """Write the config and start or gracefully reload HAProxy; the action taken ('' for none)."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    text = render(stack, settings)
    candidate = settings.config_file.with_name("haproxy.cfg.candidate")
    write_if_changed(candidate, text)
    check = subprocess.run(
        [settings.executable, "-c", "-q", "-f", str(candidate)], capture_output=True, text=True, check=False
    )
    if check.returncode != 0:
        raise RuntimeError(f"HAProxy refused the rendered config: {check.stdout.strip()} {check.stderr.strip()}")
    changed = write_if_changed(settings.config_file, text)
    pid = running_pid(settings.pid_file)
    if pid is None:
        settings.server_state_file.unlink(missing_ok=True)  # a new HAProxy checks every target afresh
        subprocess.run(
            [settings.executable, "-W", "-D", "-f", str(settings.config_file), "-p", str(settings.pid_file)],
            check=True,
            capture_output=True,
        )
        return "started"
    if changed:
        save_server_states(settings)
        os.kill(pid, signal.SIGUSR2)
        return "reloaded"
    return ""


def stop(settings: BalancerSettings) -> bool:
    return stop_pid(settings.pid_file)


def server_states(settings: BalancerSettings) -> dict[str, str]:
    """Each target's state as HAProxy's health checks see it: UP, DOWN, MAINT, ..."""
    return {name: fields.get("status", "") for name, fields in server_stats(settings).items()}


# HAProxy's last-check results that mean "not checked yet" (the "* " prefix marks a check running).
UNCHECKED = {"", "UNK", "INI"}


def target_state(fields: dict[str, str] | None) -> str:
    """An ELB target state from HAProxy's view of one server: initial, healthy or unhealthy.

    HAProxy counts a new server UP before its first check; ELB says "initial" until the target
    passed its checks, and keeps "healthy" while failures stay under the unhealthy threshold
    (HAProxy's "UP 1/3", going down) and "unhealthy" until it passed the healthy threshold
    ("DOWN 1/2", going up).
    """
    if not fields:
        return "initial"
    status, last_check = fields.get("status", ""), fields.get("check_status", "").removeprefix("* ")
    if status.startswith("UP"):
        return "initial" if last_check in UNCHECKED else "healthy"
    return "unhealthy"


def target_health(settings: BalancerSettings, target_ids: list[str]) -> dict[str, str]:
    """The ELB state of each of ``target_ids`` from the balancer's health checks."""
    stats = server_stats(settings)
    return {target_id: target_state(stats.get(target_id)) for target_id in target_ids}


def command(settings: BalancerSettings, line: str) -> str | None:
    """One command on HAProxy's stats socket; None when HAProxy does not answer."""
    if not settings.stats_socket.exists():
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(2)
            connection.connect(str(settings.stats_socket))
            connection.sendall(line.encode() + b"\n")
            data = b""
            while chunk := connection.recv(65536):
                data += chunk
    except OSError:
        return None
    return data.decode()


def save_server_states(settings: BalancerSettings) -> None:
    """Write the servers' state for the next worker (HAProxy's seamless-reload recipe)."""
    states = command(settings, "show servers state")
    if states is not None:
        write_if_changed(settings.server_state_file, states)


def server_stats(settings: BalancerSettings) -> dict[str, dict[str, str]]:
    """HAProxy's statistics of each target server (``show stat`` on the stats socket)."""
    data = command(settings, "show stat")
    if data is None:
        return {}
    states: dict[str, dict[str, str]] = {}
    header: list[str] = []
    for line in data.splitlines():
        if line.startswith("# "):
            header = line[2:].split(",")
            continue
        fields = dict(zip(header, line.split(","), strict=False))
        if fields.get("pxname") == "targets" and fields.get("svname") not in {"BACKEND", "FRONTEND", None}:
            states[fields["svname"]] = fields
    return states
