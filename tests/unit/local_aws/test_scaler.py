"""The local scaler: target tracking decisions, utilisation from CPU counters, cgroup accounting."""

from __future__ import annotations

import os
import time

import pytest

from local_aws.dataplane.scaler import Policy, ScalerState, cgroup_cpu_seconds, decide, sample, utilisation

POLICY = Policy(target=50, min_size=2, max_size=4, warmup_seconds=60, cooldown_seconds=120, scale_in_evaluations=3)


def warmed(*names: str, at: float = 0.0) -> ScalerState:
    return ScalerState(first_seen=dict.fromkeys(names, at), last_activity=at)


def test_above_target_scales_out_in_proportion_capped_at_max():
    state = warmed("a", "b")
    assert decide(POLICY, state, 100, 2, 2, {"a": 80, "b": 70}).desired == 3  # ceil(2 x 75 / 50)
    assert decide(POLICY, warmed("a", "b"), 100, 2, 2, {"a": 100, "b": 100}).desired == 4
    assert decide(POLICY, warmed("a", "b"), 100, 2, 2, {"a": 400, "b": 400}).desired == 4, "never above max_size"


def test_warming_instances_neither_count_nor_get_doubled():
    state = warmed("a", "b")
    state.first_seen["c"] = 90  # started 10 s ago, warm-up 60 s
    decision = decide(POLICY, state, 100, 3, 3, {"a": 80, "b": 70, "c": 5})
    assert decision.counted == 2 and decision.average_cpu == 75
    assert decision.desired == 3, "the capacity asked for is already on its way"
    assert decide(POLICY, warmed(), 100, 2, 2, {"new": 99}).desired == 2


def test_scale_in_waits_for_evaluations_and_cooldown_one_at_a_time():
    state = warmed("a", "b", "c", "d", at=0)
    low = {"a": 5, "b": 5, "c": 5, "d": 5}
    assert decide(POLICY, state, 100, 4, 4, low).desired == 4, "first low evaluation"
    assert decide(POLICY, state, 110, 4, 4, low).desired == 4, "second"
    assert decide(POLICY, state, 119, 4, 4, low).reason == "below target, in cooldown"
    assert decide(POLICY, state, 130, 4, 4, low).desired == 3, "one instance at a time"


def test_never_below_min_and_quiet_on_target():
    state = warmed("a", "b")
    for moment in (200, 210, 220, 230):
        assert decide(POLICY, state, moment, 2, 2, {"a": 0, "b": 0}).desired == 2
    assert decide(POLICY, warmed("a", "b"), 300, 2, 2, {"a": 50, "b": 50}).reason == "on target"


def test_a_spike_resets_the_scale_in_count():
    state = warmed("a", "b", "c")
    decide(POLICY, state, 200, 3, 3, {"a": 5, "b": 5, "c": 5})
    decide(POLICY, state, 210, 3, 3, {"a": 5, "b": 5, "c": 5})
    decide(POLICY, state, 220, 3, 3, {"a": 90, "b": 90, "c": 90})
    assert state.below_target_passes == 0


def test_utilisation_is_cpu_time_over_wall_time_and_cpus():
    assert utilisation((0.0, 10.0), (10.0, 15.0), cpus=1) == 50
    assert utilisation((0.0, 10.0), (10.0, 15.0), cpus=2) == 25
    with pytest.raises(ValueError, match="forward"):
        utilisation((10.0, 1.0), (10.0, 2.0), cpus=1)


def test_sample_remembers_counters_and_forgets_gone_instances():
    state = ScalerState()
    assert sample(state, 0, {"a": 1.0, "b": 2.0}, 1) == {}
    assert sample(state, 10, {"a": 6.0}, 1) == {"a": 50.0}
    assert set(state.last_usage) == {"a"} and set(state.first_seen) == {"a"}


def test_cgroup_accounting_of_a_real_process_grows_with_its_work():
    before = cgroup_cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass  # burn CPU on purpose: the work the cgroup must count
    after = cgroup_cpu_seconds(os.getpid())
    assert after - before >= 0.25, "the cgroup counted this process's CPU time"


def test_cgroup_v2_layout(tmp_path, monkeypatch):
    cgroup = tmp_path / "machine.slice" / "libpod-1.scope"
    cgroup.mkdir(parents=True)
    (cgroup / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n")
    proc = tmp_path / "proc-cgroup"
    proc.write_text("0::/machine.slice/libpod-1.scope\n")
    real_read = type(proc).read_text

    def read(path, *args, **kwargs):
        return real_read(proc if str(path) == "/proc/4242/cgroup" else path, *args, **kwargs)

    monkeypatch.setattr(type(proc), "read_text", read)
    assert cgroup_cpu_seconds(4242, cgroup_root=tmp_path) == 2.5


def test_no_scale_in_that_would_push_the_rest_over_the_target():
    state = warmed("a", "b", "c")
    busy_enough = {"a": 32, "b": 32, "c": 32}  # two instances would run at 48 %, above 90 % of 50 %
    for moment in (200, 210, 220, 230):
        assert decide(POLICY, state, moment, 3, 3, busy_enough).desired == 3
    quiet = {"a": 20, "b": 20, "c": 20}  # two would run at 30 %
    for moment in (300, 310):
        decide(POLICY, state, moment, 3, 3, quiet)
    assert decide(POLICY, state, 320, 3, 3, quiet).desired == 2
