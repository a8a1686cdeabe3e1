"""ansible-test sanity on the collection: validate-modules (documentation against argument specs,
licences, imports after the docs), ansible-doc, compile, runtime metadata, yamllint and more, with
the ignore file tests/sanity/ignore-2.19.txt (ansible-test fails on entries no longer needed)."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers.playbook import PROJECT_ROOT


def test_ansible_test_sanity_passes_on_the_collection():
    run = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "ansible_sanity.py")],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    errors = [line for line in (run.stdout + run.stderr).splitlines() if "ERROR" in line or "FATAL" in line]
    assert run.returncode == 0, "\n".join(errors) or run.stdout[-3000:] + run.stderr[-3000:]
