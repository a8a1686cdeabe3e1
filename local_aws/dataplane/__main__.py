"""Command line: python -m local_aws.dataplane {start,stop,status,sync,run} --stack NAME ...

Every command but ``run`` answers one JSON object with ``changed``, for Ansible.
  start   start the background loop (if not running) and wait for its first pass
  sync    one reconcile pass now (waits for the loop's pass in progress)
  stop    stop the loop, the load balancer and the edge, and remove the stack's containers
  status  whether the loop runs, and its last pass
  run     the loop in the foreground (what ``start`` runs)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from ..processes import running_pid, stop_pid
from . import agent, balancer, edge
from .instances import Podman

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local_aws.dataplane", description=__doc__)
    parser.add_argument("command", choices=["start", "stop", "status", "sync", "run"])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--endpoint-url", default="http://127.0.0.1:5000")
    parser.add_argument("--region", default="eu-west-1")
    parser.add_argument("--state-dir", type=Path, default=None, help="default: .state/STACK/dataplane")
    parser.add_argument("--podman", default=str(PROJECT_ROOT / "local_aws" / "podman" / "podman"))
    parser.add_argument("--image", default="localhost/image-delivery/debian:bookworm")
    parser.add_argument("--edge-port", type=int, default=8080)
    parser.add_argument("--balancer-port", type=int, default=8081)
    parser.add_argument("--origin-access-port", type=int, default=8082)
    parser.add_argument("--memory", default="", help="memory limit of each instance container (podman --memory)")
    parser.add_argument("--cpus", default="", help="CPU limit of each instance container (podman --cpus)")
    parser.add_argument("--scaler-period", type=float, default=0.0, help="seconds between target tracking evaluations")
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--ready-timeout", type=float, default=120.0)
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> agent.Settings:
    state_dir = (args.state_dir or PROJECT_ROOT / ".state" / args.stack / "dataplane").resolve()
    return agent.Settings(
        stack=args.stack,
        endpoint_url=args.endpoint_url,
        region=args.region,
        state_dir=state_dir,
        podman=args.podman,
        image=args.image,
        edge_port=args.edge_port,
        balancer_port=args.balancer_port,
        origin_access_port=args.origin_access_port,
        memory=args.memory,
        cpus=args.cpus,
        scaler_period=args.scaler_period,
    )


def loop_arguments(args: argparse.Namespace, settings: agent.Settings) -> list[str]:
    return [
        sys.executable, "-m", "local_aws.dataplane", "run",
        "--stack", settings.stack, "--endpoint-url", settings.endpoint_url, "--region", settings.region,
        "--state-dir", str(settings.state_dir), "--podman", settings.podman, "--image", settings.image,
        "--edge-port", str(settings.edge_port), "--balancer-port", str(settings.balancer_port),
        "--origin-access-port", str(settings.origin_access_port), "--memory", settings.memory,
        "--cpus", settings.cpus, "--scaler-period", str(settings.scaler_period), "--interval", str(args.interval),
    ]  # fmt: skip


def last_pass(settings: agent.Settings) -> dict:
    try:
        return json.loads((settings.state_dir / "agent-status.json").read_text())
    except (FileNotFoundError, ValueError):
        return {}


def files(settings: agent.Settings) -> dict:
    """What the running data plane writes that others read (the load test reads the scaler's timeline)."""
    return {"scaler_timeline": str(settings.scaler_timeline)}


def start(args: argparse.Namespace, settings: agent.Settings) -> dict:
    pid_file = settings.state_dir / "agent.pid"
    pid = running_pid(pid_file)
    if pid is not None:
        return {"changed": False, "running": True, "pid": pid, "last_pass": last_pass(settings), **files(settings)}
    podman = Podman(settings.podman, settings.image)
    if not podman.image_exists():
        raise RuntimeError(f"the instance image {settings.image} is missing: run local_aws/podman/build-base-image.sh")
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    began = time.time()
    with (settings.state_dir / "agent.log").open("ab") as log:
        process = subprocess.Popen(
            loop_arguments(args, settings),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=str(PROJECT_ROOT),
        )
    pid_file.write_text(f"{process.pid}\n")
    deadline = time.monotonic() + args.ready_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pid_file.unlink(missing_ok=True)
            raise RuntimeError(f"the data plane exited with {process.returncode}; see {settings.state_dir}/agent.log")
        status = last_pass(settings)
        if status.get("time", 0) >= began:
            if not status.get("ok"):
                raise RuntimeError(f"the data plane's first pass failed: {status.get('error')}")
            return {"changed": True, "running": True, "pid": process.pid, "last_pass": status, **files(settings)}
        time.sleep(0.3)
    raise RuntimeError(
        f"the data plane made no pass within {args.ready_timeout:.0f}s; see {settings.state_dir}/agent.log"
    )


def stop(settings: agent.Settings) -> dict:
    stopped = stop_pid(settings.state_dir / "agent.pid")
    podman = Podman(settings.podman, settings.image)
    removed = []
    for container in podman.containers(settings.stack):
        podman.remove(container.name)
        removed.append(container.instance_id)
    stopped_balancer = balancer.stop(settings.balancer)
    stopped_edge = edge.stop(settings.edge)
    return {
        "changed": bool(stopped or removed or stopped_balancer or stopped_edge),
        "removed": removed,
        "running": False,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    settings = settings_from(args)
    if args.command == "run":
        agent.run_forever(settings, args.interval, settings.state_dir / "agent-status.json")
        return 0
    try:
        if args.command == "start":
            result = start(args, settings)
        elif args.command == "stop":
            result = stop(settings)
        elif args.command == "sync":
            clients = agent.Clients.connect(settings)
            result = agent.sync_once(settings, clients, Podman(settings.podman, settings.image)).as_dict()
        else:
            pid = running_pid(settings.state_dir / "agent.pid")
            result = {"changed": False, "running": pid is not None, "pid": pid, "last_pass": last_pass(settings)}
    except Exception as error:
        print(json.dumps({"failed": True, "msg": f"{type(error).__name__}: {error}"}))
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
