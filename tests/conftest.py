"""Shared pytest set-up: layer markers from folder names (import paths: pyproject.toml's pythonpath)."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent

LAYERS = ("unit", "integration", "smoke", "molecule", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with the layer named by its folder (tests/unit/... is `unit`)."""
    for item in items:
        parts = Path(item.fspath).relative_to(PROJECT_ROOT / "tests").parts
        if parts and parts[0] in LAYERS:
            item.add_marker(getattr(pytest.mark, parts[0]))
