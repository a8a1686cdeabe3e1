"""New instances run the instance roles from the release bundle with a bare ansible-core: no
collection is installed there, so these roles may use ansible.builtin only."""

from __future__ import annotations

import re

import pytest

from tests.helpers.playbook import PROJECT_ROOT

MODULE_OR_TEST = re.compile(
    r"^\s*-?\s*([a-z0-9_]+\.[a-z0-9_]+\.[a-z0-9_]+):|\bis\s+([a-z0-9_]+\.[a-z0-9_]+\.[a-z0-9_]+)"
)


@pytest.mark.parametrize("role", ["image_api", "nginx"])
def test_instance_roles_use_ansible_builtin_only(role):
    foreign = []
    for path in sorted((PROJECT_ROOT / "roles" / role).rglob("*.yml")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in MODULE_OR_TEST.finditer(line):
                name = match.group(1) or match.group(2)
                if not name.startswith("ansible.builtin."):
                    foreign.append(f"{path.relative_to(PROJECT_ROOT)}:{number}: {name}")
    assert foreign == []
