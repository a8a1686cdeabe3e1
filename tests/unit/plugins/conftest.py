"""Make plugins/module_utils importable the way Ansible ships it to a module.

Modules import project module_utils as ``ansible.module_utils.<name>``; the tests do the same by
adding the folder to that package's search path (and keep the bare names for older tests).
"""

from __future__ import annotations

import sys

import ansible.module_utils

from tests.helpers.playbook import PROJECT_ROOT

MODULE_UTILS = str(PROJECT_ROOT / "plugins/module_utils")
if MODULE_UTILS not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(MODULE_UTILS)

for folder in ("plugins/module_utils", "plugins/filter"):
    path = str(PROJECT_ROOT / folder)
    if path not in sys.path:
        sys.path.insert(0, path)
