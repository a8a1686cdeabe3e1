"""Edge benchmark: the local edge on a cache hit against raw NGINX serving the same bytes from disk,
measured in the same run (goal: edge >= 0.8x raw), and the latency of the miss path (edge -> load
balancer -> instance -> app). Needs the local stack (`make up`); writes .state/bench/edge.json,
docs/benchmarks.md and docs/benchmarks-edge.svg.

    .venv/bin/python bench/edge.py [--stack image-delivery] [--seconds 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api import load_with_wrk  # the sibling benchmark's wrk driver

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GOAL = 0.8


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> tuple[bytes, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.read(), {k.lower(): v for k, v in answer.headers.items()}


def start_raw_nginx(folder: Path, port: int) -> subprocess.Popen:
    """NGINX serving files from disk: the baseline the edge's cache hits are compared with."""
    (folder / "tmp").mkdir(exist_ok=True)
    user = "user root root;\n" if os.geteuid() == 0 else ""
    config = folder / "nginx.conf"
    config.write_text(
        f"{user}worker_processes auto;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
        "daemon off;\nevents { worker_connections 2048; }\nhttp {\n"
        f"  access_log off; sendfile on; client_body_temp_path {folder}/tmp;\n"
        f"  proxy_temp_path {folder}/tmp; fastcgi_temp_path {folder}/tmp; uwsgi_temp_path {folder}/tmp;\n"
        f"  scgi_temp_path {folder}/tmp;\n"
        f"  server {{ listen 127.0.0.1:{port}; root {folder}/www; default_type image/webp; }}\n}}\n"
    )
    process = subprocess.Popen(["nginx", "-p", str(folder), "-c", str(config)], stderr=subprocess.DEVNULL)
    for _ in range(50):
        try:
            get(f"http://127.0.0.1:{port}/thumbnail.webp")
            return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("the baseline NGINX did not start")


def miss_latencies(edge: str, count: int) -> dict:
    """Sequential requests that miss the edge (a unique query each) and go to an instance."""
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        get(f"{edge}/api/search?q=sea&_={uuid.uuid4().hex}")
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "requests": count,
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(samples[int(len(samples) * 0.99) - 1], 2),
    }


def bar_chart(values: dict[str, float], title: str, unit: str) -> str:
    """A small SVG bar chart (no plotting library needed)."""
    width, bar, gap, left = 560, 28, 14, 170
    top = max(values.values()) or 1
    height = 50 + len(values) * (bar + gap)
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif">'
    parts = [svg, f'<text x="10" y="22" font-weight="bold">{title}</text>']
    for index, (label, value) in enumerate(values.items()):
        y = 40 + index * (bar + gap)
        length = (width - left - 90) * value / top
        parts += [f'<text x="10" y="{y + 19}">{label}</text>',
                  f'<rect x="{left}" y="{y}" width="{length:.0f}" height="{bar}" fill="#3b6ea5"/>',
                  f'<text x="{left + length + 6:.0f}" y="{y + 19}">{value:,.0f} {unit}</text>']  # fmt: skip
    return "\n".join([*parts, "</svg>"]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="image-delivery")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    outputs = json.loads((PROJECT_ROOT / ".state" / args.stack / "outputs.json").read_text())
    edge = outputs["site_url"].rstrip("/")
    edge_port = int(edge.rsplit(":", 1)[1])
    results = json.loads(get(f"{edge}/api/search?q=cat")[0])["results"]
    path = f"/img/{results[0]['id']}?w=256&fmt=webp"
    body, _ = get(edge + path)
    _, headers = get(edge + path)
    assert headers["x-cache"].startswith("Hit"), headers
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "www").mkdir()
        (folder / "www" / "thumbnail.webp").write_bytes(body)
        raw_port = free_port()
        raw = start_raw_nginx(folder, raw_port)
        try:
            rounds = []
            for _ in range(args.rounds):  # alternate, so that both see the same machine
                rounds.append({
                    "edge_hit": load_with_wrk(edge_port, [path], args.seconds, args.connections),
                    "raw_nginx": load_with_wrk(raw_port, ["/thumbnail.webp"], args.seconds, args.connections),
                })  # fmt: skip
        finally:
            raw.terminate()
            raw.wait(timeout=10)
    edge_rps = statistics.median(r["edge_hit"]["requests_per_second"] for r in rounds)
    raw_rps = statistics.median(r["raw_nginx"]["requests_per_second"] for r in rounds)
    report = {
        "object": {"path": path, "bytes": len(body)},
        "rounds": rounds,
        "edge_hit_rps": edge_rps,
        "raw_nginx_rps": raw_rps,
        "ratio": round(edge_rps / raw_rps, 3),
        "goal": GOAL,
        "miss_path": miss_latencies(edge, 200),
        "hit_path": {key: rounds[-1]["edge_hit"][key] for key in ("p50_ms", "p99_ms")},
        "cores": os.cpu_count(),
    }
    out = PROJECT_ROOT / ".state" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "edge.json").write_text(json.dumps(report, indent=2) + "\n")
    docs = PROJECT_ROOT / "docs"
    title = f"{len(body):,} byte thumbnail, wrk {args.connections} connections"
    chart = bar_chart({"edge, cache hit": edge_rps, "raw NGINX, disk": raw_rps}, title, "req/s")
    (docs / "benchmarks-edge.svg").write_text(chart)
    (docs / "benchmarks.md").write_text(render_markdown(report, args))
    print(json.dumps(report, indent=2))


def render_markdown(report: dict, args: argparse.Namespace) -> str:
    verdict = "met" if report["ratio"] >= GOAL else "not met"
    miss = report["miss_path"]
    return f"""# Benchmarks

Generated by `bench/edge.py` (`make bench`); the other benchmarks' figures are in the README.
Machine: {report["cores"]} cores, shared; every figure is a ratio against a baseline measured in the
same run, or a latency.

## Edge cache hit against raw NGINX

`{report["object"]["path"]}` ({report["object"]["bytes"]:,} bytes) through the local edge on a
cache hit, against NGINX serving the same bytes from disk (`sendfile`, no log), alternated
{args.rounds} times, wrk with {args.connections} connections for {args.seconds} s each (medians):

| | requests/s |
|---|---|
| edge, cache hit | {report["edge_hit_rps"]:,.0f} |
| raw NGINX | {report["raw_nginx_rps"]:,.0f} |
| **ratio** | **{report["ratio"]:.2f}** (goal >= {GOAL}: {verdict}) |

![edge against raw NGINX](benchmarks-edge.svg)

## Hit and miss latency

| path | p50 ms | p99 ms |
|---|---|---|
| hit (edge only, under wrk load) | {report["hit_path"]["p50_ms"]:.2f} | {report["hit_path"]["p99_ms"]:.2f} |
| miss: edge, load balancer, instance, app (sequential) | {miss["p50_ms"]:.2f} | {miss["p99_ms"]:.2f} |
"""


if __name__ == "__main__":
    main()
