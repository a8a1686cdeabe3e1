#!/usr/bin/env python3
"""Run the pytest layers in lanes side by side, then print each layer's time and result.

    python scripts/test_layers.py --lane integration,smoke --lane unit,molecule,e2e [-- pytest args]

Layers in one lane run one after the other (a failed layer does not stop the lane: every layer
reports); lanes run at the same time. Layers may share a lane or run side by side only because
they share no state: each has its own endpoint port, stack names, addresses and ports (see the
conftest.py of each layer). Every layer writes its output to .state/test-artifacts/<layer>.log
(also streamed here, prefixed with the layer's name) and its JUnit report to
junit-<layer>.xml; the reports are merged into junit.xml for scripts/reliability_report.py.

Layer options: `integration` runs its test files over INTEGRATION_WORKERS pytest-xdist workers
(each with its own endpoint, see tests/integration/conftest.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RUNNING_DIR_VARIABLE = "IMAGE_DELIVERY_RUNNING_LAYERS"  # read by tests/helpers/layers.py
ARTIFACTS = PROJECT_ROOT / ".state" / "test-artifacts"
RUNNING = ARTIFACTS / "running"
LAYERS = ("unit", "integration", "smoke", "molecule", "e2e")


@dataclass
class LayerResult:
    layer: str
    returncode: int = -1
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        # pytest exits 5 when a layer collected nothing (all deselected by the caller's -k or -m).
        return {0: "passed", 5: "no tests"}.get(self.returncode, "FAILED")


def layer_arguments(layer: str, workers: int) -> list[str]:
    """What a layer adds to the pytest command line: its marker and, for some, parallel workers."""
    arguments = ["-m", layer]
    if layer == "integration" and workers > 1:
        # One test file per worker at a time: a file's tests share a module-scoped stack. Files
        # go out in collection order (tests/integration/conftest.py puts the long ones first);
        # xdist would otherwise reorder them by their number of tests.
        arguments += ["-n", str(workers), "--dist", "loadfile", "--no-loadscope-reorder"]
    return arguments


def junit_counts(path: Path) -> dict[str, int]:
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    if not path.is_file():
        return counts
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            counts["failed"] += 1
        elif case.find("skipped") is not None:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return counts


def run_layer(layer: str, pytest_args: list[str], workers: int, output_lock: threading.Lock) -> LayerResult:
    result = LayerResult(layer)
    junit = ARTIFACTS / f"junit-{layer}.xml"
    junit.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", *layer_arguments(layer, workers), f"--junitxml={junit}", *pytest_args]
    marker = RUNNING / layer  # tests/helpers/layers.py: a load test waits until it runs alone
    marker.touch()
    started = time.monotonic()
    with (ARTIFACTS / f"{layer}.log").open("w") as log:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1,
        )  # fmt: skip
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            with output_lock:
                print(f"[{layer:<11}] {line}", end="", flush=True)
        result.returncode = process.wait()
    marker.unlink(missing_ok=True)
    result.seconds = time.monotonic() - started
    result.counts = junit_counts(junit)
    return result


def run_lane(layers: list[str], pytest_args: list[str], workers: int, lock: threading.Lock, results: list) -> None:
    for layer in layers:
        results.append(run_layer(layer, pytest_args, workers, lock))


def merge_reports(layers: list[str], destination: Path) -> None:
    merged = ElementTree.Element("testsuites")
    for layer in layers:
        report = ARTIFACTS / f"junit-{layer}.xml"
        if report.is_file():
            root = ElementTree.parse(report).getroot()
            merged.extend(root.iter("testsuite") if root.tag == "testsuites" else [root])
    ElementTree.ElementTree(merged).write(destination, encoding="unicode", xml_declaration=True)


def summary(results: list[LayerResult], wall: float) -> str:
    lines = ["", "== test layers", f"  {'layer':<12}{'result':<10}{'passed':>7}{'failed':>7}{'skipped':>8}{'time':>10}"]
    for result in sorted(results, key=lambda item: LAYERS.index(item.layer)):
        counts = result.counts
        lines.append(
            f"  {result.layer:<12}{result.outcome:<10}{counts.get('passed', 0):>7}{counts.get('failed', 0):>7}"
            f"{counts.get('skipped', 0):>8}{result.seconds / 60:>8.1f} m"
        )
    lines.append(f"  {'all (wall)':<44}{wall / 60:>8.1f} m")
    return "\n".join(lines)


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    split = argv.index("--") if "--" in argv else len(argv)
    own, pytest_args = argv[:split], argv[split + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lane", action="append", required=True, help="comma-separated layers run in turn")
    parser.add_argument("--junit", type=Path, default=ARTIFACTS / "junit.xml", help="the merged JUnit report")
    parser.add_argument(
        "--integration-workers", type=int, default=int(os.environ.get("INTEGRATION_WORKERS", "2")),
        help="pytest-xdist workers of the integration layer (1: none)",
    )  # fmt: skip
    arguments = parser.parse_args(own)
    arguments.lanes = [[layer.strip() for layer in lane.split(",") if layer.strip()] for lane in arguments.lane]
    for layer in (layer for lane in arguments.lanes for layer in lane):
        if layer not in LAYERS:
            parser.error(f"unknown layer {layer!r}: choose from {', '.join(LAYERS)}")
    return arguments, pytest_args


def main(argv: list[str] | None = None) -> int:
    arguments, pytest_args = parse_args(sys.argv[1:] if argv is None else argv)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(RUNNING, ignore_errors=True)
    RUNNING.mkdir()
    os.environ[RUNNING_DIR_VARIABLE] = str(RUNNING)
    lock, results = threading.Lock(), []
    started = time.monotonic()
    lanes = [
        threading.Thread(target=run_lane, args=(lane, pytest_args, arguments.integration_workers, lock, results))
        for lane in arguments.lanes
    ]
    for lane in lanes:
        lane.start()
    for lane in lanes:
        lane.join()
    merge_reports([layer for lane in arguments.lanes for layer in lane], arguments.junit)
    print(summary(results, time.monotonic() - started), flush=True)
    return 0 if all(result.outcome != "FAILED" for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
