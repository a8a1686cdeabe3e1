"""One reconcile pass of the local data plane, and the loop that repeats it.

A pass reads the stack from the local AWS endpoint and makes this machine match it:
containers follow the group's instances (new ones boot and run their user data, gone ones are
removed, a dead one is terminated in the group so that the group replaces it, as an EC2 status
check would, and so is one past its grace period whose target is unhealthy, as the group's ELB
health check would), the load balancer follows the target group, the edge follows the distribution, and
new invalidations purge the edge's cache.
"""

from __future__ import annotations

import fcntl
import json
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..fixes.elbv2_target_health import ROUTE as TARGET_HEALTH_ROUTE
from ..fixes.instance_metadata import PREFIX as METADATA_PREFIX
from ..identities import ADMIN
from ..processes import write_if_changed
from . import balancer, edge, health_replacement, scaler
from .instances import Podman
from .stack import Stack, read_stack

LOCAL_HOST = "127.0.0.1"
# Seconds between taking a leaving instance out of the balancer and removing its container.
DRAIN_SECONDS = 2.0


@dataclass(frozen=True)
class Settings:
    stack: str
    endpoint_url: str
    region: str
    state_dir: Path
    podman: str
    image: str
    edge_port: int = 8080
    balancer_port: int = 8081
    origin_access_port: int = 8082
    # The data plane stands in for AWS itself (EC2, the load balancer, CloudFront): the emulator's
    # administrator, never the deployer's or an instance's identity.
    access_key: str = ADMIN.access_key
    secret_key: str = ADMIN.secret_key
    memory: str = ""
    cpus: str = ""
    # Seconds between two evaluations of the group's target tracking policy; 0: no scaler.
    scaler_period: float = 0.0

    @property
    def scaler_timeline(self) -> Path:
        return self.state_dir / "scaler.jsonl"

    @property
    def balancer(self) -> balancer.BalancerSettings:
        return balancer.BalancerSettings(LOCAL_HOST, self.balancer_port, self.state_dir / "balancer")

    @property
    def edge(self) -> edge.EdgeSettings:
        return edge.EdgeSettings(
            LOCAL_HOST,
            self.edge_port,
            f"{LOCAL_HOST}:{self.balancer_port}",
            f"{LOCAL_HOST}:{self.origin_access_port}",
            self.state_dir / "edge",
        )

    @property
    def in_service_file(self) -> Path:
        return self.state_dir / "in-service.json"

    @property
    def replacements_log(self) -> Path:
        return self.state_dir / "replacements.jsonl"

    @property
    def invalidations_file(self) -> Path:
        return self.state_dir / "invalidations-applied.json"

    def instance_environment(self, instance_id: str, listen_address: str) -> dict[str, str]:
        """Where an instance finds AWS here: the endpoint, and its own instance metadata service
        (the SDKs' AWS_EC2_METADATA_SERVICE_ENDPOINT), which hands out its role's credentials as
        on EC2. No key pair: the instance signs as its instance profile's role."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": f"{self.endpoint_url}{METADATA_PREFIX}{instance_id}/",
            # The SDKs' metadata client gives EC2's link-local service 1 s and one attempt; this one
            # shares a process with every emulated AWS API on a busy 2-core machine.
            "AWS_METADATA_SERVICE_TIMEOUT": "5",
            "AWS_METADATA_SERVICE_NUM_ATTEMPTS": "3",
            "IMAGE_DELIVERY_LISTEN_ADDRESS": listen_address,
        }


@dataclass
class Clients:
    autoscaling: Any
    ec2: Any
    elbv2: Any
    cloudfront: Any
    s3: Any

    @classmethod
    def connect(cls, settings: Settings) -> Clients:
        import boto3
        from botocore.config import Config

        session = boto3.session.Session(
            aws_access_key_id=settings.access_key,
            aws_secret_access_key=settings.secret_key,
            region_name=settings.region,
        )
        config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30)

        def client(name: str) -> Any:
            return session.client(name, endpoint_url=settings.endpoint_url, config=config)

        return cls(client("autoscaling"), client("ec2"), client("elbv2"), client("cloudfront"), client("s3"))


@dataclass
class Report:
    started: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unhealthy_replaced: list[str] = field(default_factory=list)
    balancer: str = ""
    edge: str = ""
    purged: dict[str, int] = field(default_factory=dict)
    health: dict[str, str] = field(default_factory=dict)  # what the balancer's checks see: not a change

    @property
    def changed(self) -> bool:
        return bool(
            self.started or self.removed or self.replaced or self.unhealthy_replaced or self.balancer or self.edge
            or self.purged
        )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "started": self.started,
            "removed": self.removed,
            "replaced": self.replaced,
            "unhealthy_replaced": self.unhealthy_replaced,
            "balancer": self.balancer,
            "edge": self.edge,
            "purged": self.purged,
            "health": self.health,
        }


@contextmanager
def exclusive(state_dir: Path) -> Iterator[None]:
    """One pass at a time per stack (the loop and a one-shot sync from a playbook)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / "sync.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def sync_once(settings: Settings, clients: Clients, podman: Podman) -> Report:
    with exclusive(settings.state_dir):
        stack = read_stack(clients, settings.stack)
        report = Report()
        # The balancer first: an instance that is going away leaves rotation (HAProxy reloads
        # gracefully) before its container is removed, as an ALB deregisters before termination.
        if stack.exists and stack.target_group_arn:
            report.balancer = balancer.apply(stack, settings.balancer)
            report.health = report_target_health(stack, settings)
            replace_unhealthy(stack, settings, clients, report)
        elif balancer.stop(settings.balancer):
            report.balancer = "stopped"
        reconcile_instances(stack, settings, clients, podman, report)
        if stack.distribution_config:
            report.edge = edge.apply(stack.distribution_config, settings.edge, stack.function_code)
            report.purged = apply_invalidations(stack, settings, clients)
        elif edge.stop(settings.edge):
            report.edge = "stopped"
        return report


