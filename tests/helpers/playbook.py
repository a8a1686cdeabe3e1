"""Run the project's playbooks the way a user does, and read the play recap."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+"
    r"failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)",
    re.MULTILINE,
)


@dataclass
class PlaybookRun:
    returncode: int
    output: str

    @property
    def host_stats(self) -> dict[str, dict[str, int]]:
        """The PLAY RECAP (one per ansible-playbook call), host by host."""
        recap = self.output.rfind("PLAY RECAP")
        return {
            match["host"]: {key: int(value) for key, value in match.groupdict().items() if key != "host"}
            for match in RECAP.finditer(self.output, recap if recap >= 0 else 0)
        }

    @property
    def stats(self) -> dict[str, int]:
        """The totals over every host of the PLAY RECAP."""
        totals: dict[str, int] = {}
        for counts in self.host_stats.values():
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
        return totals

    @property
    def changed(self) -> int:
        return self.stats.get("changed", -1)

    def changed_tasks(self) -> list[str]:
        """Names of the tasks that reported changed (for readable assertion messages)."""
        tasks, current = [], None
        for line in self.output.splitlines():
            if line.startswith("TASK ["):
                current = line[6 : line.index("]")]
            elif line.startswith("changed:") and current and current not in tasks:
                tasks.append(current)
        return tasks

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def run_playbook(
    playbook: str, *args: str, extra_vars: dict | None = None, timeout: int = 1200, environment: dict | None = None
) -> PlaybookRun:
    """ansible-playbook from the project root with the venv's tools, no colour, no stdin."""
    command = [str(Path(sys.executable).with_name("ansible-playbook")), playbook, *args]
    if extra_vars:
        command += ["--extra-vars", json.dumps(extra_vars)]
    env = dict(
        os.environ,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        **(environment or {}),
    )
    completed = subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    return PlaybookRun(completed.returncode, completed.stdout)
