"""The committed architecture picture is the one the script draws today (no silent drift)."""

from __future__ import annotations

import importlib.util

from tests.helpers.playbook import PROJECT_ROOT


def test_the_committed_diagram_source_is_current():
    spec = importlib.util.spec_from_file_location("architecture", PROJECT_ROOT / "scripts" / "architecture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (PROJECT_ROOT / "docs" / "architecture.dot").read_text() == module.dot_source(), "run `make diagram`"
    assert (PROJECT_ROOT / "docs" / "architecture.svg").exists()
