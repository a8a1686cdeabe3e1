"""Make plugins/module_utils importable the way Ansible ships it to a module."""

from __future__ import annotations

import sys

from tests.helpers.playbook import PROJECT_ROOT

for folder in ("plugins/module_utils", "plugins/filter"):
    path = str(PROJECT_ROOT / folder)
    if path not in sys.path:
        sys.path.insert(0, path)