def report_target_health(stack: Stack, settings: Settings) -> dict[str, str]:
    """Tell the endpoint what the balancer's health checks see (ELB's DescribeTargetHealth).

    The endpoint reports "initial" for a target nobody checked (local_aws/fixes/elbv2_target_health.py).
    """
    states = balancer.target_health(settings.balancer, [instance.instance_id for instance in stack.serving_targets()])
    body = json.dumps({"target_group_arn": stack.target_group_arn, "targets": states}).encode()
    request = urllib.request.Request(
        settings.endpoint_url.rstrip("/") + TARGET_HEALTH_ROUTE, data=body, method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()
    return states


def replace_unhealthy(stack: Stack, settings: Settings, clients: Clients, report: Report) -> None:
    """The group's ELB health check: replace InService instances past their grace period whose
    target the balancer finds unhealthy (local_aws/dataplane/health_replacement.py)."""
    now = time.time()
    since = health_replacement.in_service_since(settings.in_service_file, stack, now)
    for replacement in health_replacement.due_for_replacement(stack, report.health, since, now):
        health_replacement.replace(clients.autoscaling, replacement, settings.replacements_log, now)
        report.unhealthy_replaced.append(replacement.instance_id)


def reconcile_instances(stack: Stack, settings: Settings, clients: Clients, podman: Podman, report: Report) -> None:
    wanted = {instance.instance_id: instance for instance in stack.instances}
    existing = {container.instance_id: container for container in podman.containers(settings.stack)}
    leaving = [container for instance_id, container in existing.items() if instance_id not in wanted]
    if leaving and report.balancer:
        time.sleep(DRAIN_SECONDS)  # requests the old HAProxy worker still carries finish first
    for container in leaving:
        podman.remove(container.name)
        report.removed.append(container.instance_id)
    for instance_id, container in existing.items():
        if instance_id in wanted and not container.running:
            # The instance is gone for good (its "hardware" died): the group must replace it.
            clients.autoscaling.terminate_instance_in_auto_scaling_group(
                InstanceId=instance_id, ShouldDecrementDesiredCapacity=False
            )
            podman.remove(container.name)
            report.replaced.append(instance_id)
    for instance_id, instance in wanted.items():
        if instance_id in existing:
            continue
        podman.start_instance(
            settings.stack,
            instance_id,
            settings.instance_environment(instance_id, instance.listen_address),
            settings.memory,
            settings.cpus,
        )
        podman.run_user_data(instance_id, stack.user_data)
        report.started.append(instance_id)


def apply_invalidations(stack: Stack, settings: Settings, clients: Clients) -> dict[str, int]:
    """Purge the edge for every invalidation on the distribution not applied yet."""
    try:
        applied = set(json.loads(settings.invalidations_file.read_text()))
    except (FileNotFoundError, ValueError):
        applied = set()
    listing = clients.cloudfront.list_invalidations(DistributionId=stack.distribution_id)["InvalidationList"]
    purged: dict[str, int] = {}
    for summary in listing.get("Items") or []:
        if summary["Id"] in applied:
            continue
        batch = clients.cloudfront.get_invalidation(DistributionId=stack.distribution_id, Id=summary["Id"])
        paths = batch["Invalidation"]["InvalidationBatch"]["Paths"].get("Items") or []
        purged[summary["Id"]] = edge.purge(settings.edge.cache_dir, paths)
        applied.add(summary["Id"])
    if purged:
        write_if_changed(settings.invalidations_file, json.dumps(sorted(applied)))
    return purged


def scale_once(settings: Settings, clients: Clients, podman: Podman, state: scaler.ScalerState) -> dict | None:
    """Evaluate the group's target tracking policy on the containers' CPU and apply the decision."""
    stack = read_stack(clients, settings.stack)
    if not stack.exists:
        return None
    found = clients.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[stack.group_name])
    group = found["AutoScalingGroups"][0]
    policy = scaler.read_policy(clients.autoscaling, group)
    if policy is None:
        return None
    now = time.time()
    if state.last_desired is not None and state.last_desired != group["DesiredCapacity"]:
        state.last_activity = now  # someone else scaled the group: the cooldown starts again
    in_service = [item["InstanceId"] for item in group["Instances"] if item["LifecycleState"] == "InService"]
    running = {container.instance_id: container.name for container in podman.containers(settings.stack)
               if container.running}  # fmt: skip
    cpu_seconds = {}
    for instance_id in in_service:
        if instance_id in running:
            cpu_seconds[instance_id] = scaler.cgroup_cpu_seconds(podman.init_pid(running[instance_id]))
    cpu = scaler.sample(state, now, cpu_seconds, float(settings.cpus or 1))
    # Only instances that serve say something about the load: one still configuring itself (its
    # first boot burns CPU on the release) would otherwise trigger a scale-out of its own.
    serving = {target for target, health in balancer.server_states(settings.balancer).items() if health == "UP"}
    cpu = {instance_id: value for instance_id, value in cpu.items() if instance_id in serving}
    decision = scaler.decide(policy, state, now, group["DesiredCapacity"], len(in_service), cpu)
    if decision.desired != group["DesiredCapacity"]:
        clients.autoscaling.set_desired_capacity(
            AutoScalingGroupName=stack.group_name, DesiredCapacity=decision.desired, HonorCooldown=False
        )
        state.last_activity, state.below_target_passes = now, 0
    state.last_desired = decision.desired
    entry = {
        "desired": decision.desired,
        "in_service": len(in_service),
        "average_cpu": decision.average_cpu,
        "counted": decision.counted,
        "cpu": {instance_id: round(value, 1) for instance_id, value in cpu.items()},
        "reason": decision.reason,
    }
    scaler.append_timeline(settings.scaler_timeline, entry)
    return entry


