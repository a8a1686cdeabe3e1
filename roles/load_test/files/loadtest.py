#!/usr/bin/env python3
"""A bounded load test through the edge (run by playbooks/loadtest.yml).

wrk drives the load (edge-load.lua beside this file: new search queries that miss the edge, or
repeated ones that hit it); a probe measures one request a second alongside, so latency is known
over time; the local scaler's timeline (capacity and CPU per evaluation) is read back. Writes
report.json and a plot of capacity, CPU and latency over time (loadtest.svg), prints the report.

Bounds: loopback targets only, at most 64 connections, 4 threads, 900 s of load and 1800 s of
observation afterwards.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import re
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

WRK_SCRIPT = Path(__file__).resolve().parent / "edge-load.lua"
LIMITS = {"connections": 64, "threads": 4, "duration": 900, "observe": 1800}


class LoadTestError(ValueError):
    """A request outside the load test's bounds."""


def check_bounds(url: str, connections: int, threads: int, duration: int, observe: int) -> None:
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise LoadTestError(f"the load test only targets this machine (127.0.0.0/8); got {url}")
    for name, value in {"connections": connections, "threads": threads, "duration": duration}.items():
        if not 1 <= value <= LIMITS[name]:
            raise LoadTestError(f"{name} must be 1 to {LIMITS[name]} (got {value})")
    if threads > connections:
        raise LoadTestError("threads must not exceed connections")
    if not 0 <= observe <= LIMITS["observe"]:
        raise LoadTestError(f"observe must be 0 to {LIMITS['observe']} (got {observe})")


def parse_wrk(output: str) -> dict:
    """The LOADTEST line that edge-load.lua prints, with derived figures."""
    match = re.search(r"^LOADTEST (\{.*\})$", output, re.MULTILINE)
    if not match:
        raise RuntimeError(f"wrk printed no LOADTEST line:\n{output[-2000:]}")
    raw = json.loads(match.group(1))
    seconds = raw["duration_us"] / 1e6
    cache = raw["cache"]
    looked_up = cache["hits"] + cache["misses"]
    return {
        "requests": raw["requests"],
        "seconds": round(seconds, 1),
        "requests_per_second": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        "errors": sum(raw["errors"].values()),
        "error_kinds": raw["errors"],
        "latency_ms": {key: round(value / 1000, 2) for key, value in raw["latency_us"].items()},
        "cache_hit_ratio": round(cache["hits"] / looked_up, 3) if looked_up else None,
        "cache": cache,
    }


@dataclass
class Probe:
    """One request a second, timed, in a thread (latency over time beside wrk's totals)."""

    url: str
    samples: list[tuple[float, float, int]] = field(default_factory=list)
    running: bool = True

    def run(self) -> None:
        while self.running:
            started = time.time()
            try:
                query = f"{self.url}/api/search?q=sea&_={uuid.uuid4().hex}"
                with urllib.request.urlopen(query, timeout=10) as answer:
                    answer.read()
                    status = answer.status
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:
                status = 0
            self.samples.append((started, (time.time() - started) * 1000, status))
            time.sleep(max(0.0, 1.0 - (time.time() - started)))


def read_timeline(path: Path | None, since: float, until: float) -> list[dict]:
    """The scaler's evaluations from `since` to `until`, led by the last one before (the baseline)."""
    if path is None or not path.is_file():
        return []
    entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    before = [entry for entry in entries if entry["time"] < since]
    return before[-1:] + [entry for entry in entries if since <= entry["time"] <= until]


def scaling_summary(timeline: list[dict], load_end: float) -> dict:
    if not timeline:
        return {"evaluations": 0}
    desired = [entry["desired"] for entry in timeline]
    cpu = [entry["average_cpu"] for entry in timeline if entry["average_cpu"] is not None]
    after_load = [entry["desired"] for entry in timeline if entry["time"] > load_end]
    return {
        "evaluations": len(timeline),
        "desired_start": desired[0],
        "desired_peak": max(desired),
        "desired_end": desired[-1],
        "scaled_out": max(desired) > desired[0],
        "scaled_in_after_load": bool(after_load) and after_load[-1] < max(desired),
        "average_cpu_peak": round(max(cpu), 1) if cpu else None,
    }


def polyline(
    points: list[tuple[float, float]], x0: float, x1: float, y_max: float, box: tuple[int, int, int, int]
) -> str:
    left, top, width, height = box
    span = max(x1 - x0, 1e-9)
    coords = " ".join(f"{left + (x - x0) / span * width:.1f},{top + height - min(y, y_max) / y_max * height:.1f}"
                      for x, y in points)  # fmt: skip
    return coords


