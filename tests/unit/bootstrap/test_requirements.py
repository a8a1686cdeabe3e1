"""The image API's pins live in its pyproject (files/app); the development requirements install the
same ones for its tests (make test runs it from source): a pin changed in one place and not the
other fails here instead of testing one version and shipping another."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==(\S+)$")


def pins_of(requirements: Path) -> dict[str, str]:
    """name (normalised) -> version of every pin in a requirements file and those it includes (-r)."""
    pins: dict[str, str] = {}
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            pins |= pins_of(requirements.parent / line[3:].strip())
        elif match := PIN.match(line):
            pins[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return pins


def test_the_development_requirements_pin_the_image_apis_dependencies_as_it_does():
    project = tomllib.loads((PROJECT_ROOT / "files/app/pyproject.toml").read_text())
    app = {}
    for dependency in project["project"]["dependencies"]:
        match = PIN.match(dependency)
        assert match, f"the image API's dependency {dependency!r} is not pinned"
        app[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    development = pins_of(PROJECT_ROOT / "requirements-dev.txt")
    assert {name: development.get(name) for name in app} == app
