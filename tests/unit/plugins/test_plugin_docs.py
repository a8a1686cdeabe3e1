"""Every plugin documents itself as ansible-doc reads it: DOCUMENTATION, EXAMPLES and RETURN are
YAML (a stray "key: value" in a description breaks `ansible-doc` and ansible-lint's parse)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from tests.helpers.playbook import PROJECT_ROOT

PLUGIN_FILES = sorted(
    path
    for folder in ("plugins/filter", "plugins/modules", "plugins/strategy", "plugins/inventory", "plugins/lookup")
    for path in (PROJECT_ROOT / folder).glob("*.py")
    if path.name != "__init__.py"
)


def doc_blocks(path: Path) -> dict[str, str]:
    tree = ast.parse(path.read_text())
    return {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id in {"DOCUMENTATION", "EXAMPLES", "RETURN"}
        and isinstance(node.value, ast.Constant)
    }


@pytest.mark.parametrize("path", PLUGIN_FILES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_documentation_blocks_are_yaml(path):
    blocks = doc_blocks(path)
    assert "DOCUMENTATION" in blocks, f"{path.name} has no DOCUMENTATION"
    for name, text in blocks.items():
        assert yaml.safe_load(text) is not None, f"{path.name}: {name} is empty"
    assert yaml.safe_load(blocks["DOCUMENTATION"]).get("short_description")
