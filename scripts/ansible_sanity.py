#!/usr/bin/env python3
"""Run ``ansible-test sanity`` on the collection image_delivery.stack, offline.

ansible-test wants the collection at ``.../ansible_collections/image_delivery/stack`` and its
dependencies (amazon.aws, community.aws) beside it, so the repository's files are copied into a
temporary tree of that shape, with links to the collections installed in this venv.

Workaround, in this one place: ansible-test creates each sanity test's venv without pip and
downloads a pip bootstrap script from ci-files.testing.ansible.com, which this machine cannot
reach (ansible/ansible#77304; ansible-test reads the script from its cache when it is there). The
stand-in tests/sanity/get_pip_standin.py goes into that cache: it bootstraps pip with Python's own
ensurepip and installs the pip version asked for from the configured index.

Usage: scripts/ansible_sanity.py [--keep] [ansible-test sanity options]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STANDIN = PROJECT_ROOT / "tests" / "sanity" / "get_pip_standin.py"
# The sanity tests that hold the collection's plugins and metadata; the others check project files
# that are not Ansible content (scripts' shebangs, typographic quotes in the page's text).
TESTS = (
    "action-plugin-docs",
    "ansible-doc",
    "compile",
    "empty-init",
    "line-endings",
    "runtime-metadata",
    "validate-modules",
    "yamllint",
)
# Not content: state, caches, the venv, and the in-place link that makes the root a collection.
LEFT_OUT = {".git", ".venv", ".state", "collections", "node_modules", "__pycache__", ".pytest_cache", ".ruff_cache"}


def ansible_test_pip_version() -> str:
    """The pip version ansible-test bootstraps into its venvs (the cached script is named by it)."""
    from ansible_test._internal import python_requirements

    source = Path(python_requirements.__file__).read_text()
    marker = "pip='"
    start = source.index(marker) + len(marker)
    return source[start : source.index("'", start)]


def install_pip_standin(home: Path) -> Path:
    """Put the stand-in where ansible-test looks for its cached bootstrap script (a real one stays)."""
    cached = home / ".ansible" / "test" / "cache" / f"get_pip_{ansible_test_pip_version().replace('.', '_')}.py"
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(STANDIN, cached)
    return cached


def collection_tree(root: Path) -> Path:
    """The repository as root/ansible_collections/image_delivery/stack, dependencies beside it."""
    collections = root / "ansible_collections"
    target = collections / "image_delivery" / "stack"
    shutil.copytree(PROJECT_ROOT, target, ignore=lambda _folder, names: [n for n in names if n in LEFT_OUT])
    installed = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    for namespace in ("amazon", "community"):
        (collections / namespace).symlink_to(installed / "ansible_collections" / namespace)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary collection tree")
    arguments, extra = parser.parse_known_args()
    install_pip_standin(Path.home())
    root = Path(tempfile.mkdtemp(prefix="ansible-sanity-"))
    try:
        target = collection_tree(root)
        python = f"{sys.version_info.major}.{sys.version_info.minor}"
        command = [str(Path(sys.executable).parent / "ansible-test"), "sanity", "--local", "--python", python]
        command += extra or [argument for test in TESTS for argument in ("--test", test)]
        environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        return subprocess.run(command, cwd=target, env=environment, check=False).returncode
    finally:
        if arguments.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
