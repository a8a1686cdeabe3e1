from __future__ import annotations

import io
import tarfile

import pytest
from ansible_collections.image_delivery.stack.plugins.module_utils.release_bundle import (
    BundleError,
    build,
    entries,
    sha256,
)


def make_tree(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_same_content_gives_the_same_bytes_whatever_the_file_times(tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    make_tree(first, {"tasks/main.yml": "---\n", "files/run.sh": "#!/bin/sh\n"})
    make_tree(second, {"files/run.sh": "#!/bin/sh\n", "tasks/main.yml": "---\n"})  # other creation order
    (second / "tasks" / "main.yml").touch()
    one = build(entries({"roles/web": str(first)}, {"vars.json": "{}"}))
    two = build(entries({"roles/web": str(second)}, {"vars.json": "{}"}))
    assert one == two
    assert sha256(one) == sha256(two)
    assert build(entries({"roles/web": str(first)}, {"vars.json": '{"a": 1}'})) != one


def test_caches_are_left_out_and_scripts_stay_executable(tmp_path):
    make_tree(tmp_path / "src", {"app.py": "#!/usr/bin/python3\n", "__pycache__/app.cpython-311.pyc": "x",
                                 "app.egg-info/PKG-INFO": "x", "lib.py": "pass\n"})  # fmt: skip
    data = build(entries({"app": str(tmp_path / "src")}, {}))
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        members = {member.name: member for member in archive.getmembers()}
    assert sorted(members) == ["app/app.py", "app/lib.py"]
    assert members["app/app.py"].mode == 0o755 and members["app/lib.py"].mode == 0o644
    assert {member.mtime for member in members.values()} == {0}


def test_a_missing_source_or_an_escaping_path_is_an_error(tmp_path):
    with pytest.raises(BundleError, match="does not exist"):
        entries({"x": str(tmp_path / "missing")}, {})
    with pytest.raises(BundleError, match="leaves the bundle"):
        entries({}, {"../etc/passwd": "x"})
