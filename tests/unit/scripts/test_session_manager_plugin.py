"""scripts/session_manager_plugin.py: AWS's plugin at a pinned version, installed only when its checksum matches.

A package built here with dpkg-deb and served on 127.0.0.1 stands in for AWS's download: the real
download, verification and unpacking code runs against it.
"""

from __future__ import annotations

import hashlib
import http.server
import importlib.util
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.helpers.playbook import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "session_manager_plugin.py"
spec = importlib.util.spec_from_file_location("session_manager_plugin", SCRIPT)
plugin = importlib.util.module_from_spec(spec)
sys.modules["session_manager_plugin"] = plugin  # dataclasses look their module up there
spec.loader.exec_module(plugin)


class PackageServer:
    """Serves a folder on 127.0.0.1 and counts the requests."""

    def __init__(self, root: Path) -> None:
        self.requests: list[str] = []
        requests = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(root), **kwargs)

            def do_GET(self):
                requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def build_fake_deb(tmp_path: Path) -> Path:
    """A .deb laid out like AWS's: the binary under usr/local/sessionmanagerplugin/bin."""
    tree = tmp_path / "tree"
    binary = tree / plugin.BINARY_IN_PACKAGE
    binary.parent.mkdir(parents=True)
    binary.write_text(f"#!/bin/sh\necho {plugin.PLUGIN_VERSION}\n")
    binary.chmod(0o755)
    (tree / "DEBIAN").mkdir()
    (tree / "DEBIAN" / "control").write_text(
        "Package: session-manager-plugin\nVersion: 1.0\nArchitecture: all\n"
        "Maintainer: test <test@example.invalid>\nDescription: stand-in\n"
    )
    deb = tmp_path / "session-manager-plugin.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(tree), str(deb)], check=True, capture_output=True)
    return deb


@pytest.fixture
def served_package(tmp_path):
    """A fake package at the pinned version's x86_64 path of a local server."""
    deb = build_fake_deb(tmp_path)
    folder, _ = plugin.PINNED_PACKAGES[("deb", "x86_64")]
    served = tmp_path / "www" / plugin.PLUGIN_VERSION / folder
    served.mkdir(parents=True)
    (served / "session-manager-plugin.deb").write_bytes(deb.read_bytes())
    server = PackageServer(tmp_path / "www")
    yield server, hashlib.sha256(deb.read_bytes()).hexdigest()
    server.close()


def test_every_pinned_package_is_a_versioned_aws_url_with_a_sha256():
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", plugin.PLUGIN_VERSION), "a fixed version, never 'latest'"
    assert {machine for _, machine in plugin.PINNED_PACKAGES} == {"x86_64", "aarch64"}
    for (package_format, machine), (_, sha256) in plugin.PINNED_PACKAGES.items():
        assert re.fullmatch(r"[0-9a-f]{64}", sha256), (package_format, machine)
        url = plugin.pinned_package(package_format, machine).url
        assert url.startswith(f"https://s3.amazonaws.com/session-manager-downloads/plugin/{plugin.PLUGIN_VERSION}/")
        assert url.endswith(f".{package_format}")
    assert plugin.pinned_package("deb", "amd64") == plugin.pinned_package("deb", "x86_64")


def test_a_package_with_the_pinned_checksum_is_installed_into_the_venv_and_a_rerun_downloads_nothing(
    served_package, tmp_path
):
    server, sha256 = served_package
    package = plugin.PinnedPackage(plugin.pinned_package("deb", "x86_64", server.base_url).url, sha256)
    prefix = tmp_path / "venv"

    link = plugin.install(prefix, package)

    assert link == prefix / "bin" / "session-manager-plugin"
    run = subprocess.run([str(link), "--version"], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == plugin.PLUGIN_VERSION
    assert len(server.requests) == 1
    plugin.install(prefix, package)
    assert len(server.requests) == 1, "the same version installed again downloads nothing"


def test_a_package_whose_checksum_differs_from_the_pin_installs_nothing(served_package, tmp_path):
    server, _ = served_package
    prefix = tmp_path / "venv"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--base-url", server.base_url, "--machine", "x86_64",
         "install", "--prefix", str(prefix)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 1
    assert "checksum mismatch" in run.stderr and "nothing was installed" in run.stderr
    assert len(server.requests) == 1
    assert not (prefix / "bin").exists() and not (prefix / "opt").exists()


def test_a_failed_download_and_an_unknown_machine_are_clear_errors(served_package, tmp_path):
    server, _ = served_package
    output = tmp_path / "plugin.rpm"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--base-url", server.base_url, "--machine", "x86_64",
         "download", "--format", "rpm", "--output", str(output)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 1 and "could not download" in run.stderr and "404" in run.stderr
    assert not output.exists() and not output.with_name("plugin.rpm.partial").exists()
    with pytest.raises(plugin.PluginInstallError, match="no pinned session-manager-plugin package for deb/riscv64"):
        plugin.pinned_package("deb", "riscv64")
