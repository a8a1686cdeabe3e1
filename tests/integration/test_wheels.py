"""The release's wheels are built for the instances' platform, whatever the controller runs.

The controller here is x86_64; the stack is set to arm64 instances, so every binary wheel must be
an aarch64 one for CPython 3.11 on glibc <= 2.36 (Debian 12), and none may be this machine's.
"""

from __future__ import annotations

import json
import platform
import re
from pathlib import Path

import pytest
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import parse_wheel_filename

from tests.helpers.playbook import run_playbook


def instance_tags(architecture: str) -> set[Tag]:
    """Every tag pip accepts on Debian 12 (CPython 3.11, glibc 2.36) of that architecture."""
    platforms = [f"manylinux_2_{minor}_{architecture}" for minor in range(36, 16, -1)]
    platforms += [f"manylinux2014_{architecture}", f"linux_{architecture}"]
    return set(cpython_tags((3, 11), abis=["cp311"], platforms=platforms)) | set(
        compatible_tags((3, 11), "cp311", platforms=platforms)
    )


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> dict[str, Path]:
    run = run_playbook(
        "tests/integration/playbooks/instance_wheels.yml",
        extra_vars={"instance_architecture": "arm64", "image_api_wheelhouse_dir": str(tmp_path_factory.mktemp("wh"))},
        timeout=900,
    )
    assert run.returncode == 0, run.tail(40)
    (found,) = re.findall(r'"msg": "WHEELS (.*)"', run.output) or re.findall(r"msg: WHEELS (.*)", run.output)
    return {name: Path(path) for name, path in json.loads(found.replace('\\"', '"')).items()}


def test_the_controller_is_not_the_target():
    assert platform.machine() != "aarch64", "this test proves nothing on an aarch64 controller"


@pytest.mark.parametrize("part", ["app", "bootstrap"])
def test_every_wheel_matches_the_instances_platform(wheels, part):
    accepted = instance_tags("aarch64")
    files = sorted(wheels[part].glob("*.whl"))
    assert files, f"no wheel in {wheels[part]}"
    for wheel in files:
        _name, _version, _build, tags = parse_wheel_filename(wheel.name)
        assert tags & accepted, f"{wheel.name} does not install on the instances (CPython 3.11, aarch64)"
    assert not any("x86_64" in wheel.name for wheel in files)


def test_the_binary_dependencies_are_the_instances_ones(wheels):
    names = {parse_wheel_filename(wheel.name)[0]: wheel.name for wheel in wheels["app"].glob("*.whl")}
    binary = ("pillow", "pyvips-binary", "cffi", "numpy")
    assert {"image-api", "bottle", "gunicorn", "boto3", "pyvips", *binary} <= set(names)
    assert all("aarch64" in names[name] for name in binary)
    assert names["pyvips"].endswith("-py3-none-any.whl")  # built here from PyPI's sdist, in ABI mode
    bootstrap = {parse_wheel_filename(wheel.name)[0] for wheel in wheels["bootstrap"].glob("*.whl")}
    assert {"ansible-core", "cryptography", "pyyaml"} <= bootstrap
    assert wheels["app"].name.endswith("-aarch64-glibc2.36-cp311")
    assert wheels["bootstrap"].name.endswith("-aarch64-glibc2.36-cp311")
