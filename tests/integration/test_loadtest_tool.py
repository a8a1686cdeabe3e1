"""The load_test role's loadtest.py with the real wrk against a small local server that answers like the edge
(X-Cache: Hit/Miss), and its bounds."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from ansible_collections.image_delivery.stack.roles.load_test.files.loadtest import (
    LoadTestError,
    check_bounds,
    scaling_summary,
)

from tests.helpers.playbook import PROJECT_ROOT

LOAD_TOOL = PROJECT_ROOT / "roles" / "load_test" / "files" / "loadtest.py"


class EdgeLike(BaseHTTPRequestHandler):
    """Repeated searches hit, new ones miss (a fresh server per test)."""

    seen: ClassVar[set[str]] = set()
    lock = threading.Lock()

    def do_GET(self):
        with self.lock:
            cache = "Hit from cloudfront" if self.path in self.seen else "Miss from cloudfront"
            self.seen.add(self.path)
        body = b'{"results": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Cache", cache)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass  # no access log on stderr: thousands of lines per run, none read


@pytest.fixture
def edge_like():
    EdgeLike.seen.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), EdgeLike)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def run_tool(url: str, mode: str, tmp_path) -> dict:
    completed = subprocess.run(
        [sys.executable, str(LOAD_TOOL), "--url", url, "--mode", mode, "--connections", "4", "--threads", "1",
         "--duration", "2", "--output-dir", str(tmp_path / mode)],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads(completed.stdout.splitlines()[-1])


def test_wrk_reports_throughput_latency_errors_and_hit_ratio(edge_like, tmp_path):
    hit = run_tool(edge_like, "hit", tmp_path)
    miss = run_tool(edge_like, "miss", tmp_path)
    for report in (hit, miss):
        assert report["load"]["requests"] > 50 and report["load"]["errors"] == 0
        latency = report["load"]["latency_ms"]
        assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
        assert report["probe"]["samples"] >= 2 and report["probe"]["failed"] == 0
    assert hit["load"]["cache_hit_ratio"] > 0.9, "ten fixed queries: all but the first of each hit"
    assert miss["load"]["cache_hit_ratio"] == 0, "every query new: every one misses"
    assert (tmp_path / "hit" / "loadtest.svg").read_text().startswith("<svg")
    assert json.loads((tmp_path / "miss" / "report.json").read_text())["mode"] == "miss"


@pytest.mark.parametrize(
    ("url", "connections", "threads", "duration", "observe", "message"),
    [
        ("http://images.example.com", 4, 1, 10, 0, "only targets this machine"),
        ("http://10.0.0.1:8080", 4, 1, 10, 0, "only targets this machine"),
        ("http://127.0.0.1:8080", 65, 1, 10, 0, "connections must be 1 to 64"),
        ("http://127.0.0.1:8080", 4, 5, 10, 0, "threads must be 1 to 4"),
        ("http://127.0.0.1:8080", 2, 3, 10, 0, "threads must not exceed"),
        ("http://127.0.0.1:8080", 4, 1, 901, 0, "duration must be 1 to 900"),
        ("http://127.0.0.1:8080", 4, 1, 10, 1801, "observe must be 0 to 1800"),
    ],
)
def test_the_load_is_bounded(url, connections, threads, duration, observe, message):
    with pytest.raises(LoadTestError, match=message):
        check_bounds(url, connections, threads, duration, observe)


def test_scaling_summary_sees_out_and_in():
    timeline = [{"time": t, "desired": d, "average_cpu": c} for t, d, c in
                [(0, 2, 10), (10, 2, 80), (20, 4, 70), (30, 4, 20), (40, 3, 5), (50, 2, 5)]]  # fmt: skip
    summary = scaling_summary(timeline, load_end=25)
    assert summary["scaled_out"] and summary["scaled_in_after_load"]
    assert (summary["desired_start"], summary["desired_peak"], summary["desired_end"]) == (2, 4, 2)
