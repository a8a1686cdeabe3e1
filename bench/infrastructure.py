"""Benchmark: first build, no-op rerun and teardown of the stack on the local AWS endpoint.

Reports wall time and AWS API calls (requests in the endpoint's log) for each phase, and the
ratio rerun/first measured in the same run (goal: <= 0.5). Uses its own endpoint port and stack
name, so it never touches a stack of `make up`. Writes .state/bench/infrastructure.json.

    .venv/bin/python bench/infrastructure.py [--port 5020] [--stack bench-stack]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from tests.helpers.playbook import run_playbook  # noqa: E402

REQUEST_LINE = re.compile(r'"(GET|POST|PUT|DELETE|HEAD|PATCH) [^"]*" \d{3}')


def api_calls(log: Path) -> int:
    """Requests the endpoint has served so far, minus its own readiness probes."""
    if not log.exists():
        return 0
    text = log.read_text(errors="replace")
    return sum(1 for line in text.splitlines() if REQUEST_LINE.search(line) and "/moto-api/" not in line)


def endpoint(action: str, port: int) -> None:
    subprocess.run(
        [sys.executable, "-m", "local_aws", action, "--port", str(port)],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )


def phase(name: str, playbook: str, port: int, stack: str, log: Path) -> dict:
    calls_before = api_calls(log)
    started = time.perf_counter()
    run = run_playbook(playbook, extra_vars={"local_endpoint_port": port, "stack_name": stack})
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"{name} failed:\n{run.tail()}")
    return {"phase": name, "seconds": round(seconds, 2), "api_calls": api_calls(log) - calls_before, **run.stats}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=5020)
    parser.add_argument("--stack", default="bench-stack")
    args = parser.parse_args()
    log = PROJECT_ROOT / ".state" / f"local-aws-{args.port}" / "local-aws.log"

    endpoint("stop", args.port)
    log.unlink(missing_ok=True)
    endpoint("start", args.port)
    try:
        results = [
            phase("first run", "site.yml", args.port, args.stack, log),
            phase("no-op rerun", "site.yml", args.port, args.stack, log),
            phase("teardown", "playbooks/teardown.yml", args.port, args.stack, log),
        ]
    finally:
        endpoint("stop", args.port)

    first, rerun = results[0], results[1]
    summary = {
        "results": results,
        "rerun_over_first_seconds": round(rerun["seconds"] / first["seconds"], 3),
        "rerun_over_first_api_calls": round(rerun["api_calls"] / max(first["api_calls"], 1), 3),
        "goal_rerun_over_first": 0.5,
    }
    print(f"{'phase':<14}{'seconds':>9}{'API calls':>11}{'changed':>9}")
    for row in results:
        print(f"{row['phase']:<14}{row['seconds']:>9.1f}{row['api_calls']:>11}{row.get('changed', -1):>9}")
    print(
        f"rerun/first: {summary['rerun_over_first_seconds']:.2f} of the time, "
        f"{summary['rerun_over_first_api_calls']:.2f} of the API calls (goal <= 0.5)"
    )
    out = PROJECT_ROOT / ".state" / "bench" / "infrastructure.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
