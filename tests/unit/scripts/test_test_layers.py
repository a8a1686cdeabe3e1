"""scripts/test_layers.py: layer options, report merging, the summary, and the quiet-machine wait."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time

import pytest

from tests.helpers import layers
from tests.helpers.playbook import PROJECT_ROOT

spec = importlib.util.spec_from_file_location("layer_runner", PROJECT_ROOT / "scripts" / "test_layers.py")
runner = importlib.util.module_from_spec(spec)
sys.modules["layer_runner"] = runner  # dataclasses look their module up there
spec.loader.exec_module(runner)

JUNIT = """<?xml version="1.0"?><testsuites><testsuite name="pytest">
<testcase classname="tests.x" name="a" time="1"/><testcase classname="tests.x" name="b" time="1"><failure/></testcase>
<testcase classname="tests.x" name="c" time="0"><skipped/></testcase></testsuite></testsuites>"""


def test_only_integration_runs_over_workers_one_file_each():
    expected = ["-m", "integration", "-n", "2", "--dist", "loadfile", "--no-loadscope-reorder"]
    assert runner.layer_arguments("integration", 2) == expected
    assert runner.layer_arguments("integration", 1) == ["-m", "integration"]
    assert runner.layer_arguments("e2e", 2) == ["-m", "e2e"]


def test_reports_are_counted_and_merged(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "ARTIFACTS", tmp_path)
    (tmp_path / "junit-unit.xml").write_text(JUNIT)
    (tmp_path / "junit-e2e.xml").write_text(JUNIT)
    assert runner.junit_counts(tmp_path / "junit-unit.xml") == {"passed": 1, "failed": 1, "skipped": 1}
    runner.merge_reports(["unit", "molecule", "e2e"], tmp_path / "junit.xml")
    assert runner.junit_counts(tmp_path / "junit.xml") == {"passed": 2, "failed": 2, "skipped": 2}


def test_the_summary_names_each_layer_its_result_and_time():
    results = [runner.LayerResult("e2e", 1, 600.0, {"passed": 3, "failed": 1}),
               runner.LayerResult("unit", 0, 30.0, {"passed": 9})]  # fmt: skip
    text = runner.summary(results, 660.0)
    unit, e2e = (line for line in text.splitlines() if line.strip().startswith(("unit", "e2e")))
    assert "passed" in unit and "0.5 m" in unit
    assert "FAILED" in e2e and "10.0 m" in e2e
    assert "11.0 m" in text.splitlines()[-1]


def test_an_unknown_layer_is_refused():
    with pytest.raises(SystemExit):
        runner.parse_args(["--lane", "unit,smok"])
    arguments, pytest_args = runner.parse_args(["--lane", "unit", "--lane", "e2e", "--", "-k", "x"])
    assert arguments.lanes == [["unit"], ["e2e"]] and pytest_args == ["-k", "x"]


def test_a_measuring_test_waits_until_the_other_layers_are_done(tmp_path, monkeypatch):
    monkeypatch.setenv(layers.RUNNING_DIR_VARIABLE, str(tmp_path))
    (tmp_path / "e2e").touch()
    (tmp_path / "integration").touch()
    threading.Timer(0.3, (tmp_path / "integration").unlink).start()
    started = time.monotonic()
    layers.wait_for_a_quiet_machine("e2e", timeout=10, interval=0.05)
    assert time.monotonic() - started >= 0.25
    (tmp_path / "molecule").touch()
    with pytest.raises(AssertionError, match="molecule"):
        layers.wait_for_a_quiet_machine("e2e", timeout=0.2, interval=0.05)
    assert runner.RUNNING_DIR_VARIABLE == layers.RUNNING_DIR_VARIABLE
