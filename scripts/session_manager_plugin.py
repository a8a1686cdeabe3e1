#!/usr/bin/env python3
"""Download AWS's session-manager-plugin at a pinned version, verify its SHA-256, install it.

The amazon.aws.aws_ssm connection (inventory/aws.aws_ec2.yml) runs this binary on the controller
for every task on an instance. It is in neither Debian nor PyPI, so `make install TARGET=aws`
fetches AWS's own package from the versioned URL and refuses anything whose checksum differs from
the one pinned here (the only place the version and checksums live; the AWX execution
environment uses this file too).

    scripts/session_manager_plugin.py install --prefix .venv     # controller: .venv/bin/session-manager-plugin
    scripts/session_manager_plugin.py download --format rpm --output /tmp/smp.rpm   # EE build, then dnf install

To move to a new version: change PLUGIN_VERSION and every checksum together, each taken from
`curl -fsSL <url> | sha256sum` for the URL `package_url` prints.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

PLUGIN_VERSION = "1.2.835.0"
DOWNLOAD_BASE_URL = "https://s3.amazonaws.com/session-manager-downloads/plugin"
# (package format, machine) -> (AWS's folder for it, SHA-256 of the package at PLUGIN_VERSION)
PINNED_PACKAGES: dict[tuple[str, str], tuple[str, str]] = {
    ("deb", "x86_64"): ("ubuntu_64bit", "7c6dcad12518571cc7959a713e6a8ae1bdf6ed66fd9bee37dc189e39ca58ae03"),
    ("deb", "aarch64"): ("ubuntu_arm64", "0add94c4c8b6ca63f26e44fd655d662b0f6455a268b5b9ebebee0f462214e928"),
    ("rpm", "x86_64"): ("linux_64bit", "1dcade7435709cce65a05eba87f2a96e8aaf7318c78a21d7a2ae648ce2f2ad81"),
    ("rpm", "aarch64"): ("linux_arm64", "f2b06a6627563bd9af1a5494c750affc72907ced1f982ceacee54d1e3b8c3eb1"),
}
MACHINE_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}
# Where the .deb puts the binary, relative to the extracted tree.
BINARY_IN_PACKAGE = Path("usr/local/sessionmanagerplugin/bin/session-manager-plugin")


class PluginInstallError(Exception):
    """A download, checksum or unpacking step failed; the message says which and what to do."""


@dataclass(frozen=True)
class PinnedPackage:
    url: str
    sha256: str


def pinned_package(package_format: str, machine: str, base_url: str = DOWNLOAD_BASE_URL) -> PinnedPackage:
    """The versioned URL and pinned checksum of the package for this format and machine."""
    machine = MACHINE_ALIASES.get(machine, machine)
    try:
        folder, sha256 = PINNED_PACKAGES[(package_format, machine)]
    except KeyError:
        known = ", ".join(f"{fmt}/{arch}" for fmt, arch in PINNED_PACKAGES)
        raise PluginInstallError(
            f"no pinned session-manager-plugin package for {package_format}/{machine} (pinned: {known}); "
            "install it by hand and set AWS_SESSION_MANAGER_PLUGIN to its path"
        ) from None
    return PinnedPackage(f"{base_url}/{PLUGIN_VERSION}/{folder}/session-manager-plugin.{package_format}", sha256)


def download_verified(url: str, expected_sha256: str, destination: Path, timeout: float = 120) -> None:
    """Download url to destination only if its SHA-256 is the expected one (nothing is left otherwise)."""
    partial = destination.with_name(destination.name + ".partial")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, partial.open("wb") as out:
            while chunk := response.read(1 << 16):
                digest.update(chunk)
                out.write(chunk)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise PluginInstallError(f"could not download {url}: {error}") from error
    if digest.hexdigest() != expected_sha256:
        partial.unlink(missing_ok=True)
        raise PluginInstallError(
            f"checksum mismatch for {url}: got sha256 {digest.hexdigest()}, pinned {expected_sha256}; "
            "nothing was installed (a changed package at a versioned URL is not to be trusted)"
        )
    partial.replace(destination)


def install(prefix: Path, package: PinnedPackage) -> Path:
    """Install the verified .deb's binary under prefix/opt and link it as prefix/bin/session-manager-plugin.

    Unpacks with dpkg-deb (any compression AWS picks) without running maintainer scripts or
    needing root; returns the link. A rerun with the same version changes nothing.
    """
    home = prefix / "opt" / "session-manager-plugin"
    link = prefix / "bin" / "session-manager-plugin"
    marker = home / "VERSION"
    if marker.exists() and marker.read_text().strip() == PLUGIN_VERSION and link.exists():
        return link
    if shutil.which("dpkg-deb") is None:
        raise PluginInstallError("dpkg-deb is needed to unpack AWS's .deb (Debian and Ubuntu have it)")
    with tempfile.TemporaryDirectory(prefix="session-manager-plugin.") as scratch:
        deb = Path(scratch) / "session-manager-plugin.deb"
        download_verified(package.url, package.sha256, deb)
        unpacked = Path(scratch) / "root"
        subprocess.run(["dpkg-deb", "--extract", str(deb), str(unpacked)], check=True)
        if not (unpacked / BINARY_IN_PACKAGE).is_file():
            raise PluginInstallError(f"{package.url} has no {BINARY_IN_PACKAGE}")
        shutil.rmtree(home, ignore_errors=True)
        home.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(unpacked), home)
    marker.write_text(PLUGIN_VERSION + "\n")
    link.parent.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(os.path.relpath(home / BINARY_IN_PACKAGE, link.parent))
    return link


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=DOWNLOAD_BASE_URL, help=argparse.SUPPRESS)  # tests serve 127.0.0.1
    parser.add_argument("--machine", default=platform.machine(), help="x86_64 or aarch64 (default: this one)")
    commands = parser.add_subparsers(dest="command", required=True)
    install_command = commands.add_parser("install", help="install the .deb's binary under a prefix (no root)")
    install_command.add_argument("--prefix", type=Path, required=True, help="the venv: links PREFIX/bin/...")
    download_command = commands.add_parser("download", help="download and verify a package only")
    download_command.add_argument("--format", choices=["deb", "rpm"], required=True)
    download_command.add_argument("--output", type=Path, required=True)
    commands.add_parser("package-url", help="print the pinned .deb's URL and checksum")
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "install":
            link = install(arguments.prefix, pinned_package("deb", arguments.machine, arguments.base_url))
            print(f"session-manager-plugin {PLUGIN_VERSION}: {link}")
        elif arguments.command == "download":
            package = pinned_package(arguments.format, arguments.machine, arguments.base_url)
            download_verified(package.url, package.sha256, arguments.output)
            print(f"verified {package.url} -> {arguments.output}")
        else:
            package = pinned_package("deb", arguments.machine, arguments.base_url)
            print(f"{package.url} {package.sha256}")
    except PluginInstallError as error:
        print(f"session-manager-plugin: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