def run_forever(settings: Settings, interval: float, status_file: Path) -> None:
    """The background loop: a pass every ``interval`` seconds, its result in ``status_file``."""
    from .origin_access import serve_in_background

    clients = Clients.connect(settings)
    podman = Podman(settings.podman, settings.image)
    serve_in_background(LOCAL_HOST, settings.origin_access_port, clients.s3)
    scaling = scaler.ScalerState(last_activity=time.time())
    next_evaluation = time.time() + settings.scaler_period
    while True:
        started = time.time()
        try:
            status = {"time": started, "ok": True, **sync_once(settings, clients, podman).as_dict()}
        except Exception as error:  # keep looping: the endpoint may be restarting
            status = {"time": started, "ok": False, "error": f"{type(error).__name__}: {error}"}
        if settings.scaler_period > 0 and started >= next_evaluation:
            next_evaluation = started + settings.scaler_period
            try:
                scale_once(settings, clients, podman, scaling)
            except Exception as error:  # a failed evaluation is skipped, as a missing metric would be
                status["scaler_error"] = f"{type(error).__name__}: {error}"
        if status.get("changed") or not status["ok"]:
            print(json.dumps(status), flush=True)
        write_if_changed(status_file, json.dumps(status), mode=0o644)
        time.sleep(max(0.0, interval - (time.time() - started)))
