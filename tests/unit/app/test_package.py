from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml

from tests.helpers.playbook import PROJECT_ROOT


def test_the_wheel_carries_the_one_catalog_schema(tmp_path):
    """The source tree links the schema; the built package must carry the file itself."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path),
         str(PROJECT_ROOT / "files/app")],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("image_api-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packaged = archive.read("image_api/catalog_schema.py")
        names = set(archive.namelist())
    assert packaged == (PROJECT_ROOT / "plugins/module_utils/catalog_schema.py").read_bytes()
    assert {"image_api/app.py", "image_api/search.py", "image_api/wsgi.py"} <= names


def build_wheel(source: Path, dest: Path, environment: dict[str, str]) -> bytes:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dest), str(source)],
        check=True, capture_output=True, env={**os.environ, **environment},
    )  # fmt: skip
    (wheel,) = dest.glob("image_api-*.whl")
    return wheel.read_bytes()


def test_the_wheelhouse_task_builds_the_same_wheel_from_the_same_sources(tmp_path):
    """The release id hashes the bundle's bytes, the app's wheel among them: built with the role's
    environment, sources with other file times (another checkout) give the same wheel."""
    tasks = yaml.safe_load((PROJECT_ROOT / "roles/image_api/tasks/wheelhouse.yml").read_text())
    (build,) = [task for task in tasks if "pip wheel" in str(task.get("ansible.builtin.shell", ""))]
    role_vars = yaml.safe_load((PROJECT_ROOT / "roles/image_api/vars/main.yml").read_text())
    epoch = role_vars["image_api_wheel_source_date_epoch"]
    environment = {
        name: str(value).replace("{{ image_api_wheel_source_date_epoch }}", epoch)
        for name, value in build["environment"].items()
    }
    first, second = tmp_path / "one", tmp_path / "two"
    for copy in (first, second):
        shutil.copytree(PROJECT_ROOT / "files/app", copy, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    for path in second.rglob("*"):
        os.utime(path, (1_600_000_000, 1_600_000_000))
    assert build_wheel(first, tmp_path / "w1", environment) == build_wheel(second, tmp_path / "w2", environment)
