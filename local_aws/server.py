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

from . import identities, processes

READY_PATH = "/moto-api/"
# NAME,ACCESS_KEY,SECRET_KEY,POLICY_FILE lines: the identities to create (also read by `start`).
IDENTITIES_VARIABLE = "LOCAL_AWS_IDENTITIES"
# moto settings that make it answer like AWS for the stack: AWS-managed IAM policies exist
# (compute_managed_policy_arns may attach them to the instance role).
MOTO_ENVIRONMENT = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    state_dir: Path
    # IAM as on AWS: every request authorised against its signer's policies (local_aws/identities.py).
    enforce_iam: bool = True
    # NAME,ACCESS_KEY,SECRET_KEY,POLICY_FILE of each IAM user to create besides the administrator.
    identities: tuple[str, ...] = ()

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


def update_identities(endpoint: Endpoint) -> list[str]:
    """Bring the running endpoint's identities in line with the ones asked for (policy files
    re-read): the names it created or changed."""
    wanted = [identities.Identity.parse(text) for text in endpoint.identities]
    request = urllib.request.Request(
        endpoint.url + identities.ROUTE, data=identities.as_json(wanted), method="PUT",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)["changed"]


def start(endpoint: Endpoint, ready_timeout: float = 30.0) -> dict:
    """Start the endpoint unless ours already runs; fail clearly if someone else holds the port."""
    current = status(endpoint)
    if current["running"]:
        changed = update_identities(endpoint) if endpoint.identities else []
        return {**current, "changed": bool(changed), "identities": changed}
    if is_answering(endpoint):
        raise RuntimeError(
            f"{endpoint.url} already answers but is not the project's endpoint (no live pid in "
            f"{endpoint.pid_file}); stop that server or choose another local_endpoint_port"
        )
    endpoint.state_dir.mkdir(parents=True, exist_ok=True)
    package_root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(package_root), os.environ.get("PYTHONPATH")])))
    command = [sys.executable, "-m", "local_aws", "run", "--host", endpoint.host, "--port", str(endpoint.port)]
    command += ["--iam", "enforced" if endpoint.enforce_iam else "off"]
    # Identities through the environment, not the command line: key pairs stay out of `ps`.
    env[IDENTITIES_VARIABLE] = "\n".join(endpoint.identities)
    with endpoint.log_file.open("ab") as log:
        process = subprocess.Popen(
            command,
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


def run_foreground(host: str, port: int, enforce_iam: bool = True, extra_identities: tuple[str, ...] = ()) -> None:
    """Serve moto with the fixes; with IAM enforced, every request from the first on is authorised
    against the IAM user or role session that signed it (the identities exist before serving)."""
    for name, value in MOTO_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    parsed = [identities.Identity.parse(text) for text in extra_identities]  # fails before serving

    from moto import server as moto_server
    from moto import settings

    from .fixes import apply_all

    applied = apply_all()
    identities.route().apply()
    created = identities.create([identities.ADMIN, *parsed])
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0 if enforce_iam else float("inf")
    print(json.dumps({"event": "fixes_applied", "fixes": applied}), flush=True)
    print(json.dumps({"event": "iam", "enforced": enforce_iam, "identities": created}), flush=True)
    moto_server.main(["-H", host, "-p", str(port)])
