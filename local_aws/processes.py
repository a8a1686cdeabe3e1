"""Small helpers for the background processes (local endpoint, data plane): pid files, signals, files."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def running_pid(pid_file: Path) -> int | None:
    """The pid recorded in ``pid_file`` if that process is still alive."""
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def stop_pid(pid_file: Path, timeout: float = 10.0) -> bool:
    """SIGTERM, then SIGKILL after ``timeout``; True when a process was stopped."""
    pid = running_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and running_pid(pid_file) is not None:
        time.sleep(0.1)
    if running_pid(pid_file) is not None:
        os.kill(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    return True


def write_if_changed(path: Path, text: str, mode: int = 0o600) -> bool:
    """Write ``text`` to ``path`` (created with ``mode``) unless it already holds it."""
    try:
        if path.read_text() == text:
            return False
    except FileNotFoundError:
        pass  # nothing written yet: write it below
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    temporary.replace(path)
    return True
