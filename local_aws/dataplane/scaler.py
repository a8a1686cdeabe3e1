"""Target tracking for the local instances: what AWS Auto Scaling does with the group's policy.

The local AWS endpoint stores the target tracking policy but never acts on it. Each pass of the
data plane, the scaler reads every instance container's CPU time from its cgroup, averages the
utilisation of the instances past their warm-up, and sets the group's desired capacity on the
endpoint the way target tracking would; the next reconcile pass then starts or removes containers.

The rule (AWS's, simplified to one evaluation per pass):
- scale out at once when the average is above the target: desired = ceil(in service x average /
  target), at most max_size; instances still warming up do not count toward the average, and no
  scale-out happens while one warms up unless the new capacity is larger than the pending one;
- scale in only after the average stayed below the target for `scale_in_evaluations` passes, with
  the instances left staying under 90 % of the target, and the cooldown since the last activity is
  over; one instance at a time, at least min_size.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

SCALE_IN_MARGIN = 0.9
CPU_USAGE_FILES = (
    ("cpu.stat", "usage_usec", 1e-6),  # cgroup v2
    ("cpuacct.usage", None, 1e-9),  # cgroup v1
)


@dataclass(frozen=True)
class Policy:
    """The group's limits and its target tracking policy, as stored on the endpoint."""

    target: float
    min_size: int
    max_size: int
    warmup_seconds: float
    cooldown_seconds: float
    scale_in_evaluations: int = 3


@dataclass
class ScalerState:
    """What the scaler remembers between passes (kept in memory by the agent loop)."""

    last_usage: dict[str, tuple[float, float]] = field(default_factory=dict)  # instance -> (time, cpu seconds)
    first_seen: dict[str, float] = field(default_factory=dict)
    last_activity: float = float("-inf")
    below_target_passes: int = 0
    last_desired: int | None = None


@dataclass(frozen=True)
class Decision:
    desired: int
    average_cpu: float | None
    counted: int
    reason: str


def utilisation(previous: tuple[float, float], current: tuple[float, float], cpus: float) -> float:
    """Percent of `cpus` CPUs used between two (time, cpu seconds) samples."""
    elapsed = current[0] - previous[0]
    if elapsed <= 0:
        raise ValueError("samples must move forward in time")
    return max(0.0, 100.0 * (current[1] - previous[1]) / (elapsed * cpus))


def decide(policy: Policy, state: ScalerState, now: float, desired: int, in_service: int,
           cpu_by_instance: dict[str, float]) -> Decision:  # fmt: skip
    """The desired capacity after this pass (pure: the caller applies it and updates the state)."""
    counted = {name: cpu for name, cpu in cpu_by_instance.items()
               if now - state.first_seen.get(name, now) >= policy.warmup_seconds}  # fmt: skip
    warming = len(cpu_by_instance) - len(counted)
    if not counted:
        state.below_target_passes = 0
        return Decision(desired, None, 0, "no instance past its warm-up yet")
    average = sum(counted.values()) / len(counted)
    wanted = min(policy.max_size, max(policy.min_size, math.ceil(len(counted) * average / policy.target)))
    if average > policy.target:
        state.below_target_passes = 0
        pending = len(counted) + warming
        if wanted > max(desired, pending):
            return Decision(wanted, average, len(counted), f"average {average:.0f}% above {policy.target:.0f}%")
        return Decision(desired, average, len(counted), "above target, capacity already on its way")
    # Scale in only when the instances left would stay clearly below the target (AWS's scale-in
    # alarm sits at 90 % of it): otherwise the next evaluation scales straight out again.
    after_scale_in = average * len(counted) / max(len(counted) - 1, 1)
    if average < policy.target and wanted < desired and after_scale_in <= SCALE_IN_MARGIN * policy.target:
        state.below_target_passes += 1
        if state.below_target_passes < policy.scale_in_evaluations:
            return Decision(desired, average, len(counted), "below target, waiting for more evaluations")
        if now - state.last_activity < policy.cooldown_seconds:
            return Decision(desired, average, len(counted), "below target, in cooldown")
        reason = f"average {average:.0f}% below {policy.target:.0f}% for {state.below_target_passes} passes"
        return Decision(max(policy.min_size, desired - 1), average, len(counted), reason)
    state.below_target_passes = 0
    return Decision(desired, average, len(counted), "on target")


def cgroup_cpu_seconds(pid: int, cgroup_root: Path = Path("/sys/fs/cgroup")) -> float:
    """CPU seconds used by the cgroup of a process (a container's init), cgroup v1 or v2."""
    lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    candidates = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            candidates.append(cgroup_root / path.lstrip("/"))
            candidates.append(cgroup_root / "unified" / path.lstrip("/"))
        elif "cpuacct" in controllers.split(","):
            candidates.append(cgroup_root / controllers / path.lstrip("/"))
            candidates.append(cgroup_root / "cpuacct" / path.lstrip("/"))
    for folder in candidates:
        for name, key, scale in CPU_USAGE_FILES:
            usage_file = folder / name
            if not usage_file.is_file():
                continue
            text = usage_file.read_text()
            if key is None:
                return int(text.strip()) * scale
            for row in text.splitlines():
                field_name, value = row.split()
                if field_name == key:
                    return int(value) * scale
    raise FileNotFoundError(f"no CPU accounting found for process {pid} in {cgroup_root}")


def read_policy(autoscaling, group: dict) -> Policy | None:
    """The target tracking policy on average CPU of a group, or None when it has none."""
    policies = autoscaling.describe_policies(AutoScalingGroupName=group["AutoScalingGroupName"])["ScalingPolicies"]
    for policy in policies:
        configuration = policy.get("TargetTrackingConfiguration") or {}
        metric = (configuration.get("PredefinedMetricSpecification") or {}).get("PredefinedMetricType")
        if metric == "ASGAverageCPUUtilization":
            return Policy(
                target=float(configuration["TargetValue"]),
                min_size=int(group["MinSize"]),
                max_size=int(group["MaxSize"]),
                warmup_seconds=float(policy.get("EstimatedInstanceWarmup") or group.get("DefaultCooldown", 300)),
                cooldown_seconds=float(group.get("DefaultCooldown", 300)),
            )
    return None


def sample(state: ScalerState, now: float, cpu_seconds: dict[str, float], cpus: float) -> dict[str, float]:
    """Record this pass's CPU counters; the utilisation of each instance seen in the last pass."""
    result = {}
    for name, seconds in cpu_seconds.items():
        state.first_seen.setdefault(name, now)
        previous = state.last_usage.get(name)
        if previous and now > previous[0]:
            result[name] = utilisation(previous, (now, seconds), cpus)
        state.last_usage[name] = (now, seconds)
    for gone in set(state.last_usage) - set(cpu_seconds):
        state.last_usage.pop(gone)
        state.first_seen.pop(gone, None)
    return result


def append_timeline(path: Path, entry: dict) -> None:
    """One JSON line per pass: the load test plots capacity and CPU from it."""
    with path.open("a") as timeline:
        timeline.write(json.dumps({"time": round(time.time(), 3), **entry}) + "\n")
