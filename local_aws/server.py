"""Start, stop and query the local AWS endpoint as a background process.

The process runs `python -m local_aws run`, which applies the fixes and serves moto's app.
State (pid file, log) lives in one folder; every command answers one JSON object so that
Ansible can read `changed` from it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from . import processes

READY_PATH = "/moto-api/"
# moto settings that make it answer like AWS for the stack: AWS-managed IAM policies exist
# (compute_managed_policy_arns may attach them to the instance role).
MOTO_ENVIRONMENT = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    state_dir: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "local-aws.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "local-aws.log"


def is_answering(endpoint: Endpoint, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(endpoint.url + READY_PATH, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def running_pid(endpoint: Endpoint) -> int | None:
    """The pid recorded in the pid file if that process is still alive."""
    return processes.running_pid(endpoint.pid_file)


def status(endpoint: Endpoint) -> dict:
    pid = running_pid(endpoint)
    return {"changed": False, "running": pid is not None and is_answering(endpoint), "pid": pid, "url": endpoint.url}


def start(endpoint: Endpoint, ready_timeout: float = 30.0) -> dict:
    """Start the endpoint unless ours already runs; fail clearly if someone else holds the port."""
    current = status(endpoint)
    if current["running"]:
        return current
    if is_answering(endpoint):
        raise RuntimeError(
            f"{endpoint.url} already answers but is not the project's endpoint (no live pid in "
            f"{endpoint.pid_file}); stop that server or choose another local_endpoint_port"
        )
    endpoint.state_dir.mkdir(parents=True, exist_ok=True)
    package_root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(package_root), os.environ.get("PYTHONPATH")])))
    with endpoint.log_file.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local_aws", "run", "--host", endpoint.host, "--port", str(endpoint.port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
            cwd=str(package_root),
        )
    endpoint.pid_file.write_text(f"{process.pid}\n")
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            endpoint.pid_file.unlink(missing_ok=True)
            raise RuntimeError(f"the local AWS endpoint exited with {process.returncode}; see {endpoint.log_file}")
        if is_answering(endpoint, timeout=0.5):
            return {"changed": True, "running": True, "pid": process.pid, "url": endpoint.url}
        time.sleep(0.2)
    process.terminate()
    endpoint.pid_file.unlink(missing_ok=True)
    raise RuntimeError(f"the local AWS endpoint did not answer within {ready_timeout:.0f}s; see {endpoint.log_file}")


def stop(endpoint: Endpoint, timeout: float = 10.0) -> dict:
    pid = running_pid(endpoint)
    stopped = processes.stop_pid(endpoint.pid_file, timeout)
    return {"changed": stopped, "running": False, "pid": pid if stopped else None, "url": endpoint.url}


def run_foreground(host: str, port: int) -> None:
    from moto import server as moto_server

    from .fixes import apply_all

    for name, value in MOTO_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    applied = apply_all()
    print(json.dumps({"event": "fixes_applied", "fixes": applied}), flush=True)
    moto_server.main(["-H", host, "-p", str(port)])
