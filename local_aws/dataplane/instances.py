"""Instances as podman containers: one per running instance id, systemd as PID 1, host network.

The containers carry labels with the stack and instance id, so the data plane finds its own and
never touches anything else. User data runs once at first boot, as cloud-init does on EC2; its
output goes to /var/log/user-data.log inside the container.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

STACK_LABEL = "image-delivery.stack"
INSTANCE_LABEL = "image-delivery.instance"
USER_DATA_PATH = "/var/lib/cloud/instance/user-data"
USER_DATA_LOG = "/var/log/user-data.log"
# systemd reads this before it starts any service: every service on the instance sees the platform's
# environment (where the metadata service and the endpoint are), as every process on EC2 reaches IMDS.
PLATFORM_ENVIRONMENT_PATH = "/etc/systemd/system.conf.d/10-local-platform.conf"


def platform_environment_conf(environment: dict[str, str]) -> str:
    """A systemd manager drop-in whose DefaultEnvironment holds `environment` (values quoted)."""
    assignments = " ".join(f'"{key}={value}"' for key, value in sorted(environment.items()))
    return f"# Written by the local data plane before boot.\n[Manager]\nDefaultEnvironment={assignments}\n"


class PodmanError(RuntimeError):
    """A podman command failed (the message carries its stderr)."""


@dataclass(frozen=True)
class Container:
    name: str
    instance_id: str
    running: bool


@dataclass(frozen=True)
class Podman:
    """The podman command line; ``executable`` may be the project's wrapper (local_aws/podman/podman)."""

    executable: str
    image: str

    def run(self, *args: str, input_text: str | None = None, check: bool = True) -> str:
        completed = subprocess.run(
            [self.executable, *args],
            input=input_text,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if check and completed.returncode != 0:
            raise PodmanError(f"podman {' '.join(args[:2])} failed: {completed.stderr.strip()[-500:]}")
        return completed.stdout

    def containers(self, stack: str) -> list[Container]:
        listing = self.run("ps", "--all", "--format", "json", "--filter", f"label={STACK_LABEL}={stack}")
        return [
            Container(
                name=item["Names"][0],
                instance_id=item.get("Labels", {}).get(INSTANCE_LABEL, ""),
                running=item.get("State") == "running",
            )
            for item in json.loads(listing or "[]")
        ]

    def image_exists(self) -> bool:
        completed = subprocess.run([self.executable, "image", "exists", self.image], capture_output=True, check=False)
        return completed.returncode == 0

    def start_instance(
        self, stack: str, instance_id: str, environment: dict[str, str], memory: str, cpus: str = ""
    ) -> None:
        """Boot an instance: systemd in a container on the host network, named after the instance id.
        `environment` reaches the container's processes and, through a manager drop-in placed before
        boot, every systemd service (systemd does not pass its own environment on to services)."""
        arguments = [
            "create",
            "--name",
            instance_id,
            "--hostname",
            instance_id,
            "--systemd=always",
            "--network",
            "host",
            "--memory",
            memory,
            "--label",
            f"{STACK_LABEL}={stack}",
            "--label",
            f"{INSTANCE_LABEL}={instance_id}",
        ]
        if cpus:
            # Like an instance type's vCPUs: the scaler measures utilisation against this limit.
            arguments += ["--cpus", cpus]
        for key, value in sorted(environment.items()):
            arguments += ["--env", f"{key}={value}"]
        self.run(*arguments, self.image, "/sbin/init")
        drop_in = Path(PLATFORM_ENVIRONMENT_PATH)
        with tempfile.TemporaryDirectory() as folder:
            # The folder, not the file: podman cp creates no missing parent folder.
            (Path(folder) / drop_in.parent.name).mkdir()
            (Path(folder) / drop_in.parent.name / drop_in.name).write_text(platform_environment_conf(environment))
            self.run("cp", str(Path(folder) / drop_in.parent.name), f"{instance_id}:{drop_in.parent.parent}")
        self.run("start", instance_id)

    def init_pid(self, name: str) -> int:
        """The host pid of a container's init (its cgroup holds the whole instance)."""
        return int(self.run("inspect", "--format", "{{.State.Pid}}", name).strip())

    def run_user_data(self, name: str, user_data: str) -> None:
        """Write the user data into the instance and run it in the background, once."""
        if not user_data.strip():
            return
        directory = str(Path(USER_DATA_PATH).parent)
        self.run(
            "exec", "-i", name, "sh", "-c", f"mkdir -p {directory} && cat > {USER_DATA_PATH}", input_text=user_data
        )
        self.run("exec", name, "chmod", "0700", USER_DATA_PATH)
        self.run("exec", "--detach", name, "sh", "-c", f"{USER_DATA_PATH} > {USER_DATA_LOG} 2>&1")

    def remove(self, name: str) -> None:
        self.run("rm", "--force", "--time", "5", name, check=False)
