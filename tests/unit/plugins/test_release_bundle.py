from __future__ import annotations

import io
import tarfile

import pytest
from ansible_collections.image_delivery.stack.plugins.module_utils.release_bundle import (
    BundleError,
    build,
    entries,
    release_id,
    sha256,
)

from tests.helpers.modules import run_module


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


def test_the_release_id_covers_every_entry_and_nothing_else():
    files = {"roles/web/tasks/main.yml": b"---\n", "bootstrap-wheels/a.whl": b"wheel", "vars.json": b"{}"}
    same = dict(reversed(list(files.items())))
    assert release_id(files) == release_id(same)
    for name in files:  # any packed file, not only the roles and the page, makes another release
        assert release_id({**files, name: files[name] + b" "}) != release_id(files), name
    assert release_id({**files, "extra": b""}) != release_id(files)
    # a name and content cannot be shifted into each other
    assert release_id({"ab": b"c"}) != release_id({"a": b"bc"})


def release_sources(root) -> dict[str, str]:
    make_tree(root / "roles", {"web/tasks/main.yml": "---\n"})
    make_tree(root / "wheels", {"ansible_core-2.19-py3-none-any.whl": "wheel"})
    (root / "bootstrap.yml").write_text("- hosts: localhost\n")
    return {
        "roles": str(root / "roles"),
        "bootstrap-wheels": str(root / "wheels"),
        "bootstrap.yml": str(root / "bootstrap.yml"),
    }


def test_the_module_names_the_bundle_by_its_content_and_packs_the_id(tmp_path):
    sources = release_sources(tmp_path / "src")
    dest_dir = tmp_path / "releases"
    first = run_module("release_bundle", dest_dir=str(dest_dir), sources=sources, contents={"vars.json": "{}"})
    assert first["changed"] is True
    path = dest_dir / f"{first['release']}.tar.gz"
    assert first["path"] == str(path) and sha256(path.read_bytes()) == first["sha256"]
    with tarfile.open(path) as archive:
        assert archive.extractfile("RELEASE").read() == f"{first['release']}\n".encode()
        assert sorted(archive.getnames()) == [
            "RELEASE", "bootstrap-wheels/ansible_core-2.19-py3-none-any.whl", "bootstrap.yml",
            "roles/web/tasks/main.yml", "vars.json"]  # fmt: skip

    # A rerun reads the sources only: same id, same bytes, the file left as it is.
    written = path.stat().st_mtime_ns
    again = run_module("release_bundle", dest_dir=str(dest_dir), sources=sources, contents={"vars.json": "{}"})
    assert (again["changed"], again["release"], again["sha256"]) == (False, first["release"], first["sha256"])
    assert path.stat().st_mtime_ns == written

    # What only the bundle packed before (the first boot's wheels and playbook) is a new release now.
    (tmp_path / "src" / "bootstrap.yml").write_text("- hosts: localhost\n  become: true\n")
    checked = run_module(
        "release_bundle", check_mode=True, dest_dir=str(dest_dir), sources=sources, contents={"vars.json": "{}"}
    )
    assert checked["changed"] is True and checked["release"] != first["release"]
    assert not (dest_dir / f"{checked['release']}.tar.gz").exists(), "check mode writes nothing"
    applied = run_module("release_bundle", dest_dir=str(dest_dir), sources=sources, contents={"vars.json": "{}"})
    assert (applied["release"], applied["sha256"]) == (checked["release"], checked["sha256"])


def test_the_module_refuses_a_release_file_that_is_also_packed(tmp_path):
    result = run_module("release_bundle", dest_dir=str(tmp_path), contents={"RELEASE": "mine"}, release_file="RELEASE")
    assert result["failed"] is True and "release file RELEASE" in result["msg"]
    assert list(tmp_path.iterdir()) == []
