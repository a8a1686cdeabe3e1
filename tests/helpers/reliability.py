"""Measured figures of the reliability tests, recorded for docs/reliability.md.

A test calls record() with what it measured; `make reliability` runs those tests and
scripts/reliability_report.py turns the records into the table.
"""

from __future__ import annotations

import json
import time

from tests.helpers.playbook import PROJECT_ROOT

RECORDS = PROJECT_ROOT / ".state" / "test-artifacts" / "reliability"


def record(name: str, figure: str, goal: str, passed: bool, **details) -> None:
    RECORDS.mkdir(parents=True, exist_ok=True)
    entry = {"name": name, "figure": figure, "goal": goal, "passed": passed, "details": details,
             "recorded": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}  # fmt: skip
    (RECORDS / f"{name}.json").write_text(json.dumps(entry, indent=2) + "\n")
