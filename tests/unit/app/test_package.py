from __future__ import annotations

import subprocess
import sys
import zipfile

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