def plot(path: Path, timeline: list[dict], probe: list[tuple[float, float, int]], start: float, load_end: float,
         end: float, target: float | None) -> None:  # fmt: skip
    """Three panels over time: capacity, average CPU (with the target), probe latency."""
    width, panel, margin = 760, 150, 50
    height = margin + 3 * (panel + 40)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
             'font-size="12"><rect width="100%" height="100%" fill="white"/>']  # fmt: skip
    plot_width = width - 2 * margin
    load_x = margin + (load_end - start) / max(end - start, 1e-9) * plot_width
    panels = [
        ("Instances (desired)", [(e["time"], e["desired"]) for e in timeline], 5.0, "#1f77b4", None),
        ("Average CPU %", [(e["time"], e["average_cpu"]) for e in timeline if e["average_cpu"] is not None], 100.0,
         "#d62728", target),
        ("Probe latency ms", [(t, latency) for t, latency, _ in probe], max([lat for _, lat, _ in probe] + [10]) * 1.1,
         "#2ca02c", None),
    ]  # fmt: skip
    for index, (title, points, y_max, colour, line_at) in enumerate(panels):
        top = margin + index * (panel + 40)
        box = (margin, top, plot_width, panel)
        parts.append(f'<text x="{margin}" y="{top - 8}">{title} (max shown {y_max:.0f})</text>')
        parts.append(f'<rect x="{margin}" y="{top}" width="{plot_width}" height="{panel}" fill="none" stroke="#999"/>')
        parts.append(f'<line x1="{load_x:.1f}" y1="{top}" x2="{load_x:.1f}" y2="{top + panel}" stroke="#999" '
                     'stroke-dasharray="4 3"/>')  # fmt: skip
        if line_at is not None:
            y = top + panel - line_at / y_max * panel
            parts.append(f'<line x1="{margin}" y1="{y:.1f}" x2="{margin + plot_width}" y2="{y:.1f}" stroke="{colour}" '
                         'stroke-dasharray="2 2"/>')  # fmt: skip
        if points:
            coords = polyline(points, start, end, y_max, box)
            parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
    parts.append(f'<text x="{margin}" y="{height - 12}">seconds 0 to {end - start:.0f}; dashed: end of the load</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the edge, e.g. http://127.0.0.1:8080")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--observe", type=int, default=0, help="seconds to keep watching after the load")
    parser.add_argument("--mode", choices=["miss", "hit"], default="miss")
    parser.add_argument(
        "--timeline",
        type=lambda value: Path(value) if value else None,
        help="the local scaler's timeline (the stack outputs' scaler_timeline); empty: none",
    )
    parser.add_argument("--target", type=float, help="the policy's CPU target, drawn on the plot")
    parser.add_argument("--output-dir", type=Path, required=True)
    arguments = parser.parse_args()
    url = arguments.url.rstrip("/")
    check_bounds(url, arguments.connections, arguments.threads, arguments.duration, arguments.observe)
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed (apt install wrk; make test-tools installs it)")
    arguments.output_dir.mkdir(parents=True, exist_ok=True)

    probe = Probe(url)
    probe_thread = threading.Thread(target=probe.run, daemon=True)
    start = time.time()
    probe_thread.start()
    completed = subprocess.run(
        [wrk, "--threads", str(arguments.threads), "--connections", str(arguments.connections),
         "--duration", f"{arguments.duration}s", "--timeout", "10s", "--script", str(WRK_SCRIPT), url],
        capture_output=True, text=True, check=False, env={"LOADTEST_MODE": arguments.mode, "PATH": "/usr/bin:/bin"},
        timeout=arguments.duration + 60,
    )  # fmt: skip
    load_end = time.time()
    if completed.returncode != 0:
        raise SystemExit(f"wrk failed ({completed.returncode}): {completed.stderr[-2000:]}")
    time.sleep(arguments.observe)
    probe.running = False
    probe_thread.join(timeout=15)
    end = time.time()

    timeline = read_timeline(arguments.timeline, start, end)
    during = [sample for sample in probe.samples if sample[0] <= load_end]
    report = {
        "url": url,
        "mode": arguments.mode,
        "connections": arguments.connections,
        "threads": arguments.threads,
        "load": parse_wrk(completed.stdout),
        "probe": {
            "samples": len(probe.samples),
            "failed": sum(1 for _, _, status in probe.samples if status != 200),
            "latency_ms_during_load_max": round(max((lat for _, lat, _ in during), default=0.0), 1),
        },
        "scaling": scaling_summary(timeline, load_end),
        "plot": str(arguments.output_dir / "loadtest.svg"),
    }
    (arguments.output_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (arguments.output_dir / "timeline.json").write_text(json.dumps({"scaler": timeline, "probe": probe.samples}))
    plot(arguments.output_dir / "loadtest.svg", timeline, probe.samples, start, load_end, end, arguments.target)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
